/**
 * The memory of released memtables, kept for the next ones.
 *
 * Why: a memtable's memory is a few large buffers (arena chunks, the skiplist's entry arrays,
 * the key index), and an engine makes memtables of the same size one after another. Building
 * each from fresh buffers made every flushed memtable garbage — and since those buffers are
 * SharedArrayBuffers, which V8 (Node 20) leaves out of its external-memory accounting, garbage
 * that no collection is scheduled for: a 1M-key fill with flushes on a worker thread held
 * ~200 MB of dead memtables. Handing a released memtable's buffers to the next one instead
 * makes the steady state allocate nothing.
 *
 * Who gives and takes: a memtable made with `{ memory }` gives its buffers back here when its
 * last pin is released (`MemtableReader.release`) — only then, because that is the moment
 * no reader of it is left (see the invariant at `release`). `new Memtable({ memory })` takes
 * them. At most `maxHeld` sets are kept; more are dropped to the garbage collector, so this
 * holds at most `maxHeld` memtables' worth of memory.
 *
 * Buffers are reused as they are: the arena's chunks keep their old bytes (only bytes written
 * by the new memtable are ever read), the arrays are zeroed by the taker.
 */

/** One released memtable's buffers (shared memory, as the memtable allocated it). */
export interface ReleasedBuffers {
  readonly hot: Int32Array;
  readonly nodes: Int32Array;
  readonly towers: Int32Array;
  readonly indexSlots: Int32Array;
  /** Arena chunks in allocation order (a chunk is a Buffer over its own SharedArrayBuffer). */
  readonly chunks: readonly Buffer[];
}

export class MemtableMemory {
  private readonly held: ReleasedBuffers[] = [];
  /** Bytes held for reuse. */
  private heldBytes = 0;
  /** Memtables started on released buffers (each took one set). */
  reused = 0;
  /** Released sets dropped because `maxHeld` were already kept. */
  dropped = 0;

  /** `maxHeld`: released memtables kept at most (1 suffices when one memtable is freed per one made). */
  constructor(readonly maxHeld = 1) {}

  /** Bytes held for reuse now. */
  get bytes(): number {
    return this.heldBytes;
  }

  /** A released memtable's buffers (the caller now owns them), or undefined. */
  take(): ReleasedBuffers | undefined {
    const b = this.held.pop();
    if (b === undefined) return undefined;
    this.heldBytes -= bytesOf(b);
    this.reused++;
    return b;
  }

  /**
   * Drops what is held (to the garbage collector): the engine calls this when its background
   * work has gone idle, so a database that stopped writing does not keep up to `maxHeld`
   * memtables' memory for writes that may never come. The next memtables allocate afresh.
   */
  clear(): void {
    this.held.length = 0;
    this.heldBytes = 0;
  }

  /** Buffers of a memtable no reader can see any more (their last pin was released). */
  give(buffers: ReleasedBuffers): void {
    if (this.held.length >= this.maxHeld) {
      this.dropped++;
      return;
    }
    this.held.push(buffers);
    this.heldBytes += bytesOf(buffers);
  }
}

function bytesOf(b: ReleasedBuffers): number {
  let n = b.hot.byteLength + b.nodes.byteLength + b.towers.byteLength + b.indexSlots.byteLength;
  for (const c of b.chunks) n += c.byteLength;
  return n;
}
