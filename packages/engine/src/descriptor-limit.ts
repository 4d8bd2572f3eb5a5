/**
 * The default of `maxOpenFiles`, from the descriptors the process may really open.
 *
 * Node.js raises its soft RLIMIT_NOFILE to the hard limit at startup (node.cc, PlatformInit), so
 * a shell's `ulimit -n 256` is rarely what a Node process runs under; a fixed default as low as
 * 128 made every table past the 118th reopen its file on each block-cache miss (open + close,
 * ~3 µs of CPU per get at 90% misses on 52 tables with 10 descriptors). Where the limit can be
 * read (Linux: /proc/self/limits), the default is half the soft limit — the other half left to
 * the application and to other databases in the process — and at most 10,000.
 *
 * Why 10,000 and not LevelDB's 1000 (the default until 2026-11-30): a table held open costs its
 * descriptor and ~3 KB of the table cache's pinned half (tableCacheSize / 2: 32 MiB by default,
 * ~10,000 tables), so 10,000 descriptors is what the default table cache can use; ~20 GB of 2 MiB
 * tables, ~170M keys of 16 B keys and 100 B values. With 1000, a 100M-key database (~5,800
 * tables) reopened a table file for ~5 block reads in 6 (an open and a close around each read). RocksDB keeps every table open by default. A process
 * that runs out of descriptors first (other databases, sockets) does not fail a read that the
 * pool can serve: the pool gives descriptors back and keeps the smaller capacity
 * (version/table-descriptors.ts).
 * Where the limit cannot be read, 128 (fits `ulimit -n 256` with room for the application).
 */
import { readFileSync } from 'node:fs';

/** The most the default takes, however high the limit (above). */
const MOST_BY_DEFAULT = 10_000;
/** When the process's limit is unknown. */
const UNKNOWN_LIMIT_DEFAULT = 128;

/** The soft limit on open descriptors from a /proc/<pid>/limits text; undefined if absent. */
export function softDescriptorLimit(limitsText: string): number | undefined {
  const line = limitsText.split('\n').find((l) => l.startsWith('Max open files'));
  const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
  if (soft === undefined) return undefined;
  if (soft === 'unlimited') return Number.MAX_SAFE_INTEGER;
  const n = Number(soft);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/** The default `maxOpenFiles`, at least `min`. */
export function defaultMaxOpenFiles(min: number): number {
  let text: string;
  try {
    text = readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return Math.max(min, UNKNOWN_LIMIT_DEFAULT);
  }
  const soft = softDescriptorLimit(text);
  if (soft === undefined) return Math.max(min, UNKNOWN_LIMIT_DEFAULT);
  return Math.max(min, Math.min(MOST_BY_DEFAULT, Math.floor(soft / 2)));
}
