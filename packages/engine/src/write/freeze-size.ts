/**
 * The freeze size: how many bytes the active memtable takes before it is frozen (and flushed to
 * one L0 table). `memtableSize` while the tree is small; doubled, up to `maxMemtableSize`, when
 * the bytes a flush is merged into (`flushMergeBytes`, below: L1 for leveled compaction, the
 * whole tree for universal) outgrow what L0 holds at the slowdown trigger.
 *
 * Why, leveled: leveled compaction rewrites all of the overlapped L1 for every L0→L1 compaction,
 * so the bytes written per byte flushed are 1 (the flush) + (B0 + L1) / B0 (the L0→L1) + deeper
 * levels, B0 being L0's bytes when it is compacted. L0 is compacted in batches by file count
 * (picker.ts: its score is files / l0CompactionTrigger); under a steady fill it sits near the
 * slowdown trigger, so B0 ≈ l0SlowdownWritesTrigger × (one memtable's table). A fixed memtable
 * size fixes B0 while L1 grows with the tree (it settles where its score meets L0's: journal,
 * session 18), so a big tree's L0→L1 cost per flushed byte grows with it — the 10M fill's last
 * tenths spent ~40% of their written bytes rewriting L1 (docs/performance/session-13.md).
 * RocksDB's tuning rule is the same balance: L0's size when compacted ≈ max_bytes_for_level_base
 * (its memtables are 64 MiB, its L1 256 MiB).
 *
 * Why, universal (compaction/universal-picker.ts): L1 stays empty there until late (merges go
 * to L0 or to the level above the oldest run), so L1's bytes would keep memtables small for the
 * whole fill. A flushed byte is merged with runs of growing size until it reaches the oldest
 * run: about log_{merge width}(tree / flush) rewrites, and every flush is one more sorted run
 * (the run count is what reads pay and what the write stalls count). So the freeze size follows
 * the tree: the same rule with the tree's bytes in place of L1's. At the defaults a tree under
 * 160 MiB (a 1M-key fill) keeps 4 MiB memtables; past 320 MiB they are 16 MiB (RocksDB's users
 * of universal run 64 MiB write buffers).
 *
 * The rule: the smallest memtableSize × 2^k (k ≥ 0) whose slowdown-trigger count of memtables
 * holds at least those bytes, capped at maxMemtableSize; once grown, kept until they fall under
 * a quarter of that count of memtables (hysteresis: below). Memtable bytes (skiplist and arena)
 * are ~1.5× the table they flush to, so at the chosen size L0 at the trigger holds ~⅔–1⅓ of L1
 * in table bytes: about RocksDB's balance. A small database never grows (at the defaults: while
 * L1 — the tree, for universal — is under 40 × 4 MiB = 160 MiB, every 1M-key bench) and behaves
 * as with a fixed memtableSize; memory grows only with a tree that is already big (memtables ≤
 * maxMemtableSize × (1 + maxFrozenMemtables), whichever the style: the RSS bound counts
 * maxMemtableSize). Doubling, not any size: few distinct sizes, so the memtable memory
 * reserve (MemtableMemory) keeps handing buffers of the size wanted. Pebble grows its memtables
 * too (from 256 KiB, doubling, up to MemTableSize) — by count, to keep small databases small;
 * here by the tree, which is what sets the cost.
 *
 * Chosen once per memtable, when it becomes the active one (Core.freezeMemtable and open): the
 * write path compares against a number, never walks a Version. Recovery and followers do not
 * use it: a WAL segment holds exactly one memtable's records, whatever its size.
 */
import type { CompactionStyle } from '../options.js';
import type { Version } from '../version/version.js';

/**
 * The bytes a flush is merged into, which the freeze size follows (the top of the file): L1's
 * for leveled compaction (each L0→L1 rewrites it), every level's for universal (a flushed byte
 * is merged up to the oldest run, whose size the tree's bounds).
 */
export function flushMergeBytes(version: Version, style: CompactionStyle): number {
  if (style === 'level') return version.levelBytes(1);
  let bytes = 0;
  for (let level = 0; level < version.numLevels; level++) bytes += version.levelBytes(level);
  return bytes;
}

export function freezeSize(memtableSize: number, maxMemtableSize: number, l0SlowdownWritesTrigger: number, mergeBytes: number, current = memtableSize): number {
  let size = current;
  while (size * 2 <= maxMemtableSize && l0SlowdownWritesTrigger * size < mergeBytes) size *= 2;
  // Back down only once the merge bytes are under half of what the halved size would cover: L1
  // swings by ±25% between an L0→L1 compaction and the L1→L2 ones after it (journal, session 19),
  // and a size that followed it would flip at every swing near the threshold.
  while (size > memtableSize && (l0SlowdownWritesTrigger * size) / 4 >= mergeBytes) size /= 2;
  return size;
}
