// A TableFileSystem over node:fs that records calls and can fail chosen ones (fault injection).
import { nodeFileSystem, type TableFileSystem } from '@strata-db/sstable-core';

export type Call = { op: 'open' | 'close' | 'fsync' | 'unlink'; fd?: number } | { op: 'write'; fd: number; len: number; position: number | null };

export class RecordingFs implements TableFileSystem {
  readonly calls: Call[] = [];
  /** Throw this error (once) from the n-th write (0-based). */
  failWrite: { at: number; code: string } | undefined;
  failFsync: string | undefined;
  private writes = 0;

  openSync(path: string, flags: 'r' | 'r+' | 'w' | 'wx' | 'a'): number {
    const fd = nodeFileSystem.openSync(path, flags);
    this.calls.push({ op: 'open', fd });
    return fd;
  }
  closeSync(fd: number): void {
    this.calls.push({ op: 'close', fd });
    nodeFileSystem.closeSync(fd);
  }
  readSync(fd: number, buf: Uint8Array, off: number, len: number, position: number): number {
    return nodeFileSystem.readSync(fd, buf, off, len, position);
  }
  writeSync(fd: number, buf: Uint8Array, off: number, len: number, position: number | null): number {
    if (this.failWrite?.at === this.writes++) throw Object.assign(new Error(`${this.failWrite.code}: injected`), { code: this.failWrite.code });
    this.calls.push({ op: 'write', fd, len, position });
    return nodeFileSystem.writeSync(fd, buf, off, len, position);
  }
  fstatSync(fd: number): { size: number } {
    return nodeFileSystem.fstatSync(fd);
  }
  async fsync(fd: number): Promise<void> {
    this.calls.push({ op: 'fsync', fd });
    if (this.failFsync !== undefined) throw Object.assign(new Error(`${this.failFsync}: injected`), { code: this.failFsync });
    return nodeFileSystem.fsync(fd);
  }
  unlinkSync(path: string): void {
    this.calls.push({ op: 'unlink' });
    nodeFileSystem.unlinkSync(path);
  }
}
