// An in-memory stand-in for @strata-db/engine with the API the adapter uses, to develop the
// adapter before the engine slice lands. Immutable sorted arrays: a snapshot is an array.
import { Buffer } from 'node:buffer';
import type { EngineBatch, EngineCursor, EngineDatabase, EngineEntry, EngineKey, EngineOpenOptions, EngineRange, EngineReadOptions, EngineSnapshot } from '../../src/engine.js';

class FakeError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

type Entries = readonly (readonly [Buffer, Buffer])[];

interface Store {
  entries: Entries;
  locked: boolean;
}

const stores = new Map<string, Store>();

const bytes = (k: EngineKey): Buffer => (typeof k === 'string' ? Buffer.from(k, 'utf8') : Buffer.from(k));

function lowerIndex(entries: Entries, key: Buffer): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (Buffer.compare(entries[mid]![0], key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

class FakeSnapshot implements EngineSnapshot {
  released = false;
  constructor(readonly entries: Entries) {}
  release(): void {
    this.released = true;
  }
}

class FakeCursor implements EngineCursor {
  #pos: number;
  readonly #lo: number;
  readonly #hi: number; // exclusive
  readonly #reverse: boolean;
  #closed = false;

  constructor(
    readonly entries: Entries,
    range: EngineRange,
  ) {
    let lo = 0;
    let hi = entries.length;
    if (range.gte !== undefined) lo = lowerIndex(entries, bytes(range.gte));
    else if (range.gt !== undefined) {
      const k = bytes(range.gt);
      lo = lowerIndex(entries, k);
      if (lo < entries.length && entries[lo]![0].equals(k)) lo++;
    }
    if (range.lt !== undefined) hi = lowerIndex(entries, bytes(range.lt));
    else if (range.lte !== undefined) {
      const k = bytes(range.lte);
      hi = lowerIndex(entries, k);
      if (hi < entries.length && entries[hi]![0].equals(k)) hi++;
    }
    this.#lo = lo;
    this.#hi = Math.max(lo, hi);
    this.#reverse = range.reverse === true;
    this.#pos = this.#reverse ? this.#hi - 1 : this.#lo;
  }

  next(): EngineEntry | undefined {
    if (this.#closed) throw new FakeError('INVALID_ARGUMENT', 'cursor closed');
    if (this.#pos < this.#lo || this.#pos >= this.#hi) return undefined;
    const e = this.entries[this.#pos]!;
    this.#pos += this.#reverse ? -1 : 1;
    return [e[0], e[1]];
  }

  nextv(size: number): EngineEntry[] {
    const out: EngineEntry[] = [];
    while (out.length < size) {
      const e = this.next();
      if (e === undefined) break;
      out.push(e);
    }
    return out;
  }

  seek(key: EngineKey): void {
    const k = bytes(key);
    let i = lowerIndex(this.entries, k);
    if (this.#reverse) {
      if (i < this.entries.length && this.entries[i]![0].equals(k)) i++;
      this.#pos = Math.min(i, this.#hi) - 1;
    } else {
      this.#pos = Math.max(i, this.#lo);
    }
  }

  close(): void {
    this.#closed = true;
  }
}

class FakeDatabase implements EngineDatabase {
  #open = true;
  constructor(
    readonly store: Store,
    readonly path: string,
  ) {}

  #check(): void {
    if (!this.#open) throw new FakeError('NOT_OPEN', 'closed');
  }

  #entries(options?: EngineReadOptions): Entries {
    const s = options?.snapshot as FakeSnapshot | undefined;
    if (s?.released === true) throw new FakeError('INVALID_ARGUMENT', 'snapshot released');
    return s?.entries ?? this.store.entries;
  }

  apply(ops: ({ type: 'put'; key: Buffer; value: Buffer } | { type: 'del'; key: Buffer } | { type: 'range'; start: Buffer; end: Buffer })[]): void {
    const next = this.store.entries.slice();
    for (const op of ops) {
      if (op.type === 'range') {
        const a = lowerIndex(next, op.start);
        const b = lowerIndex(next, op.end);
        if (b > a) next.splice(a, b - a);
        continue;
      }
      const i = lowerIndex(next, op.key);
      const hit = i < next.length && next[i]![0].equals(op.key);
      if (op.type === 'put') next.splice(i, hit ? 1 : 0, [op.key, op.value]);
      else if (hit) next.splice(i, 1);
    }
    this.store.entries = next;
  }

  async get(key: EngineKey, options?: EngineReadOptions): Promise<Uint8Array | undefined> {
    await Promise.resolve();
    return this.getSync(key, options);
  }

  getSync(key: EngineKey, options?: EngineReadOptions): Uint8Array | undefined {
    this.#check();
    const entries = this.#entries(options);
    const k = bytes(key);
    const i = lowerIndex(entries, k);
    return i < entries.length && entries[i]![0].equals(k) ? entries[i]![1] : undefined;
  }

  async put(key: EngineKey, value: EngineKey): Promise<void> {
    this.#check();
    this.apply([{ type: 'put', key: bytes(key), value: bytes(value) }]);
    await Promise.resolve();
  }

  async delete(key: EngineKey): Promise<void> {
    this.#check();
    this.apply([{ type: 'del', key: bytes(key) }]);
    await Promise.resolve();
  }

  async deleteRange(start: EngineKey, end: EngineKey): Promise<void> {
    this.#check();
    rangeDeletes.push([bytes(start), bytes(end)]);
    this.apply([{ type: 'range', start: bytes(start), end: bytes(end) }]);
    await Promise.resolve();
  }

  batch(): EngineBatch {
    const ops: Parameters<FakeDatabase['apply']>[0] = [];
    const batch: EngineBatch = {
      put: (k, v) => (ops.push({ type: 'put', key: bytes(k), value: bytes(v) }), batch),
      delete: (k) => (ops.push({ type: 'del', key: bytes(k) }), batch),
      deleteRange: (s, e) => (ops.push({ type: 'range', start: bytes(s), end: bytes(e) }), batch),
      write: async () => {
        this.#check();
        this.apply(ops);
        await Promise.resolve();
      },
    };
    return batch;
  }

  snapshot(): EngineSnapshot {
    this.#check();
    return new FakeSnapshot(this.store.entries);
  }

  iterator(options?: EngineRange): EngineCursor {
    this.#check();
    return new FakeCursor(this.#entries(options), options ?? {});
  }

  async close(): Promise<void> {
    this.#open = false;
    this.store.locked = false;
    await Promise.resolve();
  }
}

/** Every deleteRange the fake engine received, for tests of clear(). */
export const rangeDeletes: [Buffer, Buffer][] = [];

export async function openFake(path: string, options: EngineOpenOptions): Promise<EngineDatabase> {
  await Promise.resolve();
  let store = stores.get(path);
  if (store === undefined) {
    if (options.createIfMissing === false) throw new FakeError('NOT_FOUND', `${path} not found`);
    store = { entries: [], locked: false };
    stores.set(path, store);
  } else if (options.errorIfExists === true) {
    throw new FakeError('EXISTS', `${path} is there already`);
  }
  if (store.locked) throw new FakeError('LOCKED', `${path} LOCK held`);
  store.locked = true;
  return new FakeDatabase(store, path);
}
