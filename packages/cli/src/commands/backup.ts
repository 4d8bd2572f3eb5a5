/**
 * Backup and repair: `checkpoint <dir>` (an openable copy, tables hard-linked) and `repair` (the
 * manifest rebuilt from the tables and WAL segments found). Both take the write lock: a
 * checkpoint of a database another process has open is that process's `db.checkpoint(dir)`.
 */
import type { Command } from 'commander';
import { Database, type RepairReport } from '@strata-db/engine';
import { CommandFailed } from '../errors.js';
import { dbPath, openForWriting, withDatabase, type DbOptions } from '../open-database.js';
import { formatBytes, type Terminal } from '../terminal.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** The report with byte strings as hex, as every other `--json` output of the CLI. */
function repairJson(r: RepairReport): unknown {
  return { ...r, tables: r.tables.map((t) => ({ ...t, smallestKey: hex(t.smallestKey), largestKey: hex(t.largestKey) })) };
}

export function registerBackupCommands(program: Command, term: Terminal): void {
  program
    .command('checkpoint <dir>')
    .description('write an openable, consistent copy of the database to the new directory <dir> (tables hard-linked when on the same file system)')
    .option('--json', 'print the report as JSON')
    .action(async (target: string, o: { json?: boolean }, cmd: Command) => {
      const opts = cmd.optsWithGlobals<DbOptions>();
      const report = await withDatabase(openForWriting(dbPath(opts), false), (db) => db.checkpoint(target));
      if (o.json === true) term.out(JSON.stringify(report));
      else {
        term.out(
          `checkpoint ${report.dir}: ${report.tables} tables (${report.linked} linked, ${report.copied} copied, ${formatBytes(report.bytesCopied)}), ` +
            `${report.walSegments.length} WAL segments, sequence ≥ ${report.manifestSequence}`,
        );
      }
    });

  program
    .command('repair')
    .description('rebuild the manifest from the tables and WAL segments found (for a lost or damaged MANIFEST/CURRENT); unusable files go to <db>/lost/; exit 1 if a table or WAL segment was unusable')
    .option('--json', 'print the report as JSON')
    .action(async (o: { json?: boolean }, cmd: Command) => {
      const opts = cmd.optsWithGlobals<DbOptions>();
      const report = await Database.repair(dbPath(opts), { createIfMissing: false });
      const lostData = report.lost.filter((l) => l.kind !== 'manifest');
      if (o.json === true) term.out(JSON.stringify(repairJson(report)));
      else {
        for (const t of report.tables) {
          term.out(`kept  table ${t.file}: ${t.entryCount} entries, ${t.tombstoneCount} range tombstones, seq ${t.minSeq}..${t.maxSeq}, keys ${hex(t.smallestKey)}..${hex(t.largestKey)}`);
        }
        for (const l of report.lost) term.out(`lost  ${l.kind} ${l.file}${l.movedTo === undefined ? '' : ` -> ${l.movedTo}`}: ${l.reason}`);
        for (const d of report.walDropped) term.out(`lost  WAL bytes ${d.file} @ ${d.offset} (${d.length} bytes): ${d.reason}`);
        term.out(
          `repaired: ${report.tables.length} tables, ${report.walRecords} WAL records from ${report.walSegments.length} segments, last sequence ${report.lastSequence}` +
            `${report.compacted ? ', compacted' : ''}; new manifest ${report.manifest}`,
        );
      }
      // A damaged WAL range is reported but not a failure: the torn tail a crash leaves is one.
      if (lostData.length > 0) {
        throw new CommandFailed('CORRUPTION', `the database opens again, but ${lostData.length} damaged file(s) could not be used (listed above; they were moved to lost/)`);
      }
    });
}
