/**
 * The default of `maxOpenFiles`, from the descriptors the process may really open.
 *
 * Node.js raises its soft RLIMIT_NOFILE to the hard limit at startup (node.cc, PlatformInit), so
 * a shell's `ulimit -n 256` is rarely what a Node process runs under; a fixed default as low as
 * 128 made every table past the 118th reopen its file on each block-cache miss (open + close,
 * ~3 µs of CPU per get at 90% misses on 52 tables with 10 descriptors). Where the limit can be
 * read (Linux: /proc/self/limits), the default is LevelDB's 1000, or half the soft limit when that
 * is lower — the other half left to the application and to other databases in the process.
 * Where it cannot be read, 128 (fits `ulimit -n 256` with room for the application).
 */
import { readFileSync } from 'node:fs';

/** LevelDB's default max_open_files. */
const LEVELDB_DEFAULT = 1000;
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
  return Math.max(min, Math.min(LEVELDB_DEFAULT, Math.floor(soft / 2)));
}
