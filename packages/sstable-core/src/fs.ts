/**
 * The part of the shared file layer (docs/contracts.md, "File layer") that tables use, declared
 * structurally so the engine's fault-injecting layer fits without an import. Reads are
 * synchronous positioned reads (the engine's getSync needs them); only fsync is asynchronous.
 */
import * as nodeFs from 'node:fs';

export interface TableFileSystem {
  openSync(path: string, flags: 'r' | 'r+' | 'w' | 'wx' | 'a'): number;
  closeSync(fd: number): void;
  readSync(fd: number, buf: Uint8Array, off: number, len: number, position: number): number;
  writeSync(fd: number, buf: Uint8Array, off: number, len: number, position: number | null): number;
  fstatSync(fd: number): { size: number };
  fsync(fd: number): Promise<void>;
  unlinkSync(path: string): void;
}

/** The production layer: a thin object over node:fs. */
export const nodeFileSystem: TableFileSystem = {
  openSync: (path, flags) => nodeFs.openSync(path, flags),
  closeSync: (fd) => {
    nodeFs.closeSync(fd);
  },
  readSync: (fd, buf, off, len, position) => nodeFs.readSync(fd, buf, off, len, position),
  writeSync: (fd, buf, off, len, position) => nodeFs.writeSync(fd, buf, off, len, position),
  fstatSync: (fd) => nodeFs.fstatSync(fd),
  fsync: (fd) =>
    new Promise<void>((resolve, reject) => {
      nodeFs.fsync(fd, (err) => {
        if (err) reject(err);
        else resolve();
      });
    }),
  unlinkSync: (path) => {
    nodeFs.unlinkSync(path);
  },
};
