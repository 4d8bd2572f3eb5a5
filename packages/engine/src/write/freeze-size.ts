/**
 * The freeze size: how many bytes the active memtable takes before it is frozen (and flushed to
 * one L0 table). `memtableSize` while the tree is small; doubled, up to `maxMemtableSize`, when
 * the level L0 compacts into (L1) outgrows what L0 holds at the slowdown trigger.
 *
 * Why: leveled compaction rewrites all of the overlapped L1 for every L0→L1 compaction, so the
 * bytes written per byte flushed are 1 (the flush) + (B0 + L1) / B0 (the L0→L1) + deeper levels,
 * B0 being L0's bytes when it is compacted. L0 is compacted in batches by file count (picker.ts:
 * its score is files / l0CompactionTrigger); under a steady fill it sits near the slowdown
 * trigger, so B0 ≈ l0SlowdownWritesTrigger × (one memtable's table). A fixed memtable size fixes
 * B0 while L1 grows with the tree (it settles where its score meets L0's: journal, session 18),
 * so a big tree's L0→L1 cost per flushed byte grows with it — the 10M fill's last tenths spent
 * ~40% of their written bytes rewriting L1 (docs/performance/session-13.md). RocksDB's tuning
 * rule is the same balance: L0's size when compacted ≈ max_bytes_for_level_base (its memtables
 * are 64 MiB, its L1 256 MiB).
 *
 * The rule: the smallest memtableSize × 2^k (k ≥ 0) whose slowdown-trigger count of memtables
 * holds at least L1's bytes, capped at maxMemtableSize; once grown, kept until L1 falls under a
 * quarter of that count of memtables (hysteresis: below). Memtable bytes (skiplist and arena) are
 * ~1.5× the table they flush to, so at the chosen size L0 at the trigger holds ~⅔–1⅓ of L1 in
 * table bytes: about RocksDB's balance. A small database never grows (at the defaults: while L1
 * is under 40 × 4 MiB = 160 MiB, every 1M-key bench) and behaves as with a fixed memtableSize;
 * memory grows only with a tree that is already big (memtables ≤ maxMemtableSize ×
 * (1 + maxFrozenMemtables)). Doubling, not any size: few distinct sizes, so the memtable memory
 * reserve (MemtableMemory) keeps handing buffers of the size wanted. Pebble grows its memtables
 * too (from 256 KiB, doubling, up to MemTableSize) — by count, to keep small databases small;
 * here by the tree, which is what sets the cost.
 *
 * Chosen once per memtable, when it becomes the active one (Core.freezeMemtable and open): the
 * write path compares against a number, never walks a Version. Recovery and followers do not
 * use it: a WAL segment holds exactly one memtable's records, whatever its size.
 */
export function freezeSize(memtableSize: number, maxMemtableSize: number, l0SlowdownWritesTrigger: number, l1Bytes: number, current = memtableSize): number {
  let size = current;
  while (size * 2 <= maxMemtableSize && l0SlowdownWritesTrigger * size < l1Bytes) size *= 2;
  // Back down only once L1 is under half of what the halved size would cover: L1 swings by ±25%
  // between an L0→L1 compaction and the L1→L2 ones after it (journal, session 19), and a size
  // that followed it would flip at every swing near the threshold.
  while (size > memtableSize && (l0SlowdownWritesTrigger * size) / 4 >= l1Bytes) size /= 2;
  return size;
}
