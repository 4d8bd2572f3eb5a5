/**
 * Replacing a small file atomically and durably: write NAME.tmp, fsync it, rename it over NAME,
 * fsync the directory. After a crash NAME is either the old or the new content, never a mix;
 * the leftover NAME.tmp of an interrupted attempt is deleted at the next open.
 */
import { join } from 'node:path';
import type { FileSystem } from '../file-system.js';

export async function writeFileDurably(fs: FileSystem, dir: string, name: string, bytes: Uint8Array): Promise<void> {
  const tmp = join(dir, `${name}.tmp`);
  const fd = fs.openSync(tmp, 'w');
  try {
    let off = 0;
    while (off < bytes.length) off += fs.writeSync(fd, bytes, off, bytes.length - off, off);
    await fs.fsync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, join(dir, name));
  await fs.fsyncDir(dir);
}
