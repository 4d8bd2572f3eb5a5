/**
 * Shape commands: stats (the LSM as a table: per level files, bytes, key range and compaction
 * score; pending compaction bytes; memtables; counters and write amplification) and approxsize.
 */
import type { Command } from 'commander';
import type { DatabaseStats } from '@strata-db/engine';
import { approximateSize } from '../approximate-size.js';
import { UsageError } from '../errors.js';
import { FORMATS, encodeArg, parseFormat, printableKey } from '../formats.js';
import { dbPath, openForReading, withDatabase, type DbOptions } from '../open-database.js';
import { formatBytes, jsonLine, renderTable, type Terminal } from '../terminal.js';

function keyRange(lo: Uint8Array | undefined, hi: Uint8Array | undefined): string {
  if (lo === undefined || hi === undefined) return '';
  const cut = (s: string): string => (s.length > 24 ? `${s.slice(0, 21)}...` : s);
  return `${cut(printableKey(lo))} .. ${cut(printableKey(hi))}`;
}

export function renderStats(s: DatabaseStats): string {
  const scores = new Map((s.compaction?.scores ?? []).map((x) => [x.level, x.score]));
  let files = 0;
  let bytes = 0;
  const rows = s.levels.map((l) => {
    files += l.files;
    bytes += l.bytes;
    const score = scores.get(l.level);
    return [`L${l.level}`, l.files, formatBytes(l.bytes), keyRange(l.smallestKey, l.largestKey), score === undefined ? '-' : score.toFixed(2)];
  });
  rows.push(['total', files, formatBytes(bytes), '', '']);
  const c = s.counters;
  const lines = [
    renderTable(['level', 'files', 'bytes', 'key range', 'score'], rows, 'lrrlr'),
    `pending compaction bytes: ${formatBytes(s.compaction?.pendingCompactionBytes ?? 0)}   (score >= 1: the level needs compaction)`,
    `sequence: last ${s.lastSequence}, visible ${s.visibleSequence}   memtable: ${s.memtables.activeEntries} entries, ${formatBytes(s.memtables.activeBytes)} (${s.memtables.frozen} frozen)`,
    `manifest: MANIFEST-${String(s.manifest.fileNumber).padStart(6, '0')}   wal segment: ${s.walSegment}   write stall: ${s.writeStall}`,
    '',
    'counters since this open:',
    renderTable(
      ['user bytes written', 'write ops', 'wal bytes', 'flushes', 'flush bytes', 'compactions', 'compaction bytes read/written', 'write amplification'],
      [
        [
          formatBytes(c.userBytesWritten),
          c.writeOps,
          formatBytes(c.walBytesWritten),
          c.flushes,
          formatBytes(c.flushBytesWritten),
          c.compactions,
          `${formatBytes(c.compactionBytesRead)} / ${formatBytes(c.compactionBytesWritten)}`,
          s.writeAmplification.toFixed(2),
        ],
      ],
      'rrrrrrrr',
    ),
  ];
  return lines.join('\n');
}

export function registerShapeCommands(program: Command, term: Terminal): void {
  program
    .command('stats')
    .description('the LSM tree level by level, compaction scores, memtables, counters (read-only)')
    .option('--json', 'print db.stats() as one JSON object (keys as hex)')
    .action(async (o: { json?: boolean }, cmd: Command) => {
      const opts = cmd.optsWithGlobals<DbOptions>();
      const s = await withDatabase(openForReading(dbPath(opts)), (db) => db.stats());
      term.out(o.json === true ? jsonLine(s) : renderStats(s));
    });

  program
    .command('approxsize')
    .description('estimated bytes of table data holding keys in [from, to) (read-only)')
    .option('--from <key>', 'first key (inclusive; default: the smallest)')
    .option('--to <key>', 'end key (exclusive; default: past the largest)')
    .option('--key-format <format>', `how the keys are written: ${FORMATS.join(' | ')}`, 'utf8')
    .option('--json', 'print {"bytes", "tables"} as JSON')
    .action(async (o: { from?: string; to?: string; keyFormat: string; json?: boolean }, cmd: Command) => {
      const opts = cmd.optsWithGlobals<DbOptions>();
      const f = parseFormat(o.keyFormat, '--key-format');
      const from = o.from === undefined ? undefined : encodeArg(o.from, f, '--from');
      const to = o.to === undefined ? undefined : encodeArg(o.to, f, '--to');
      if (from !== undefined && to !== undefined && Buffer.compare(from, to) > 0) throw new UsageError('--from must not be greater than --to');
      const dir = dbPath(opts);
      const r = await withDatabase(openForReading(dir), (db) => approximateSize(dir, db.stats().levels, from, to));
      term.out(o.json === true ? JSON.stringify(r) : `${formatBytes(r.bytes)} (${r.bytes} bytes in ${r.tables} table${r.tables === 1 ? '' : 's'})`);
    });
}
