/**
 * Replacing a small file atomically and durably: write NAME.tmp, fsync it, rename it over NAME,
 * fsync the directory. After a crash NAME is either the old or the new content, never a mix;
 * the leftover NAME.tmp of an interrupted attempt is deleted at the next open.
 */
import { join } from 'node:path';
import { writeAll, type FileSystem } from '@strata-db/vfs';

export async function writeFileDurably(fs: FileSystem, dir: string, name: string, bytes: Uint8Array): Promise<void> {
  const tmp = join(dir, `${name}.tmp`);
  const fd = fs.openSync(tmp, 'w');
  try {
    writeAll(fs, fd, bytes, 0, tmp);
    await fs.fsync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, join(dir, name));
  await fs.fsyncDir(dir);
}
