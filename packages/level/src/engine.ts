// The slice of @strata-db/engine this adapter uses, named in one place.
import { Database, DATABASE_OPTION_NAMES, rejectMisspeltOptions } from '@strata-db/engine';
import type { DatabaseOptions, DbIterator, Entry, IteratorOptions, KeyLike, ReadOptions, Snapshot, WriteBatch, WriteOptions } from '@strata-db/engine';

export type EngineDatabase = Database;
export type EngineSnapshot = Snapshot;
/** A synchronous cursor over one snapshot: next(), nextv(n), seek(key), close(). */
export type EngineCursor = DbIterator;
/** An atomic group of writes: put, delete, write({ sync }). */
export type EngineBatch = WriteBatch;
export type EngineEntry = Entry;
export type EngineKey = KeyLike;
export type EngineRange = { -readonly [K in keyof IteratorOptions]: IteratorOptions[K] };
export type EngineReadOptions = ReadOptions;
export type EngineWriteOptions = WriteOptions;
export type EngineOpenOptions = DatabaseOptions;

/** `Database.open` of @strata-db/engine. */
export function openEngine(location: string, options: EngineOpenOptions): Promise<EngineDatabase> {
  return Database.open(location, options);
}

/** The names `Database.open` takes. */
export const ENGINE_OPTION_NAMES: readonly string[] = DATABASE_OPTION_NAMES;

export { rejectMisspeltOptions };
