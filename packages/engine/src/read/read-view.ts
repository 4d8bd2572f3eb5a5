/**
 * A ReadView is everything one read needs, captured at one instant: the active memtable, the
 * frozen memtables (newest first), and the current Version (pinned with a reference when the
 * read outlives the current tick, as iterators do). Because flush installs the new Version and
 * retires the frozen memtable in the same synchronous step, every view is consistent: each
 * write is in exactly one of its sources.
 */
import type { FrozenMemtable, Memtable } from '@strata-db/memtable';
import type { Version } from '../version/version.js';

export interface ReadView {
  readonly active: Memtable;
  /** Newest first. */
  readonly frozen: readonly FrozenMemtable[];
  readonly version: Version;
}
