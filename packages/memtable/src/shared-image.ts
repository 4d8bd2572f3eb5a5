/**
 * A frozen memtable handed to another thread without copying its data.
 *
 * The point skiplist — its entry records, towers, key index and arena chunks — lives in
 * SharedArrayBuffers (skiplist.ts, arena.ts, key-index.ts). The image carries those typed
 * arrays plus the list's bookkeeping; `postMessage` shares the buffers rather than copying
 * them. Range tombstones are few and live in ordinary objects: they ARE copied (structured
 * clone), in arrival order, and re-added on the other side.
 *
 * Why this is safe without locks: an image is taken only of a FROZEN memtable, which never
 * changes again (no insert, so no array is replaced or written). The sender's writes all
 * happened before `postMessage`, which orders them before anything the receiver reads.
 * The receiver only reads. The sender must keep the memtable (it does: a frozen memtable
 * stays readable until its flush is installed); the memory itself stays alive as long as
 * either side holds it.
 */
import type { SkiplistImage } from './skiplist.js';
import type { RangeTombstone } from './types.js';

/** Structured-cloneable; see the file header. Obtain with `FrozenMemtable.image()`. */
export interface SharedMemtableImage {
  readonly points: SkiplistImage;
  /** Every range tombstone in arrival (seq ASC) order. */
  readonly tombstones: readonly RangeTombstone[];
  readonly maxLsn: number;
}
