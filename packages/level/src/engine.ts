// The slice of the @strata-db/engine API this adapter uses, in one place, so that the rest of
// the adapter does not care how the engine spells it.
export type EngineKey = Uint8Array | string;
export type EngineEntry = [Uint8Array, Uint8Array];

export interface EngineSnapshot {
  release(): void;
}

export interface EngineReadOptions {
  snapshot?: EngineSnapshot;
}

export interface EngineWriteOptions {
  sync?: boolean;
}

export interface EngineRange {
  gt?: EngineKey;
  gte?: EngineKey;
  lt?: EngineKey;
  lte?: EngineKey;
  reverse?: boolean;
  limit?: number;
  snapshot?: EngineSnapshot;
}

/** A synchronous cursor over one snapshot. */
export interface EngineCursor {
  next(): EngineEntry | undefined;
  nextv(size: number): EngineEntry[];
  seek(key: EngineKey): void;
  close(): void;
}

export interface EngineBatch {
  put(key: EngineKey, value: EngineKey): unknown;
  delete(key: EngineKey): unknown;
  deleteRange(start: EngineKey, end: EngineKey): unknown;
  write(options?: EngineWriteOptions): Promise<unknown>;
}

export interface EngineDatabase {
  get(key: EngineKey, options?: EngineReadOptions): Promise<Uint8Array | undefined>;
  getSync(key: EngineKey, options?: EngineReadOptions): Uint8Array | undefined;
  put(key: EngineKey, value: EngineKey, options?: EngineWriteOptions): Promise<unknown>;
  delete(key: EngineKey, options?: EngineWriteOptions): Promise<unknown>;
  deleteRange(start: EngineKey, end: EngineKey, options?: EngineWriteOptions): Promise<unknown>;
  batch(): EngineBatch;
  snapshot(): EngineSnapshot;
  iterator(options?: EngineRange): EngineCursor;
  close(): Promise<unknown>;
}

/** Options handed to the engine's `Database.open`: `createIfMissing`, `errorIfExists` and any engine option. */
export type EngineOpenOptions = Record<string, unknown>;

export type EngineOpener = (location: string, options: EngineOpenOptions) => Promise<EngineDatabase>;

import * as engineModule from '@strata-db/engine';

/** `Database.open` of @strata-db/engine. */
export const openEngine: EngineOpener = (location, options) => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return -- TEMPORARY until the engine lands
  return (engineModule as any).Database.open(location, options);
};
