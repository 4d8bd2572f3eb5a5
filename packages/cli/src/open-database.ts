/**
 * How commands open a database. Commands that only look use the engine's read-only open: no
 * write lock, nothing written, so they work on a database another process has open for writing.
 * Commands that write take the lock; if another process holds it, the engine's LOCKED message
 * names that process.
 */
import { Database } from '@strata-db/engine';
import { UsageError } from './errors.js';

export interface DbOptions {
  readonly db?: string;
}

export function dbPath(opts: DbOptions): string {
  const dir = opts.db ?? process.env['STRATA_DB'];
  if (dir === undefined || dir === '') throw new UsageError('which database? give --db <dir> (or set STRATA_DB)');
  return dir;
}

export function openForReading(dir: string): Promise<Database> {
  return Database.open(dir, { readOnly: true });
}

export function openForWriting(dir: string, create: boolean): Promise<Database> {
  return Database.open(dir, { createIfMissing: create });
}

/** Runs `fn` on an open database and closes it, keeping the first error. */
export async function withDatabase<T>(open: Promise<Database>, fn: (db: Database) => Promise<T> | T): Promise<T> {
  const db = await open;
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}
