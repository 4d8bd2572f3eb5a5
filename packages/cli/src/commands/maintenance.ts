/**
 * Maintenance: compact (takes the write lock) and verify (read-only), each with a progress bar.
 * checkpoint and repair are in backup.ts.
 */
import type { Command } from 'commander';
import type { DatabaseStats } from '@strata-db/engine';
import { compareKeys } from '@strata-db/memtable';
import { CommandFailed, UsageError } from '../errors.js';
import { FORMATS, encodeArg, parseFormat } from '../formats.js';
import { dbPath, openForReading, openForWriting, withDatabase, type DbOptions } from '../open-database.js';
import { startProgress } from '../progress.js';
import { formatBytes, type Terminal } from '../terminal.js';

function shape(s: DatabaseStats): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  for (const l of s.levels) {
    files += l.files;
    bytes += l.bytes;
  }
  return { files, bytes };
}

/** Bytes of the tables (and memtables) a compaction of [lo, hi] will read, at least once. */
function bytesToCompact(s: DatabaseStats, lo: Uint8Array | undefined, hi: Uint8Array | undefined): number {
  let n = s.memtables.activeBytes + s.memtables.frozenBytes;
  for (const l of s.levels) {
    for (const f of l.fileList) {
      if (lo !== undefined && compareKeys(f.largestKey, lo) < 0) continue;
      if (hi !== undefined && compareKeys(f.smallestKey, hi) > 0) continue;
      n += f.size;
    }
  }
  return n;
}

export function registerMaintenanceCommands(program: Command, term: Terminal): void {
  program
    .command('compact')
    .description('flush, then compact everything (or the tables overlapping [from, to]) into the bottom level')
    .option('--from <key>', 'first key of the range (inclusive)')
    .option('--to <key>', 'last key of the range (inclusive)')
    .option('--key-format <format>', `how the keys are written: ${FORMATS.join(' | ')}`, 'utf8')
    .option('--json', 'print the result as JSON (no progress bar)')
    .action(async (o: { from?: string; to?: string; keyFormat: string; json?: boolean }, cmd: Command) => {
      const opts = cmd.optsWithGlobals<DbOptions>();
      const f = parseFormat(o.keyFormat, '--key-format');
      const lo = o.from === undefined ? undefined : encodeArg(o.from, f, '--from');
      const hi = o.to === undefined ? undefined : encodeArg(o.to, f, '--to');
      if (lo !== undefined && hi !== undefined && compareKeys(lo, hi) > 0) throw new UsageError('--from must not be greater than --to');
      await withDatabase(openForWriting(dbPath(opts), false), async (db) => {
        const before = db.stats();
        const total = bytesToCompact(before, lo, hi);
        const readAtStart = before.compaction?.bytesRead ?? 0;
        const progress = startProgress('compact', total, { tty: term.isTTY, quiet: o.json === true, write: (line) => {
            term.out(line);
          },
        });
        const t0 = performance.now();
        const timer = setInterval(() => {
          const s = db.stats();
          progress.update((s.compaction?.bytesRead ?? 0) - readAtStart);
        }, 200);
        try {
          await db.compact({ ...(lo === undefined ? {} : { start: lo }), ...(hi === undefined ? {} : { end: hi }) });
        } finally {
          clearInterval(timer);
        }
        const after = db.stats();
        progress.update(Math.max(total, (after.compaction?.bytesRead ?? 0) - readAtStart));
        progress.stop();
        const result = { before: shape(before), after: shape(after), bytesRead: (after.compaction?.bytesRead ?? 0) - readAtStart, ms: Math.round(performance.now() - t0) };
        term.out(
          o.json === true
            ? JSON.stringify(result)
            : `compacted in ${result.ms} ms: ${result.before.files} tables, ${formatBytes(result.before.bytes)} -> ${result.after.files} tables, ${formatBytes(result.after.bytes)}`,
        );
      });
    });

  program
    .command('verify')
    .description('check every checksum of every live file (read-only); exit 1 if anything is damaged')
    .option('--json', 'print the report as JSON (no progress bar)')
    .action(async (o: { json?: boolean }, cmd: Command) => {
      const opts = cmd.optsWithGlobals<DbOptions>();
      const report = await withDatabase(openForReading(dbPath(opts)), async (db) => {
        const progress = startProgress('verify', 0, { tty: term.isTTY, quiet: o.json === true, write: (line) => {
            term.out(line);
          },
        });
        try {
          return await db.verify({
            onProgress: (p) => {
              progress.update(p.bytesDone, p.bytesTotal);
            },
          });
        } finally {
          progress.stop();
        }
      });
      if (o.json === true) term.out(JSON.stringify(report));
      else {
        term.out(
          `${report.tables} tables (${report.tableBlocks} blocks, ${formatBytes(report.tableBytes)}), manifest ${report.manifestRecords} records, WAL ${report.walSegments} segments (${report.walBatches} batches)`,
        );
        for (const d of report.damaged) term.out(`DAMAGED ${d.kind} ${d.file}${d.offset === undefined ? '' : ` @ ${d.offset}`}: ${d.code}: ${d.message}`);
        if (report.ok) term.out('ok: no damage found');
      }
      if (!report.ok) throw new CommandFailed('CORRUPTION', `${report.damaged.length} damaged file(s); restore them from a backup`);
    });
}
