/**
 * File dumps, read straight from the files with the readers of the packages that own each format
 * (@strata-db/wal, @strata-db/sstable-core, @strata-db/engine): nothing is opened as a database,
 * nothing is written, no lock is taken.
 *   dump-wal <segment|dir>   every record: segment, offset, LSNs, ops; --only-gaps: only what is
 *                            missing (LSNs absent between records, damaged ranges, missing segments)
 *   dump-sst <file>          properties, block layout, index and filter partitions, range tombstones; --scan: entries
 *   dump-manifest            the live manifest's version edits
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { readManifestHistory } from '@strata-db/engine';
import { EntryKind, type PointEntry } from '@strata-db/memtable';
import { Table } from '@strata-db/sstable-core';
import { TableIterator } from '@strata-db/sstable-iterators';
import { listSegments, readSegmentFile, segmentFileName, type BatchOp } from '@strata-db/wal';
import { FORMATS, decodeBytes, parseFormat, printableKey, showBytes, type Format } from '../formats.js';
import { dbPath, type DbOptions } from '../open-database.js';
import { formatBytes, jsonLine, renderTable, type Terminal } from '../terminal.js';

type WalLine =
  | { readonly type: 'segment'; readonly segment: number; readonly file: string; readonly size: number; readonly uuid?: string; readonly firstLsn?: number; readonly error?: string }
  | { readonly type: 'batch'; readonly segment: number; readonly offset: number; readonly end: number; readonly firstLsn: number; readonly lastLsn: number; readonly ops: readonly BatchOp[] }
  | { readonly type: 'gap'; readonly segment: number; readonly offset?: number; readonly what: string; readonly fromLsn?: number; readonly toLsn?: number; readonly bytes?: number };

function opLine(op: BatchOp, kf: Format, vf: Format): unknown {
  if (op.type === 'put') return { op: 'put', key: decodeBytes(op.key, kf), value: decodeBytes(op.value, vf) };
  if (op.type === 'del') return { op: 'del', key: decodeBytes(op.key, kf) };
  return { op: 'deleteRange', start: decodeBytes(op.start, kf), end: decodeBytes(op.end, kf) };
}

function opText(op: BatchOp, kf: Format, vf: Format): string {
  if (op.type === 'put') return `put ${showBytes(op.key, kf)} = ${showBytes(op.value, vf)}`;
  if (op.type === 'del') return `del ${showBytes(op.key, kf)}`;
  return `deleteRange [${showBytes(op.start, kf)}, ${showBytes(op.end, kf)})`;
}

/** Every line dump-wal prints, in log order. */
export function walLines(target: string): WalLine[] {
  const isDir = statSync(target).isDirectory();
  const segments: { n: number; file: string }[] = isDir ? listSegments(target).map((n) => ({ n, file: join(target, segmentFileName(n)) })) : [{ n: 0, file: target }];
  const out: WalLine[] = [];
  let lastLsn: number | undefined;
  let prevSegment: number | undefined;
  for (const { n, file } of segments) {
    const s = readSegmentFile(file);
    const segment = 'segment' in s.header ? s.header.segment : n;
    if (prevSegment !== undefined && segment !== prevSegment + 1) out.push({ type: 'gap', segment, what: `segments ${prevSegment + 1}..${segment - 1} are missing` });
    prevSegment = segment;
    if ('error' in s.header) {
      out.push({ type: 'segment', segment, file, size: s.size, error: s.header.error });
      out.push({ type: 'gap', segment, offset: 0, what: `unreadable header: ${s.header.error}`, bytes: s.size });
      continue;
    }
    out.push({ type: 'segment', segment, file, size: s.size, uuid: s.header.uuid, firstLsn: s.header.firstLsn });
    for (const item of s.items) {
      if (item.kind === 'damage') {
        out.push({ type: 'gap', segment, offset: item.offset, what: `damaged: ${item.reason}`, bytes: item.end - item.offset });
        continue;
      }
      const last = item.firstLsn + item.ops.length - 1;
      if (lastLsn !== undefined && item.firstLsn !== lastLsn + 1) {
        out.push({
          type: 'gap',
          segment,
          offset: item.offset,
          what: item.firstLsn > lastLsn + 1 ? 'LSNs missing from the log' : 'LSNs go back',
          fromLsn: lastLsn + 1,
          toLsn: item.firstLsn - 1,
        });
      }
      lastLsn = last;
      out.push({ type: 'batch', segment, offset: item.offset, end: item.end, firstLsn: item.firstLsn, lastLsn: last, ops: item.ops });
    }
  }
  return out;
}

export function registerFileCommands(program: Command, term: Terminal): void {
  program
    .command('dump-wal')
    .description('print the records of a WAL segment, or of every segment in a directory (default: --db)')
    .argument('[segment-or-dir]', 'a NNNNNN.wal file or a directory')
    .option('--only-gaps', 'print only what is missing: LSN gaps, damaged ranges, missing segments')
    .option('--key-format <format>', `how keys are printed: ${FORMATS.join(' | ')}`, 'utf8')
    .option('--value-format <format>', `how values are printed: ${FORMATS.join(' | ')}`, 'utf8')
    .option('--json', 'one JSON object per line')
    .action((target: string | undefined, o: { onlyGaps?: boolean; keyFormat: string; valueFormat: string; json?: boolean }, cmd: Command) => {
      const kf = parseFormat(o.keyFormat, '--key-format');
      const vf = parseFormat(o.valueFormat, '--value-format');
      const lines = walLines(target ?? dbPath(cmd.optsWithGlobals<DbOptions>()));
      let gaps = 0;
      for (const l of lines) {
        if (l.type === 'gap') gaps++;
        if (o.onlyGaps === true && l.type !== 'gap') continue;
        if (o.json === true) {
          term.out(JSON.stringify(l.type === 'batch' ? { ...l, ops: l.ops.map((op) => opLine(op, kf, vf)) } : l));
          continue;
        }
        if (l.type === 'segment') term.out(`segment ${l.segment} ${l.file} (${l.size} bytes)${l.error === undefined ? `, first LSN ${l.firstLsn}, database ${l.uuid}` : `: ${l.error}`}`);
        else if (l.type === 'gap') {
          const lsns = l.fromLsn === undefined ? '' : ` LSN ${l.fromLsn}..${l.toLsn}`;
          term.out(`  GAP segment ${l.segment}${l.offset === undefined ? '' : ` @${l.offset}`}${lsns}${l.bytes === undefined ? '' : ` (${l.bytes} bytes)`}: ${l.what}`);
        } else {
          term.out(`  @${l.offset} LSN ${l.firstLsn}${l.lastLsn === l.firstLsn ? '' : `..${l.lastLsn}`} (${l.ops.length} op${l.ops.length === 1 ? '' : 's'})`);
        }
        if (l.type === 'batch') for (const op of l.ops) term.out(`    ${opText(op, kf, vf)}`);
      }
      if (o.onlyGaps === true && o.json !== true && gaps === 0) term.out('no gaps');
    });

  program
    .command('dump-sst')
    .description('print a table file: properties, block layout, index and filter partitions, range tombstones')
    .argument('<file>', 'a NNNNNN.sst file')
    .option('--scan', 'also print every entry (key, seq, kind, value)')
    .option('--key-format <format>', `how keys are printed: ${FORMATS.join(' | ')}`, 'utf8')
    .option('--value-format <format>', `how values are printed: ${FORMATS.join(' | ')}`, 'utf8')
    .option('--json', 'print one JSON object')
    .action((file: string, o: { scan?: boolean; keyFormat: string; valueFormat: string; json?: boolean }) => {
      const kf = parseFormat(o.keyFormat, '--key-format');
      const vf = parseFormat(o.valueFormat, '--value-format');
      const table = Table.open(file);
      try {
        const layout = table.layout();
        const tombstones = table.rangeTombstones().map((t) => ({ start: decodeBytes(t.start, kf), end: decodeBytes(t.end, kf), seq: t.seq }));
        const scanned: PointEntry[] = [];
        if (o.scan === true) {
          const it = new TableIterator(table);
          it.seekToFirst();
          while (it.valid()) {
            scanned.push(it.entry());
            it.next();
          }
        }
        const entries = scanned.map((e) =>
          e.kind === EntryKind.Put ? { key: decodeBytes(e.key, kf), seq: e.seq, kind: 'put', value: decodeBytes(e.value, vf) } : { key: decodeBytes(e.key, kf), seq: e.seq, kind: 'del' },
        );
        if (o.json === true) {
          const dataBlocks = layout.dataBlocks.map((d) => ({ offset: d.handle.offset, size: d.handle.size, separatorKey: decodeBytes(d.separatorKey, kf), separatorSeq: d.separatorSeq }));
          const partitions = layout.partitions.map((q) => ({ ...q, separatorKey: decodeBytes(q.separatorKey, kf) }));
          term.out(
            jsonLine({
              file,
              fileSize: table.fileSize,
              properties: table.readProperties(),
              layout: { footer: layout.footer, metaBlocks: layout.metaBlocks, partitions, dataBlocks, filter: layout.filter },
              rangeTombstones: tombstones,
              ...(o.scan === true ? { entries } : {}),
            }),
          );
          return;
        }
        const p = table.readProperties();
        term.out(`${file}: ${formatBytes(table.fileSize)} (${table.fileSize} bytes)`);
        term.out(
          renderTable(
            ['property', 'value'],
            Object.entries(p).map(([k, v]) => [k, v instanceof Uint8Array ? printableKey(v) : k === 'createdAt' ? new Date(v as number).toISOString() : String(v)]),
          ),
        );
        term.out('\nblocks (offset, size without the 5-byte trailer):');
        const separator = (key: Uint8Array, seq: number): string => `${printableKey(key)} @${seq === Number.MAX_SAFE_INTEGER ? 'max' : seq}`;
        const v1 = layout.footer.version === 1;
        term.out(`\nformat version ${layout.footer.version}; ${layout.partitions.length} index partition${layout.partitions.length === 1 ? '' : 's'}${v1 ? ' (a v1 table: its index and filter are one partition)' : ''}`);
        term.out('\nblocks in file order (offset, size without the 5-byte trailer):');
        const rows: [string, number, number, string][] = layout.dataBlocks.map((d, i) => [`data ${i}`, d.handle.offset, d.handle.size, separator(d.separatorKey, d.separatorSeq)]);
        for (const [i, q] of layout.partitions.entries()) {
          const blocks = `blocks ${q.firstBlock}–${q.firstBlock + q.blockCount - 1}`;
          if (q.filter !== undefined) rows.push([v1 ? 'filter' : `filter partition ${i}`, q.filter.offset, q.filter.size, blocks]);
          rows.push([v1 ? 'index' : `index partition ${i}`, q.index.offset, q.index.size, `${blocks}, last ${separator(q.separatorKey, q.separatorSeq)}`]);
        }
        for (const m of layout.metaBlocks) if (!v1 || m.name !== 'strata.filter.bloom') rows.push([m.name, m.handle.offset, m.handle.size, '']);
        rows.push(['meta-index', layout.footer.metaIndex.offset, layout.footer.metaIndex.size, '']);
        if (!v1 || layout.partitions.length === 0) rows.push([v1 ? 'index' : 'top-level index', layout.footer.index.offset, layout.footer.index.size, `${layout.partitions.length} entries`]);
        rows.push(['footer', layout.footer.offset, 40, '']);
        rows.sort((a, b) => a[1] - b[1]);
        term.out(renderTable(['block', 'offset', 'size', 'separator (key @seq)'], rows, 'lrrl'));
        term.out(
          layout.filter === undefined
            ? '\nfilter: none'
            : `\nfilter: bloom, ${layout.filter.bytes} bytes, ${layout.filter.probes} probes, ${p.entryCount > 0 ? ((layout.filter.bytes * 8) / p.entryCount).toFixed(1) : '-'} bits per entry`,
        );
        term.out(`\nrange tombstones: ${tombstones.length}`);
        for (const t of table.rangeTombstones()) term.out(`  [${showBytes(t.start, kf)}, ${showBytes(t.end, kf)}) @${t.seq}`);
        if (o.scan === true) {
          term.out(`\nentries: ${scanned.length}`);
          for (const e of scanned) term.out(`  ${showBytes(e.key, kf)} @${e.seq} ${e.kind === EntryKind.Put ? `put ${showBytes(e.value, vf)}` : 'del'}`);
        }
      } finally {
        table.close();
      }
    });

  program
    .command('dump-manifest')
    .description('print the version edits of the live manifest (through CURRENT)')
    .option('--json', 'one JSON object per edit (keys as hex)')
    .action((o: { json?: boolean }, cmd: Command) => {
      const h = readManifestHistory(dbPath(cmd.optsWithGlobals<DbOptions>()));
      if (o.json !== true) term.out(`${h.file}: ${h.fileSize} bytes, ${h.records.length} edits${h.validSize < h.fileSize ? `, torn tail of ${h.fileSize - h.validSize} bytes` : ''}`);
      for (const [i, r] of h.records.entries()) {
        if (o.json === true) {
          term.out(jsonLine({ index: i, ...r }));
          continue;
        }
        const scalars = [
          r.dbId === undefined ? '' : `dbId ${r.dbId}`,
          r.logNumber === undefined ? '' : `logNumber ${r.logNumber}`,
          r.nextFileNumber === undefined ? '' : `nextFile ${r.nextFileNumber}`,
          r.lastSequence === undefined ? '' : `lastSeq ${r.lastSequence}`,
        ].filter((x) => x !== '');
        term.out(`edit ${i} @${r.offset}${i === 0 ? ' (snapshot)' : ''}: ${scalars.join(', ')}`);
        for (const d of r.deleted) term.out(`  - L${d.level} #${d.fileNumber}`);
        for (const a of r.added) {
          const f = a.file;
          term.out(`  + L${a.level} #${f.fileNumber} ${formatBytes(f.fileSize)} [${printableKey(f.smallestKey)} .. ${printableKey(f.largestKey)}] seq ${f.minSeq}..${f.maxSeq}, ${f.entryCount} entries, ${f.tombstoneCount} tombstones`);
        }
      }
    });
}
