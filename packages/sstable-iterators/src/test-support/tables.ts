// Helpers for the tests of this package: they need real tables, hence the builder.
// eslint-disable-next-line @nx/enforce-module-boundaries -- test-only edge (a devDependency, outside src/ builds): iterators are tested over tables the builder wrote
import { TableBuilder, type TableBuilderOptions, type TableMeta } from '@strata-db/sstable-builder';
import type { InternalIterator, PointEntry, RangeTombstone } from '@strata-db/memtable';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export { TableBuilder, type TableBuilderOptions, type TableMeta };

/** A fresh temporary directory and its cleanup. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'strata-sst-'));
  return {
    dir,
    cleanup: () => {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function buildTable(
  path: string,
  entries: Iterable<PointEntry>,
  tombstones: Iterable<RangeTombstone> = [],
  options: TableBuilderOptions = {},
): Promise<TableMeta> {
  const b = new TableBuilder(path, options);
  for (const e of entries) b.add(e);
  for (const t of tombstones) b.addTombstone(t);
  return b.finish();
}

export function scanForward(it: InternalIterator): PointEntry[] {
  const out: PointEntry[] = [];
  it.seekToFirst();
  while (it.valid()) {
    out.push(it.entry());
    it.next();
  }
  return out;
}

export function scanBackward(it: InternalIterator): PointEntry[] {
  const out: PointEntry[] = [];
  it.seekToLast();
  while (it.valid()) {
    out.push(it.entry());
    it.prev();
  }
  return out;
}

const enc = new TextEncoder();
export const bytes = (s: string): Uint8Array => enc.encode(s);
export const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1');
