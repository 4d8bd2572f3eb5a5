// Table.open's checks that need no well-formed table (the read paths over real tables are
// tested in @strata-db/sstable-iterators, which can build them).
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlockCache } from './block-cache.js';
import { StrataError } from '@strata-db/errors';
import { Table } from './table.js';

const dir = mkdtempSync(join(tmpdir(), 'strata-table-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function openError(path: string, options: Parameters<typeof Table.open>[1] = {}): StrataError {
  try {
    Table.open(path, options);
  } catch (err) {
    expect(err).toBeInstanceOf(StrataError);
    return err as StrataError;
  }
  throw new Error('Table.open succeeded');
}

describe('Table.open', () => {
  it('a missing file is IO_ERROR with the cause', () => {
    const err = openError(join(dir, 'missing.sst'));
    expect(err.code).toBe('IO_ERROR');
    expect((err.cause as { code: string }).code).toBe('ENOENT');
  });

  it('a file that is not a table is CORRUPTION naming it (short, or wrong magic)', () => {
    const short = join(dir, 'short.sst');
    writeFileSync(short, 'tiny');
    expect(openError(short)).toMatchObject({ code: 'CORRUPTION', file: short, offset: 0 });
    const text = join(dir, 'text.sst');
    writeFileSync(text, 'x'.repeat(100));
    expect(openError(text)).toMatchObject({ code: 'CORRUPTION', file: text, offset: 92 });
    expect(openError(text).message).toMatch(/magic/);
  });

  it('a cache without a file number is INVALID_ARGUMENT (the number is the cache key)', () => {
    expect(openError(join(dir, 'x.sst'), { cache: new BlockCache(1024) }).code).toBe('INVALID_ARGUMENT');
  });
});
