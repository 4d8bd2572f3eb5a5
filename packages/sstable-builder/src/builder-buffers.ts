/**
 * The memory a TableBuilder writes through — its write buffer (~320 KiB), its data and index
 * block builders, its bloom filter's key hashes — handed from one finished table to the next
 * table built on the same thread, instead of allocated afresh for every table.
 *
 * Why: a compaction writes one table per 2 MiB of output, and each fresh set was ~600 KiB of
 * ArrayBuffers (the hash array and the index block grow by doubling) that died a table later.
 * In a background worker, whose paced collector runs a full collection for every few MiB of
 * ArrayBuffers (engine, garbage-pace.ts), those sets were most of what the collector ran for:
 * a 1.5M-entry L0→L1 merge made 13 full collections (~9 ms each), ~7% of the worker's CPU.
 *
 * A set goes back when its table's last byte is written (before the fsync: nothing refers to the
 * buffers once the writes returned) and is reset then, so a set taken is as a new one: the bytes
 * of a table do not depend on which set built it. At most POOLED sets wait here per thread — one
 * per table being built at once (a compaction builds one at a time; a worker interleaves a
 * flush) — so the pool holds at most ~2 × 600 KiB idle.
 */
import { BlockBuilder, BloomFilterBuilder, ByteWriter } from '@strata-db/sstable-core';

/** Idle sets kept per thread. */
const POOLED = 2;

export interface BuilderBuffers {
  /** Entries between restart points of `dataBlock`, and the filter's bits per key (0: no filter): the set fits only builders with the same. */
  readonly restartInterval: number;
  readonly bloomBitsPerKey: number;
  readonly out: ByteWriter;
  readonly dataBlock: BlockBuilder;
  readonly indexBlock: BlockBuilder;
  readonly filter: BloomFilterBuilder | undefined;
}

const pool: BuilderBuffers[] = [];

/** An empty set for a builder with these settings: a pooled one that fits, else a new one. */
export function takeBuilderBuffers(restartInterval: number, bloomBitsPerKey: number, writeBufferBytes: number, blockSize: number): BuilderBuffers {
  for (let i = pool.length - 1; i >= 0; i--) {
    const b = pool[i]!;
    if (b.restartInterval === restartInterval && b.bloomBitsPerKey === bloomBitsPerKey) {
      pool.splice(i, 1);
      return b;
    }
  }
  return {
    restartInterval,
    bloomBitsPerKey,
    out: new ByteWriter(writeBufferBytes),
    dataBlock: new BlockBuilder(restartInterval, blockSize + 1024),
    indexBlock: new BlockBuilder(1, 4096),
    filter: bloomBitsPerKey > 0 ? new BloomFilterBuilder(bloomBitsPerKey) : undefined,
  };
}

/**
 * Gives a set back once nothing refers to its bytes any more (every view of them written or
 * dropped): it is reset now, and kept if the pool has room.
 */
export function giveBuilderBuffers(b: BuilderBuffers): void {
  if (pool.length >= POOLED) return;
  b.out.reset();
  b.dataBlock.reset();
  b.indexBlock.reset();
  b.filter?.reset();
  pool.push(b);
}
