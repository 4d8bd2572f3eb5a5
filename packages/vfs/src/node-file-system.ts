/**
 * `node:fs` as a `FileSystem`: the file layer of a production database. The only module of
 * Strata that touches the real disk for database files (see file-system.ts).
 */
import * as fs from 'node:fs';
import { NODE_FS_MARK, type FileSystem } from './file-system.js';

function promisify(fn: (fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => void, fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    fn(fd, (err) => {
      if (err) reject(err);
      else resolve();
    });
  });
}

/** `node:fs`, unchanged. Carries `NODE_FS_MARK`: the real disk, recreatable in a worker thread. */
export const nodeFileSystem: FileSystem = {
  [NODE_FS_MARK]: true,
  openSync: (path, flags) => fs.openSync(path, flags),
  closeSync: (fd) => {
    fs.closeSync(fd);
  },
  readSync: (fd, buf, off, len, position) => fs.readSync(fd, buf, off, len, position),
  writeSync: (fd, buf, off, len, position) => fs.writeSync(fd, buf, off, len, position),
  write: (fd, buf, off, len, position) =>
    new Promise((resolve, reject) => {
      fs.write(fd, buf, off, len, position, (err, n) => {
        if (err) reject(err);
        else resolve(n);
      });
    }),
  fstatSync: (fd) => fs.fstatSync(fd),
  ftruncateSync: (fd, len) => {
    fs.ftruncateSync(fd, len);
  },
  fsync: (fd) => promisify(fs.fsync, fd),
  fdatasync: (fd) => promisify(fs.fdatasync, fd),
  fsyncDir: async (dir) => {
    // A directory is fsynced through a read-only descriptor (POSIX allows it; Linux needs it
    // for the entry of a newly created or renamed file to survive power loss).
    const fd = fs.openSync(dir, 'r');
    try {
      await promisify(fs.fsync, fd);
    } finally {
      fs.closeSync(fd);
    }
  },
  readdirSync: (dir) => fs.readdirSync(dir),
  mkdirSync: (dir, opts) => {
    fs.mkdirSync(dir, opts);
  },
  renameSync: (from, to) => {
    fs.renameSync(from, to);
  },
  unlinkSync: (path) => {
    fs.unlinkSync(path);
  },
  unlink: (path) => fs.promises.unlink(path),
  linkSync: (existingPath, newPath) => {
    fs.linkSync(existingPath, newPath);
  },
  rmdirSync: (dir) => {
    fs.rmdirSync(dir);
  },
  existsSync: (path) => fs.existsSync(path),
  readFileSync: (path) => fs.readFileSync(path),
};
