// blockRestartInterval reaches the tables a database writes (flushes and compactions, in a worker
// or in-thread), and is checked like the other options.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Table } from '@strata-db/sstable-core';
import { Database } from '../db/database.js';
import { resolveOptions } from '../options.js';
import { tableSettingsOf } from './jobs.js';

describe('blockRestartInterval', () => {
  it('defaults to 16, is what every table of every level is built with, and must be an integer in [1, 1024]', () => {
    expect(tableSettingsOf(resolveOptions({}), 1, true).restartInterval).toBe(16);
    expect(tableSettingsOf(resolveOptions({ blockRestartInterval: 4 }), 0, false).restartInterval).toBe(4);
    for (const bad of [0, 1025, 2.5, '8']) {
      expect(() => resolveOptions({ blockRestartInterval: bad as number })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }) as Error);
    }
  });

  it.each([0, 1])('the tables a database writes (flush and compaction) are built with it (backgroundThreads %i)', async (backgroundThreads) => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-restart-'));
    try {
      const db = await Database.open(dir, { blockRestartInterval: 3, backgroundThreads });
      const b = db.batch();
      for (let i = 0; i < 600; i++) b.put(`k${String(i).padStart(5, '0')}`, `value ${i}`);
      await b.write();
      await db.flush();
      await db.compact();
      expect(Buffer.from(db.getSync('k00321')!).toString()).toBe('value 321');
      await db.close();
      const tables = readdirSync(dir).filter((f) => f.endsWith('.sst'));
      expect(tables.length).toBeGreaterThan(0);
      for (const f of tables) {
        const t = Table.open(join(dir, f));
        try {
          const props = t.readProperties();
          expect(props.restartInterval).toBe(3);
        } finally {
          t.close();
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
