/**
 * Names of the files in a database directory.
 *
 *   LOCK               held while a Database is open (see lock.ts)
 *   IDENTITY           the database UUID, written once (identity.ts)
 *   CURRENT            one line naming the live manifest, e.g. "MANIFEST-000001\n"
 *   MANIFEST-NNNNNN    version-edit log (manifest/format.ts)
 *   NNNNNN.sst         a table
 *   *.tmp              half-written temporaries; deleted at open
 *   lost/              files Database.repair could not use, set aside (repair.ts)
 * WAL segments are named and managed by @strata-db/wal; the engine never touches them directly.
 *
 * Tables and manifests share one counter (the version set's next file number), as in LevelDB,
 * so a file number identifies one file forever.
 */
import { join } from 'node:path';

export const LOCK_FILE = 'LOCK';
export const IDENTITY_FILE = 'IDENTITY';
export const CURRENT_FILE = 'CURRENT';
export const LOST_DIRECTORY = 'lost';

function pad(n: number): string {
  return String(n).padStart(6, '0');
}

export function manifestFileName(n: number): string {
  return `MANIFEST-${pad(n)}`;
}

export function tableFileName(n: number): string {
  return `${pad(n)}.sst`;
}

export function tablePath(dir: string, n: number): string {
  return join(dir, tableFileName(n));
}

export type ParsedFileName =
  | { readonly kind: 'table'; readonly number: number }
  | { readonly kind: 'manifest'; readonly number: number }
  | { readonly kind: 'temp' }
  | { readonly kind: 'other' };

export function parseFileName(name: string): ParsedFileName {
  let m = /^(\d+)\.sst$/.exec(name);
  if (m) return { kind: 'table', number: Number(m[1]) };
  m = /^MANIFEST-(\d+)$/.exec(name);
  if (m) return { kind: 'manifest', number: Number(m[1]) };
  if (name.endsWith('.tmp')) return { kind: 'temp' };
  return { kind: 'other' };
}
