// An in-memory TableFileSystem, so corruption tests can damage thousands of tables quickly.
import type { TableFileSystem } from '@strata-db/sstable-core';

export class MemoryFs implements TableFileSystem {
  readonly files = new Map<string, Uint8Array>();
  private readonly fds = new Map<number, string>();
  private nextFd = 3;

  openSync(path: string, flags: 'r' | 'r+' | 'w' | 'wx' | 'a'): number {
    if (flags === 'w') this.files.set(path, new Uint8Array(0));
    else if (!this.files.has(path)) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
    const fd = this.nextFd++;
    this.fds.set(fd, path);
    return fd;
  }
  closeSync(fd: number): void {
    if (!this.fds.delete(fd)) throw Object.assign(new Error('EBADF'), { code: 'EBADF' });
  }
  readSync(fd: number, buf: Uint8Array, off: number, len: number, position: number): number {
    const data = this.file(fd);
    const n = Math.max(0, Math.min(len, data.length - position));
    buf.set(data.subarray(position, position + n), off);
    return n;
  }
  writeSync(fd: number, buf: Uint8Array, off: number, len: number, position: number | null): number {
    const path = this.fds.get(fd)!;
    let data = this.file(fd);
    const at = position ?? data.length;
    if (at + len > data.length) {
      const bigger = new Uint8Array(at + len);
      bigger.set(data);
      data = bigger;
    }
    data.set(buf.subarray(off, off + len), at);
    this.files.set(path, data);
    return len;
  }
  fstatSync(fd: number): { size: number } {
    return { size: this.file(fd).length };
  }
  fsync(_fd: number): Promise<void> {
    return Promise.resolve();
  }
  unlinkSync(path: string): void {
    this.files.delete(path);
  }
  private file(fd: number): Uint8Array {
    const path = this.fds.get(fd);
    if (path === undefined) throw Object.assign(new Error('EBADF'), { code: 'EBADF' });
    return this.files.get(path)!;
  }
}
