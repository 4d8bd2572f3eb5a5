import { describe, expect, it } from 'vitest';
import { StrataError } from '@strata-db/errors';
import { EntryKind, FrozenMemtable, Memtable, type PointEntry } from './index.js';

const b = (s: string): Uint8Array => new TextEncoder().encode(s);
const s = (u: Uint8Array): string => new TextDecoder().decode(u);

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof StrataError) return e.code;
    throw e;
  }
  return undefined;
}

describe('Memtable basics', () => {
  it('gets the newest version visible at a snapshot', () => {
    const m = new Memtable();
    m.put(b('a'), b('1'), 1);
    m.put(b('a'), b('2'), 2);
    m.delete(b('a'), 3);
    m.put(b('a'), b('4'), 4);
    expect(m.get(b('a'), 0)).toBeUndefined();
    expect(m.get(b('a'), 1)).toEqual({ kind: 'put', value: b('1'), seq: 1 });
    expect(m.get(b('a'), 2)).toEqual({ kind: 'put', value: b('2'), seq: 2 });
    expect(m.get(b('a'), 3)).toEqual({ kind: 'deleted', seq: 3 });
    expect(m.get(b('a'), 99)).toEqual({ kind: 'put', value: b('4'), seq: 4 });
    expect(m.get(b('b'), 99)).toBeUndefined();
    expect(m.newestVisible(b('a'), 3)).toEqual({
      key: b('a'),
      seq: 3,
      kind: EntryKind.Delete,
      value: new Uint8Array(0),
    });
  });

  it('applies range tombstones only to older versions and only at snapshots that see them', () => {
    const m = new Memtable();
    m.put(b('b'), b('old'), 1);
    m.deleteRange(b('a'), b('c'), 2);
    m.put(b('bb'), b('new'), 3);
    expect(m.get(b('b'), 1)).toEqual({ kind: 'put', value: b('old'), seq: 1 });
    expect(m.get(b('b'), 2)).toEqual({ kind: 'deleted', seq: 2 });
    // No point entry at all, but the tombstone still answers: older sources are hidden.
    expect(m.get(b('a'), 5)).toEqual({ kind: 'deleted', seq: 2 });
    expect(m.get(b('c'), 5)).toBeUndefined(); // end is exclusive
    expect(m.get(b('bb'), 5)).toEqual({ kind: 'put', value: b('new'), seq: 3 });
    expect(m.newestVisible(b('b'), 5)?.seq).toBe(1); // raw: tombstones not applied
    expect(m.maxCoveringTombstoneSeq(b('b'), 5)).toBe(2);
    expect(m.maxCoveringTombstoneSeq(b('b'), 1)).toBe(0);
  });

  it('applies a batch with consecutive seqs', () => {
    const m = new Memtable();
    m.apply(
      [
        { type: 'put', key: b('x'), value: b('1') },
        { type: 'deleteRange', start: b('a'), end: b('z') },
        { type: 'put', key: b('y'), value: b('2') },
        { type: 'del', key: b('x') },
      ],
      10
    );
    expect(m.maxLsn()).toBe(13);
    expect(m.entryCount).toBe(3);
    expect(m.rangeTombstoneCount).toBe(1);
    expect(m.get(b('x'), 10)).toEqual({ kind: 'put', value: b('1'), seq: 10 });
    expect(m.get(b('x'), 11)).toEqual({ kind: 'deleted', seq: 11 });
    expect(m.get(b('y'), 13)).toEqual({ kind: 'put', value: b('2'), seq: 12 });
    expect(m.get(b('x'), 13)).toEqual({ kind: 'deleted', seq: 13 });
  });

  it('copies keys and values: later mutation of the caller buffer changes nothing', () => {
    const m = new Memtable();
    const k = b('key');
    const v = b('value');
    m.put(k, v, 1);
    k[0] = 0;
    v[0] = 0;
    expect(m.get(b('key'), 1)).toEqual({
      kind: 'put',
      value: b('value'),
      seq: 1,
    });
  });

  it('copies tombstone bounds, Buffers included (a Buffer\'s slice() is a view, not a copy)', () => {
    const m = new Memtable();
    const start = Buffer.from('b');
    const end = Buffer.from('d');
    m.put(b('c'), b('v'), 1);
    m.deleteRange(start, end, 2);
    start.fill(0x7a); // 'z': would move the tombstone past 'c'
    end.fill(0x7a);
    expect(m.get(b('c'), 2)).toEqual({ kind: 'deleted', seq: 2 });
    expect(m.rangeTombstones().map((t) => [s(t.start), s(t.end)])).toEqual([['b', 'd']]);
  });

  it('iterates raw entries in (key ASC, seq DESC) order both ways', () => {
    const m = new Memtable();
    m.put(b('b'), b('1'), 1);
    m.put(b('a'), b('2'), 2);
    m.put(b('b'), b('3'), 3);
    m.put(b('c'), b('4'), 4);
    const cur = m.iterator();
    const fwd: string[] = [];
    cur.seekToFirst();
    while (cur.valid()) {
      fwd.push(`${s(cur.entry().key)}#${cur.entry().seq}`);
      cur.next();
    }
    expect(fwd).toEqual(['a#2', 'b#3', 'b#1', 'c#4']);
    const back: string[] = [];
    cur.seekToLast();
    while (cur.valid()) {
      back.push(`${s(cur.entry().key)}#${cur.entry().seq}`);
      cur.prev();
    }
    expect(back).toEqual(['c#4', 'b#1', 'b#3', 'a#2']);
    cur.seek(b('b'));
    expect(cur.entry().seq).toBe(3);
    cur.seekForPrev(b('b'));
    expect(cur.entry().seq).toBe(1);
    cur.seekForPrev(b('bz'));
    expect(cur.entry().seq).toBe(1);
    cur.seekForPrev(b('0'));
    expect(cur.valid()).toBe(false);
    cur.seek(b('d'));
    expect(cur.valid()).toBe(false);
  });

  it('scans visible entries with bounds, forward and reverse', () => {
    const m = new Memtable();
    for (const [i, k] of ['a', 'b', 'c', 'd', 'e'].entries()) m.put(b(k), b(k.toUpperCase()), i + 1);
    m.delete(b('c'), 6);
    m.deleteRange(b('d'), b('e'), 7);
    const keys = (it: Iterable<{ key: Uint8Array }>) => [...it].map((e) => s(e.key));
    expect(keys(m.scan(99))).toEqual(['a', 'b', 'e']);
    expect(keys(m.scan(5))).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(keys(m.scan(99, { reverse: true }))).toEqual(['e', 'b', 'a']);
    expect(keys(m.scan(5, { gt: b('a'), lt: b('e') }))).toEqual(['b', 'c', 'd']);
    expect(keys(m.scan(5, { gte: b('b'), lte: b('d'), reverse: true }))).toEqual(['d', 'c', 'b']);
    expect(keys(m.scan(5, { gt: b('a'), lt: b('d'), reverse: true }))).toEqual(['c', 'b']);
    expect(keys(m.scan(5, { limit: 2 }))).toEqual(['a', 'b']);
  });

  it('flushes every version and every tombstone as written', () => {
    const m = new Memtable();
    m.put(b('k'), b('1'), 1);
    m.deleteRange(b('a'), b('m'), 2);
    m.delete(b('k'), 3);
    m.deleteRange(b('a'), b('c'), 4);
    m.put(b('k'), b('5'), 5);
    const f = m.freeze();
    const entries: PointEntry[] = [...f.flushEntries()];
    expect(entries.map((e) => [s(e.key), e.seq, e.kind])).toEqual([
      ['k', 5, EntryKind.Put],
      ['k', 3, EntryKind.Delete],
      ['k', 1, EntryKind.Put],
    ]);
    expect([...f.flushTombstones()].map((t) => [s(t.start), s(t.end), t.seq])).toEqual([
      ['a', 'c', 4],
      ['a', 'm', 2],
    ]);
  });

  it('freezes: writes throw FROZEN on both objects; reads keep working', () => {
    const m = new Memtable();
    m.put(b('a'), b('1'), 1);
    const f = m.freeze();
    expect(f).toBeInstanceOf(FrozenMemtable);
    expect(m.freeze()).toBe(f);
    expect(
      codeOf(() => {
        m.put(b('a'), b('2'), 2);
      })
    ).toBe('FROZEN');
    expect(
      codeOf(() => {
        m.injectMaxLsn(9);
      })
    ).toBe('FROZEN');
    expect(
      codeOf(() => {
        f.put(b('a'), b('2'), 2);
      })
    ).toBe('FROZEN');
    expect(
      codeOf(() => {
        f.delete(b('a'), 2);
      })
    ).toBe('FROZEN');
    expect(
      codeOf(() => {
        f.deleteRange(b('a'), b('b'), 2);
      })
    ).toBe('FROZEN');
    expect(
      codeOf(() => {
        f.apply([], 2);
      })
    ).toBe('FROZEN');
    expect(
      codeOf(() => {
        f.injectMaxLsn(2);
      })
    ).toBe('FROZEN');
    expect(f.get(b('a'), 1)).toEqual({ kind: 'put', value: b('1'), seq: 1 });
    expect(f.frozen).toBe(true);
  });

  it('maxLsn tracks writes; injectMaxLsn raises and never lowers', () => {
    const m = new Memtable();
    expect(m.maxLsn()).toBe(0);
    m.put(b('a'), b('1'), 5);
    expect(m.maxLsn()).toBe(5);
    expect(m.injectMaxLsn(3)).toBe(5);
    expect(m.injectMaxLsn(100)).toBe(100);
    expect(m.maxLsn()).toBe(100);
    expect(
      codeOf(() => {
        m.put(b('a'), b('1'), 100);
      })
    ).toBe('INVALID_ARGUMENT');
    m.put(b('a'), b('1'), 101);
    expect(
      codeOf(() => {
        m.injectMaxLsn(-1);
      })
    ).toBe('INVALID_ARGUMENT');
    expect(
      codeOf(() => {
        m.injectMaxLsn(1.5);
      })
    ).toBe('INVALID_ARGUMENT');
  });

  it('rejects bad input with INVALID_ARGUMENT and writes nothing', () => {
    const m = new Memtable();
    const bad: unknown = 'a';
    expect(
      codeOf(() => {
        m.put(bad as Uint8Array, b('v'), 1);
      })
    ).toBe('INVALID_ARGUMENT');
    expect(
      codeOf(() => {
        m.put(b('k'), bad as Uint8Array, 1);
      })
    ).toBe('INVALID_ARGUMENT');
    expect(
      codeOf(() => {
        m.put(b('k'), b('v'), 0);
      })
    ).toBe('INVALID_ARGUMENT');
    expect(
      codeOf(() => {
        m.put(b('k'), b('v'), 1.5);
      })
    ).toBe('INVALID_ARGUMENT');
    expect(
      codeOf(() => {
        m.put(b('k'), b('v'), 2 ** 53);
      })
    ).toBe('INVALID_ARGUMENT');
    expect(
      codeOf(() => {
        m.deleteRange(b('b'), b('b'), 1);
      })
    ).toBe('INVALID_ARGUMENT');
    expect(
      codeOf(() => {
        m.deleteRange(b('c'), b('b'), 1);
      })
    ).toBe('INVALID_ARGUMENT');
    m.put(b('k'), b('v'), 5);
    expect(
      codeOf(() => {
        m.delete(b('k'), 5);
      })
    ).toBe('INVALID_ARGUMENT');
    expect(
      codeOf(() => {
        m.delete(b('k'), 4);
      })
    ).toBe('INVALID_ARGUMENT');
    // A batch with one bad op is rejected whole.
    expect(
      codeOf(() => {
        m.apply(
          [
            { type: 'put', key: b('x'), value: b('1') },
            { type: 'deleteRange', start: b('z'), end: b('a') },
          ],
          6
        );
      })
    ).toBe('INVALID_ARGUMENT');
    expect(
      codeOf(() => {
        m.apply([{ type: 'nope' } as never], 6);
      })
    ).toBe('INVALID_ARGUMENT');
    expect(
      codeOf(() => {
        m.apply([{ type: 'put', key: b('x'), value: b('1') }], Number.MAX_SAFE_INTEGER);
      })
    ).toBeUndefined();
    expect(m.entryCount).toBe(2);
    expect(m.get(b('x'), Number.MAX_SAFE_INTEGER)?.seq).toBe(Number.MAX_SAFE_INTEGER);
    expect(
      codeOf(() => {
        m.get(bad as Uint8Array, 1);
      })
    ).toBe('INVALID_ARGUMENT');
    expect(
      codeOf(() => {
        m.get(b('x'), Number.NaN);
      })
    ).toBe('INVALID_ARGUMENT');
  });

  it('flush keeps exact ties: identical puts and identical tombstones at different seqs all come out', () => {
    const m = new Memtable();
    m.put(b('k'), b('same'), 1);
    m.deleteRange(b('a'), b('z'), 2);
    m.put(b('k'), b('same'), 3);
    m.deleteRange(b('a'), b('z'), 4);
    m.delete(b('k'), 5);
    m.delete(b('k'), 6);
    m.deleteRange(b('a'), b('b'), 7);
    const f = m.freeze();
    expect([...f.flushEntries()].map((e) => `${s(e.key)}#${e.seq}:${e.kind}:${s(e.value)}`)).toEqual([
      'k#6:0:',
      'k#5:0:',
      'k#3:1:same',
      'k#1:1:same',
    ]);
    expect([...f.flushTombstones()].map((t) => `[${s(t.start)},${s(t.end)})#${t.seq}`)).toEqual(['[a,b)#7', '[a,z)#4', '[a,z)#2']);
  });

  it('a frozen memtable reads the same before and after writes to the new active one', () => {
    const m = new Memtable();
    m.put(b('a'), b('1'), 1);
    m.deleteRange(b('b'), b('d'), 2);
    m.put(b('c'), b('3'), 3);
    const f = m.freeze();
    const observe = () => ({
      a: f.get(b('a'), 9),
      b: f.get(b('b'), 9),
      c: f.get(b('c'), 9),
      entries: [...f.flushEntries()].map((e) => `${s(e.key)}#${e.seq}`),
      tombstones: f.rangeTombstones().map((t) => t.seq),
      visible: [...f.scan(9)].map((e) => s(e.key)),
      lsn: f.maxLsn(),
      bytes: f.approximateBytes(),
    });
    const before = observe();
    const active = new Memtable();
    active.injectMaxLsn(f.maxLsn());
    active.put(b('a'), b('new'), 4);
    active.deleteRange(b('a'), b('z'), 5);
    expect(
      codeOf(() => {
        m.put(b('a'), b('x'), 6);
      })
    ).toBe('FROZEN');
    expect(observe()).toEqual(before);
    expect(before.visible).toEqual(['a', 'c']);
  });

  it('is deterministic: the same writes give the same contents and the same size', () => {
    const build = () => {
      const m = new Memtable();
      for (let i = 1; i <= 2000; i++) {
        const key = Uint8Array.of((i * 7919) & 0xff, i & 0x0f);
        if (i % 97 === 0) m.deleteRange(key, Uint8Array.of(...key, 1), i);
        else m.put(key, Uint8Array.of(i & 0xff), i);
      }
      return m.freeze();
    };
    const x = build();
    const y = build();
    expect(x.approximateBytes()).toBe(y.approximateBytes());
    expect([...x.flushEntries()]).toEqual([...y.flushEntries()]);
    expect([...x.flushTombstones()]).toEqual([...y.flushTombstones()]);
    expect(x.approximateBytes()).toBeGreaterThan(2000 * 3);
  });

  it('finds the version visible at any snapshot under many newer versions (index walk and its search fallback)', () => {
    const m = new Memtable();
    const keys = ['k', 'k\u0000', 'kk'].map(b);
    let seq = 0;
    for (let round = 0; round < 40; round++) for (const key of keys) m.put(key, Uint8Array.of(round), ++seq);
    for (let snap = 0; snap <= seq + 1; snap++) {
      keys.forEach((key, k) => {
        // Key k was written at seqs k+1, k+4, k+7, … with value = round.
        const round = Math.floor((Math.min(snap, seq) - (k + 1)) / 3);
        const expected = round < 0 ? undefined : { kind: 'put', value: Uint8Array.of(round), seq: round * 3 + k + 1 };
        expect(m.get(key, snap), `key ${k} at ${snap}`).toEqual(expected);
      });
    }
  });
});
