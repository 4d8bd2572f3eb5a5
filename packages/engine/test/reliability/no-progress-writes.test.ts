/**
 * A file layer whose write reports 0 bytes written (a broken driver, a FUSE layer, a disk full
 * in a way that returns 0 instead of ENOSPC). A write-everything loop that adds the return value
 * would spin forever, freezing the process; every file the engine writes goes through the one
 * guarded `writeAll` of @strata-db/vfs (or the WAL's and builder's use of it), so the caller
 * gets an IO_ERROR naming the file instead, and nothing acknowledged is lost.
 */
import { MemoryFileSystem } from '@strata-db/vfs/testing';
import { describe, expect, it } from 'vitest';
import { Database, StrataError } from '../../src/index.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** In-memory files whose writes to names matching `stuck` make no progress (return 0). */
class NoProgressFileSystem extends MemoryFileSystem {
  stuck: RegExp | undefined;
  readonly stuckWrites: string[] = [];

  override writeSync(fd: number, buf: Uint8Array, off: number, len: number, position: number | null): number {
    const path = this.pathOf(fd) ?? '';
    if (this.stuck?.test(path) === true && len > 0) {
      this.stuckWrites.push(path);
      return 0;
    }
    return super.writeSync(fd, buf, off, len, position);
  }
}

async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('a write that makes no progress', () => {
  for (const [what, stuck] of [
    ['LOCK', /\/LOCK\b/],
    ['IDENTITY', /\/IDENTITY\b/],
    ['the MANIFEST', /\/MANIFEST-/],
    ['CURRENT', /\/CURRENT\b/],
  ] as const) {
    it(`on ${what} while creating a database is an IO_ERROR naming it, not an endless loop`, async () => {
      const fs = new NoProgressFileSystem();
      fs.mkdirSync('/db', { recursive: true });
      fs.stuck = stuck;
      const err = await caught(Database.open('/db', { fs }));
      expect(fs.stuckWrites.length).toBeGreaterThan(0);
      expect(err).toBeInstanceOf(StrataError);
      expect((err as StrataError).code).toBe('IO_ERROR');
      expect((err as StrataError).message).toMatch(stuck);
      fs.stuck = undefined;
      // Nothing was acknowledged; the directory is usable once the layer works again.
      const db = await Database.open('/db', { fs });
      await db.put('k', 'v');
      expect(new TextDecoder().decode(await db.get('k'))).toBe('v');
      await db.close();
    });
  }

  for (const [what, stuck] of [
    ['a WAL segment', /\.wal$/],
    ['a table', /\.sst$/],
    ['the MANIFEST', /\/MANIFEST-/],
  ] as const) {
    it(`on ${what} of an open database fails the write or flush with IO_ERROR and keeps what was acknowledged`, async () => {
      const fs = new NoProgressFileSystem();
      fs.mkdirSync('/db', { recursive: true });
      const db = await Database.open('/db', { fs });
      await db.put(enc('before'), enc('1'), { sync: true });
      fs.stuck = stuck;
      const err = await caught(
        (async () => {
          await db.put(enc('after'), enc('2'), { sync: true });
          await db.flush();
        })(),
      );
      expect(fs.stuckWrites.length).toBeGreaterThan(0);
      expect(err).toBeInstanceOf(StrataError);
      expect(['IO_ERROR', 'READ_ONLY']).toContain((err as StrataError).code);
      await db.close().catch(() => undefined);
      fs.stuck = undefined;
      const again = await Database.open('/db', { fs });
      expect(new TextDecoder().decode(await again.get('before'))).toBe('1');
      await again.close();
    });
  }
});
