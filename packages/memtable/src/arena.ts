/**
 * Append-only byte storage for the keys and values a memtable holds.
 *
 * Why copy at all: a memtable must not change when the caller later reuses its buffers, and
 * one `Uint8Array` object per key and per value would cost far more heap than the bytes
 * themselves (each typed array is ~70–100 bytes of object plus a backing-store record). The
 * arena instead bump-allocates copies into a few large chunks.
 *
 * Invariant relied on by every reader: bytes, once written, are never moved or overwritten
 * while the memtable is pinned (memtable-reader.ts, `release`). So a view handed out over arena
 * bytes (a `PointEntry`'s key or value) stays valid and unchanged for as long as its reader
 * holds a pin; once the last pin is released the chunks may be handed to a new memtable
 * (memtable-memory.ts), which overwrites them. Users of the engine only ever see copies.
 *
 * Chunks are `SharedArrayBuffer`s unless the memtable is made with `shared: false`
 * (shared-memory.ts): a frozen memtable is handed to another thread (the engine's background
 * flush) without copying a byte (see `SharedMemtableImage`). Accessing
 * shared memory with plain loads and stores costs the same as ordinary memory; the bytes a
 * reader in another thread sees are only ever written before the memtable was frozen, and the
 * hand-over (`postMessage`) orders those writes before the reader's loads.
 */
import { allocateBuffer } from './shared-memory.js';

/** First chunk is small so that the many short-lived memtables of tests stay cheap. */
const FIRST_CHUNK_BYTES = 4096;
/** Chunks double up to this size; past it every regular chunk has this size. */
const MAX_CHUNK_BYTES = 1 << 20;

/**
 * An empty array that V8 already holds as an array of objects. An empty literal is an array of
 * small integers to V8, changed to one of objects by its first push: `reserve`, inlined into the
 * skiplist's insert, met the arrays of each new arena in both states (`chunks` before its first
 * chunk, `spare` empty or a released memtable's chunks) and was deoptimized and compiled again
 * 5–7 times in a 1M fill of a fresh process (`--trace-deopt`: "wrong map", "not a Smi"). The
 * same idiom as the WAL queue's `emptyObjectArray` (@strata-db/wal, writer.ts): the two packages
 * share nothing below them but errors, which is no home for it.
 */
function bufferArray(): Buffer[] {
  const array: Buffer[] = [undefined as unknown as Buffer];
  array.length = 0;
  return array;
}

export class ByteArena {
  /**
   * Every chunk, in allocation order; a chunk's index is how nodes refer to it. Buffers (each
   * over its own SharedArrayBuffer, byteOffset 0) so that long keys can use the native `compare`.
   */
  readonly chunks: Buffer[];
  /** Index of the chunk that `reserve` bumps into; -1 before the first allocation. */
  private current = -1;
  private position = 0;
  private nextChunkBytes = FIRST_CHUNK_BYTES;
  /** Chunk of the most recent `reserve`. */
  lastChunk = -1;
  /** Bytes handed out by `reserve` (the raw payload, without chunk slack). */
  bytesUsed = 0;
  /** Bytes of every chunk allocated (payload plus the unused tail of each chunk). */
  bytesAllocated = 0;

  /**
   * Chunks of a released memtable (memtable-memory.ts), used in this order before anything is
   * allocated; their old bytes are overwritten as they are reserved, never read.
   */
  private readonly spare: Buffer[];

  /**
   * An empty arena, or (given the chunks of another arena, e.g. from another thread) a read-only
   * view of them. An empty arena may be given `spare` chunks to fill first, and the size of its
   * first chunk of its own (`firstChunkBytes`, a power of two; default 4 KiB). `shared`: whether
   * the chunks it allocates are SharedArrayBuffers (shared-memory.ts).
   */
  constructor(chunks: readonly Uint8Array[] = [], bytesUsed = 0, spare: readonly Buffer[] = [], firstChunkBytes = FIRST_CHUNK_BYTES, private readonly shared = true) {
    this.chunks = bufferArray();
    for (const c of chunks) {
      this.chunks.push(Buffer.from(c.buffer, c.byteOffset, c.byteLength));
      this.bytesAllocated += c.byteLength;
    }
    this.bytesUsed = bytesUsed;
    this.spare = bufferArray();
    for (let i = spare.length - 1; i >= 0; i--) this.spare.push(spare[i]!); // popped from the end: allocation order
    this.nextChunkBytes = Math.max(FIRST_CHUNK_BYTES, Math.min(MAX_CHUNK_BYTES, firstChunkBytes));
  }

  /** Every chunk, spare ones included, for the next memtable; the arena is unusable afterwards. */
  surrender(): Buffer[] {
    const all = this.chunks.concat(this.spare.reverse());
    this.chunks.length = 0;
    this.spare.length = 0;
    this.current = -1;
    return all;
  }

  /**
   * Reserves `n` contiguous bytes and returns their offset inside chunk `this.lastChunk`.
   * A large request (more than a quarter of a regular chunk) gets a chunk of its own, so it
   * neither wastes the rest of the current chunk nor forces a partly used one to be abandoned.
   */
  reserve(n: number): number {
    this.bytesUsed += n;
    if (this.current >= 0 && this.position + n <= this.chunks[this.current]!.length) {
      const at = this.position;
      this.position += n;
      this.lastChunk = this.current;
      return at;
    }
    if (n > MAX_CHUNK_BYTES / 4) {
      this.lastChunk = this.allocate(n);
      return 0;
    }
    const spare = this.spare;
    if (spare.length > 0 && spare[spare.length - 1]!.length >= n) {
      const chunk = spare.pop()!;
      this.chunks.push(chunk);
      this.bytesAllocated += chunk.length;
      this.current = this.chunks.length - 1;
      this.position = n;
      this.lastChunk = this.current;
      return 0;
    }
    let size = this.nextChunkBytes;
    while (size < n) size *= 2;
    this.nextChunkBytes = Math.min(MAX_CHUNK_BYTES, size * 2);
    this.current = this.allocate(size);
    this.position = n;
    this.lastChunk = this.current;
    return 0;
  }

  private allocate(size: number): number {
    this.chunks.push(Buffer.from(allocateBuffer(size, this.shared)));
    this.bytesAllocated += size;
    return this.chunks.length - 1;
  }
}
