/**
 * IDENTITY: the database UUID, written once when the database is created.
 *
 * Format: the UUID in its 36-character text form followed by "\n" (37 bytes, ASCII). It is
 * written to IDENTITY.tmp, fsynced, renamed into place and the directory fsynced, so it is
 * either absent or whole. WAL segments carry the same UUID: a segment copied in from another
 * database is rejected (FOREIGN_FILE) instead of being replayed into this one.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { StrataError } from '../errors.js';
import type { FileSystem } from '@strata-db/vfs';
import { IDENTITY_FILE } from './filenames.js';
import { writeFileDurably } from './durable-file.js';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function readIdentity(fs: FileSystem, dir: string): string | undefined {
  const path = join(dir, IDENTITY_FILE);
  if (!fs.existsSync(path)) return undefined;
  const text = Buffer.from(fs.readFileSync(path)).toString('latin1').trim();
  if (!UUID_RE.test(text)) {
    throw new StrataError('CORRUPTION', `${path} does not hold a UUID; restore it from a backup`, { file: path, offset: 0 });
  }
  return text.toLowerCase();
}

export async function createIdentity(fs: FileSystem, dir: string): Promise<string> {
  const uuid = randomUUID();
  await writeFileDurably(fs, dir, IDENTITY_FILE, Buffer.from(uuid + '\n', 'latin1'));
  return uuid;
}
