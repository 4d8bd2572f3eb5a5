/**
 * `db.getProperty(name)`: LevelDB's property names, which classic-level users already know, and
 * Strata's own, each a string as LevelDB returns them (undefined for an unknown name; the level
 * adapter turns that into '' as classic-level does).
 *
 *   leveldb.num-files-at-level<N>     number of table files at level N (N < numLevels)
 *   leveldb.stats                     per-level table: files, size, compaction time, read, write
 *   leveldb.sstables                  per level: "--- level N ---", then one line per table
 *   leveldb.approximate-memory-usage  bytes held in memory (= strata.memory's total)
 *   strata.memory                     JSON: stats().memory (memtables, block cache, table cache, write queue, pinned)
 *   strata.stats                      JSON: all of stats() (keys as hex)
 *   strata.num-files                  table files in all levels
 *   strata.total-table-size           bytes of all table files
 *   strata.last-sequence              highest sequence number assigned
 *   strata.pending-compaction-bytes   estimated bytes compaction must still rewrite
 *   strata.write-stall                none | slowdown | stop
 *   strata.background-error           the error that made the database read-only, or ''
 *
 * Everything is read from stats.ts: the figures are computed once, there.
 */
import type { DbCore } from './db/core.js';
import type { DatabaseStats } from './stats.js';

const NUM_FILES_AT_LEVEL = 'leveldb.num-files-at-level';

/** The names `getProperty` answers (the level-numbered one once per level). */
export function propertyNames(numLevels: number): string[] {
  return [
    ...Array.from({ length: numLevels }, (_, l) => `${NUM_FILES_AT_LEVEL}${l}`),
    'leveldb.stats',
    'leveldb.sstables',
    'leveldb.approximate-memory-usage',
    'strata.memory',
    'strata.stats',
    'strata.num-files',
    'strata.total-table-size',
    'strata.last-sequence',
    'strata.pending-compaction-bytes',
    'strata.write-stall',
    'strata.background-error',
  ];
}

/** `stats`: the database's `stats()` (the core alone does not know the write path's queue). */
export function getProperty(core: DbCore, name: string, stats: () => DatabaseStats): string | undefined {
  if (name.startsWith(NUM_FILES_AT_LEVEL)) {
    const digits = name.slice(NUM_FILES_AT_LEVEL.length);
    if (!/^\d+$/.test(digits)) return undefined;
    const level = Number(digits);
    const v = core.versions.current;
    return level < v.numLevels ? String(v.files(level).length) : undefined;
  }
  switch (name) {
    case 'leveldb.stats':
      return levelDbStats(stats());
    case 'leveldb.sstables':
      return sstables(stats());
    case 'leveldb.approximate-memory-usage':
      return String(stats().memory.total);
    case 'strata.memory':
      return JSON.stringify(stats().memory);
    case 'strata.stats':
      return JSON.stringify(stats(), (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v));
    case 'strata.num-files':
      return String(stats().levels.reduce((n, l) => n + l.files, 0));
    case 'strata.total-table-size':
      return String(stats().levels.reduce((n, l) => n + l.bytes, 0));
    case 'strata.last-sequence':
      return String(core.lastSequence);
    case 'strata.pending-compaction-bytes':
      return String(core.compactor.pendingCompactionBytes());
    case 'strata.write-stall':
      return core.stallState();
    case 'strata.background-error':
      return core.backgroundError?.message ?? '';
    default:
      return undefined;
  }
}

const MB = 1024 * 1024;

/** LevelDB's layout (db_impl.cc, "leveldb.stats"), from Strata's per-level figures. */
function levelDbStats(s: DatabaseStats): string {
  const lines = [
    '                               Compactions',
    'Level  Files Size(MB) Time(sec) Read(MB) Write(MB)',
    '--------------------------------------------------',
  ];
  for (const l of s.levels) {
    const c = s.compaction?.levels[l.level];
    const read = c?.bytesRead ?? 0;
    const written = (c?.bytesWritten ?? 0) + (l.level === 0 ? s.counters.flushBytesWritten : 0);
    // As LevelDB: the time of the compactions writing into a level, on that level's line.
    const seconds = (c?.durationMs ?? 0) / 1000;
    if (l.files === 0 && read === 0 && written === 0) continue;
    lines.push(`${String(l.level).padStart(3)} ${String(l.files).padStart(8)} ${(l.bytes / MB).toFixed(0).padStart(8)} ${seconds.toFixed(0).padStart(9)} ${(read / MB).toFixed(0).padStart(8)} ${(written / MB).toFixed(0).padStart(9)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** LevelDB's layout ("leveldb.sstables"): ` number:size[smallest .. largest]` under each level. */
function sstables(s: DatabaseStats): string {
  let out = '';
  for (const l of s.levels) {
    out += `--- level ${l.level} ---\n`;
    for (const f of l.fileList) out += ` ${f.fileNumber}:${f.size}[${printable(f.smallestKey)} @ ${f.minSeq} .. ${printable(f.largestKey)} @ ${f.maxSeq}]\n`;
  }
  return out;
}

/** A key as LevelDB's EscapeString prints it: printable ASCII as is, other bytes as \xNN. */
function printable(key: Uint8Array): string {
  let s = "'";
  for (const b of key) s += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
  return `${s}'`;
}
