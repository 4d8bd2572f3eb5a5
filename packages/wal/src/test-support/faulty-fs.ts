/**
 * A fault-injecting wrapper around any WalFileSystem. It counts the calls of each kind and makes
 * the k-th one (1-based) throw a Node-style error (`EIO`, `ENOSPC`, …), once or — `persistent` —
 * on that call and every later call of that kind, as a dying disk does.
 *
 * A faulted write may first write part of its bytes (`partial`), as a real short write followed by
 * an error can leave them.
 */
import type { WalFileSystem } from '../file-system.js';

export type FaultKind = 'open' | 'write' | 'fsync' | 'fdatasync' | 'fsyncDir' | 'close' | 'unlink' | 'truncate' | 'read';

export interface Fault {
  readonly kind: FaultKind;
  /** Fail the k-th call of this kind (1-based), counted from when the fault is armed. */
  readonly at: number;
  readonly code?: 'EIO' | 'ENOSPC' | 'EROFS';
  readonly persistent?: boolean;
  /** For writes: how many bytes reach the file before the error. */
  readonly partial?: number;
}

export class FaultyFileSystem implements WalFileSystem {
  readonly inner: WalFileSystem;
  readonly calls: Record<FaultKind, number> = { open: 0, write: 0, fsync: 0, fdatasync: 0, fsyncDir: 0, close: 0, unlink: 0, truncate: 0, read: 0 };
  #fault: (Fault & { readonly base: number }) | undefined;
  /** Calls of every kind so far; with `dieAfter`, the process "dies" after that many. */
  operations = 0;
  #dieAfter = Infinity;
  /** How many calls failed. */
  injected = 0;

  constructor(inner: WalFileSystem) {
    this.inner = inner;
  }

  /** Arms a fault counted from now. */
  arm(fault: Fault): void {
    this.#fault = { ...fault, base: this.calls[fault.kind] };
  }

  disarm(): void {
    this.#fault = undefined;
    this.#dieAfter = Infinity;
  }

  /**
   * Lets `n` more file operations through, then fails every one after (EIO): the process is as
   * good as dead, and a test then cuts the power on the layer underneath.
   */
  dieAfter(n: number): void {
    this.#dieAfter = this.operations + n;
  }

  #check(kind: FaultKind): NodeJS.ErrnoException | undefined {
    if (++this.operations > this.#dieAfter) {
      this.injected++;
      return Object.assign(new Error(`EIO: the process died before ${kind}`), { code: 'EIO' });
    }
    const n = ++this.calls[kind];
    const f = this.#fault;
    if (f?.kind !== kind) return undefined;
    const k = n - f.base;
    if (k === f.at || (f.persistent === true && k > f.at)) {
      this.injected++;
      const code = f.code ?? 'EIO';
      return Object.assign(new Error(`${code}: injected fault on ${kind} call ${n}`), { code });
    }
    return undefined;
  }

  openSync(path: string, flags: 'r' | 'r+' | 'w' | 'wx' | 'a'): number {
    const err = this.#check('open');
    if (err) throw err;
    return this.inner.openSync(path, flags);
  }

  closeSync(fd: number): void {
    const err = this.#check('close');
    this.inner.closeSync(fd); // the descriptor is gone either way, as with close(2)
    if (err) throw err;
  }

  writeSync(fd: number, buf: Uint8Array, off: number, len: number, position: number | null): number {
    const err = this.#check('write');
    if (err) {
      const partial = Math.min(this.#fault?.partial ?? 0, len);
      if (partial > 0) this.inner.writeSync(fd, buf, off, partial, position);
      throw err;
    }
    return this.inner.writeSync(fd, buf, off, len, position);
  }

  ftruncateSync(fd: number, len: number): void {
    const err = this.#check('truncate');
    if (err) throw err;
    this.inner.ftruncateSync(fd, len);
  }

  fsync(fd: number): Promise<void> {
    const err = this.#check('fsync');
    return err ? Promise.reject(err) : this.inner.fsync(fd);
  }

  fdatasync(fd: number): Promise<void> {
    const err = this.#check('fdatasync');
    return err ? Promise.reject(err) : this.inner.fdatasync(fd);
  }

  fsyncDir(dir: string): Promise<void> {
    const err = this.#check('fsyncDir');
    return err ? Promise.reject(err) : this.inner.fsyncDir(dir);
  }

  readdirSync(dir: string): string[] {
    return this.inner.readdirSync(dir);
  }

  unlinkSync(path: string): void {
    const err = this.#check('unlink');
    if (err) throw err;
    this.inner.unlinkSync(path);
  }

  existsSync(path: string): boolean {
    return this.inner.existsSync(path);
  }

  readFileSync(path: string): Uint8Array {
    const err = this.#check('read');
    if (err) throw err;
    return this.inner.readFileSync(path);
  }
}
