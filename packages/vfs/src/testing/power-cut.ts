/**
 * What a file holds after the power fails. The disk keeps everything the last completed fsync
 * covered; of the bytes written after it, a real disk may keep none, some prefix (the page cache
 * was partly written back), or blocks that were allocated but never filled (zeros or stale
 * garbage). Each mode models one of these; the sweep runs all of them.
 */
import type { Inode } from './inode.js';
import type { Random } from './random.js';

export type PowerCutMode =
  /** Unsynced bytes are lost; every file is exactly its last fsync. The strict baseline. */
  | 'drop'
  /** A random prefix of the unsynced bytes survives (partial write-back). */
  | 'keep-random-prefix'
  /** A random-length run of random bytes replaces the unsynced tail (torn, stale blocks). */
  | 'garbage'
  /** A random-length run of zeros replaces the unsynced tail (allocated, never written). */
  | 'zeros';

export const POWER_CUT_MODES: readonly PowerCutMode[] = ['drop', 'keep-random-prefix', 'garbage', 'zeros'];

export function survivingContent(inode: Inode, mode: PowerCutMode, rng: Random): Uint8Array {
  const durable = inode.durableContent();
  if (mode === 'drop') return durable;
  const tail = inode.unsyncedTail(durable.length);
  if (tail.length === 0) return durable;
  const keep = rng.int(0, tail.length);
  if (keep === 0) return durable;
  const out = new Uint8Array(durable.length + keep);
  out.set(durable);
  switch (mode) {
    case 'keep-random-prefix':
      out.set(tail.subarray(0, keep), durable.length);
      break;
    case 'garbage':
      out.set(rng.bytes(keep), durable.length);
      break;
    case 'zeros':
      break;
  }
  return out;
}
