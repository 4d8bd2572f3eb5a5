/**
 * The file layer every package takes as `fs` (docs/contracts.md). Declared here structurally so
 * the testing tools compile on their own; the engine's own declaration has the same shape, and
 * `test/reliability/contract.test.ts` checks that the two stay assignable to each other.
 */
export type OpenFlags = 'r' | 'r+' | 'w' | 'wx' | 'a';

export interface FileSystem {
  openSync(path: string, flags: OpenFlags): number;
  closeSync(fd: number): void;
  readSync(fd: number, buf: Uint8Array, off: number, len: number, position: number): number;
  writeSync(fd: number, buf: Uint8Array, off: number, len: number, position: number | null): number;
  fstatSync(fd: number): { size: number };
  ftruncateSync(fd: number, len: number): void;
  fsync(fd: number): Promise<void>;
  fdatasync(fd: number): Promise<void>;
  fsyncDir(dir: string): Promise<void>;
  readdirSync(dir: string): string[];
  mkdirSync(dir: string, opts: { recursive: true }): void;
  renameSync(from: string, to: string): void;
  unlinkSync(path: string): void;
  existsSync(path: string): boolean;
  readFileSync(path: string): Uint8Array;
}
