import { AbstractChainedBatch } from 'abstract-level';
import type { EngineBatch, EngineKey } from './engine.js';
import { mapEngineError } from './errors.js';
import type { IteratorDatabase } from './iterator.js';

/** Writes a filled engine batch with the options `write()` was given (the database's `sync` check, its errors). */
export type ChainedBatchWriter = (batch: EngineBatch, options: object) => Promise<void>;

/**
 * `db.batch()`, chained: abstract-level's AbstractChainedBatch (it validates, runs the prewrite
 * hook, encodes, prefixes sublevel keys and emits 'write') handing each encoded operation
 * straight to one engine batch, as classic-level's hands them to a LevelDB WriteBatch — instead
 * of abstract-level's default, which keeps every operation in an array of its own and replays
 * them through `_batch` at `write()`.
 *
 * The engine checks (and copies) an operation when it is added; one it refuses (a key over the
 * engine's size limit, say) is reported by `write()`, as before, and the batch writes nothing.
 */
export class StrataChainedBatch<TDatabase extends IteratorDatabase, K, V> extends AbstractChainedBatch<TDatabase, K, V> {
  readonly #batch: EngineBatch;
  readonly #write: ChainedBatchWriter;
  /** The first operation the engine refused since the last clear(): write() rejects with it. */
  #refused: unknown = undefined;

  constructor(db: TDatabase, batch: EngineBatch, write: ChainedBatchWriter) {
    super(db);
    this.#batch = batch;
    this.#write = write;
  }

  _put(key: EngineKey, value: EngineKey): void {
    if (this.#refused !== undefined) return;
    try {
      this.#batch.put(key, value);
    } catch (err) {
      this.#refused = err;
    }
  }

  _del(key: EngineKey): void {
    if (this.#refused !== undefined) return;
    try {
      this.#batch.delete(key);
    } catch (err) {
      this.#refused = err;
    }
  }

  _clear(): void {
    this.#batch.clear();
    this.#refused = undefined;
  }

  async _write(options: object): Promise<void> {
    if (this.#refused !== undefined) throw mapEngineError(this.#refused, this.db.location);
    await this.#write(this.#batch, options);
  }
}
