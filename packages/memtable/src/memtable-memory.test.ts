/**
 * Memtables made one after another from one `MemtableMemory`: a released memtable's buffers
 * go to the next one, and a memtable still pinned keeps its own. The silent-corruption case
 * this guards against: a reader of a memtable whose memory was handed over would see the new
 * memtable's entries — so the model property holds readers across many reuses and checks every
 * one of them against its own model after every step.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StrataAssertionError } from '@strata-db/errors';
import { Memtable, MemtableMemory, type FrozenMemtable, type InternalIterator } from './index.js';
import { EntryKind, type PointEntry } from './types.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const show = (e: PointEntry): string => `${Buffer.from(e.key).toString()}#${e.seq}:${e.kind}=${Buffer.from(e.value).toString()}`;

function fill(mem: Memtable, tag: string, n: number, firstSeq: number): number {
  let seq = firstSeq;
  for (let i = 0; i < n; i++) mem.put(enc(`key-${(i * 7919) % n}`), enc(`${tag}-${i}`.repeat(3)), seq++);
  return seq;
}

/** Every entry in order; capped, so that a reader of overwritten links fails the comparison instead of looping. */
function entries(it: InternalIterator): string[] {
  const out: string[] = [];
  it.seekToFirst();
  while (it.valid() && out.length <= 50_000) {
    out.push(show(it.entry()));
    it.next();
  }
  return out;
}

const buffersOf = (m: FrozenMemtable): ArrayBufferLike[] => {
  const p = m.image().points;
  return [p.hot.buffer, p.nodes.buffer, p.towers.buffer, p.index.slots.buffer, ...p.chunks.map((c) => c.buffer)];
};

describe('MemtableMemory', () => {
  it('hands a released memtable’s buffers to the next memtable, which reads only its own entries', () => {
    const memory = new MemtableMemory();
    const a = new Memtable({ memory });
    let seq = fill(a, 'a', 3000, 1);
    const frozenA = a.freeze();
    const bufsA = buffersOf(frozenA);
    expect(frozenA.release()).toBe(true);
    expect(memory.bytes).toBeGreaterThan(100_000);

    const b = new Memtable({ memory });
    expect(memory.reused).toBe(1);
    expect(memory.bytes).toBe(0);
    seq = fill(b, 'b', 1000, seq);
    const frozenB = b.freeze();
    // The same memory: the arrays, the index and the first arena chunks are A's.
    const bufsB = buffersOf(frozenB);
    for (const buf of bufsB.slice(0, 4)) expect(bufsA).toContain(buf);
    expect(bufsA).toContain(bufsB[4]);
    // B holds its 1000 entries and nothing of A's (the index was zeroed, the arrays too).
    const seen = entries(frozenB.iterator());
    expect(seen).toHaveLength(1000);
    expect(seen.every((s) => s.includes('=b-'))).toBe(true);
    expect(frozenB.get(enc('key-2999'), seq)).toBeUndefined();
    expect(frozenB.get(enc('key-7'), seq)).toMatchObject({ kind: 'put' });
  });

  it('sizes a memtable by its writes alone, whether it started on released, presized or new buffers', () => {
    // The engine freezes a memtable at a size; which buffers it started on depends on when a
    // flush ended. If the size depended on them, so would the freeze points and the tables.
    const memory = new MemtableMemory();
    const big = new Memtable({ memory });
    const seq = fill(big, 'big', 5000, 1);
    const like = big.size();
    expect(big.freeze().release()).toBe(true);
    const reused = new Memtable({ memory });
    expect(memory.reused).toBe(1);
    const presized = new Memtable({ like });
    const fresh = new Memtable();
    // Only the one started on released buffers says so (the engine sheds it while it is empty and writes have stopped).
    expect([big, reused, presized, fresh].map((m) => m.onReleasedMemory)).toEqual([false, true, false, false]);
    expect(new Memtable({ memory }).onReleasedMemory).toBe(false); // the memory held nothing more
    const sizes: number[][] = [[], [], []];
    for (const [i, m] of [reused, presized, fresh].entries()) {
      for (let n = 0; n < 1200; n++) {
        m.put(enc(`new-${(n * 7919) % 1200}`), enc(`v${n}`), seq + n); // new keys: the index grows too
        if (n % 100 === 99) sizes[i]!.push(m.approximateBytes());
      }
    }
    expect(sizes[0]).toEqual(sizes[2]);
    expect(sizes[1]).toEqual(sizes[2]);
    expect(new Set(sizes[2]).size).toBe(sizes[2]!.length); // it grows with the writes
  });

  it('keeps a pinned memtable’s memory until the last pin goes; a read after that throws', () => {
    const memory = new MemtableMemory();
    const a = new Memtable({ memory });
    let seq = fill(a, 'a', 500, 1);
    const it = a.iterator();
    a.retain(); // the iterator's pin
    const frozenA = a.freeze();
    const want = entries(frozenA.iterator());
    expect(frozenA.release()).toBe(false); // the owner lets go; the iterator still reads
    expect(frozenA.released).toBe(false);
    expect(memory.bytes).toBe(0);

    const b = new Memtable({ memory });
    expect(memory.reused).toBe(0);
    seq = fill(b, 'b', 500, seq);
    expect(entries(it)).toEqual(want);

    expect(frozenA.release()).toBe(true);
    expect(frozenA.released).toBe(true);
    const c = new Memtable({ memory });
    expect(memory.reused).toBe(1);
    fill(c, 'c', 500, seq);
    expect(() => {
      it.seekToFirst();
    }).toThrow(StrataAssertionError);
    expect(() => frozenA.get(enc('key-1'), seq)).toThrow(StrataAssertionError);
    expect(() => frozenA.image()).toThrow(StrataAssertionError);
    expect(() => {
      frozenA.retain();
    }).toThrow(StrataAssertionError);
    expect(() => frozenA.release()).toThrow(StrataAssertionError);
  });

  it('refuses to release a writable memtable', () => {
    const m = new Memtable({ memory: new MemtableMemory() });
    expect(() => m.release()).toThrow(StrataAssertionError);
  });

  it('keeps at most maxHeld released memtables', () => {
    const memory = new MemtableMemory(1);
    const made = [0, 1, 2].map((i) => {
      const m = new Memtable({ memory });
      fill(m, String(i), 100, 1);
      return m.freeze();
    });
    for (const m of made) m.release();
    expect(memory.dropped).toBe(2);
    new Memtable({ memory });
    expect(memory.reused).toBe(1);
    expect(memory.bytes).toBe(0);
  });

  it('a memtable sized like the last one grows its arrays by no copy', () => {
    const first = new Memtable();
    const unsized = sizedArrays(first);
    fill(first, 'x', 20_000, 1);
    // An unsized memtable replaced every array while it grew…
    expect(sizedArrays(first).some((b, i) => b === unsized[i])).toBe(false);
    const again = new Memtable({ like: first.size() });
    const initial = sizedArrays(again);
    fill(again, 'y', 20_000, 1);
    // …one sized like it keeps the arrays it started with.
    expect(sizedArrays(again)).toEqual(initial);
    expect(sizedArrays(again).every((b, i) => b === initial[i])).toBe(true);
  });
});

/** The memtable's array buffers (not its arena), read through its image without freezing it. */
function sizedArrays(m: Memtable): ArrayBufferLike[] {
  const p = (m as unknown as { state: { points: { image(): { hot: Int32Array; nodes: Int32Array; towers: Int32Array; index: { slots: Int32Array } } } } }).state.points.image();
  return [p.hot.buffer, p.nodes.buffer, p.towers.buffer, p.index.slots.buffer];
}

describe('MemtableMemory against a model', () => {
  type Step = { t: 'write'; keys: number[] } | { t: 'pin' } | { t: 'unpin'; i: number } | { t: 'rotate' };
  const stepArb: fc.Arbitrary<Step> = fc.oneof(
    { weight: 6, arbitrary: fc.record({ t: fc.constant('write' as const), keys: fc.array(fc.nat(300), { minLength: 1, maxLength: 80 }) }) },
    { weight: 2, arbitrary: fc.constant({ t: 'pin' as const }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('unpin' as const), i: fc.nat(5) }) },
    { weight: 3, arbitrary: fc.constant({ t: 'rotate' as const }) },
  );

  it('every reader of a pinned memtable sees exactly its entries while released ones are reused', () => {
    let reusedInAll = 0;
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 60 }), (steps) => {
        const memory = new MemtableMemory();
        let active = new Memtable({ memory });
        let model: string[] = [];
        let seq = 1;
        /** Pinned readers: the memtable, an iterator opened over it, what it must show. */
        const readers: { mem: FrozenMemtable | Memtable; it: InternalIterator; want: string[]; frozen: boolean }[] = [];
        const check = (): void => {
          for (const r of readers) {
            // A reader over the active memtable may see its later writes; a frozen one must not change.
            if (r.frozen || r.mem.frozen) expect(entries(r.it)).toEqual(r.want);
          }
        };
        for (const step of steps) {
          if (step.t === 'write') {
            for (const k of step.keys) {
              const key = enc(`k${String(k).padStart(4, '0')}`);
              const value = enc(`v${seq}`.repeat((k % 5) + 1));
              active.put(key, value, seq);
              model.push(show({ key, seq, kind: EntryKind.Put, value }));
              seq++;
            }
          } else if (step.t === 'pin') {
            active.retain();
            readers.push({ mem: active, it: active.iterator(), want: [], frozen: false });
          } else if (step.t === 'unpin') {
            const r = readers.splice(step.i % Math.max(1, readers.length), 1)[0];
            if (r !== undefined) r.mem.release();
          } else {
            const frozen = active.freeze();
            const want = entries(frozen.iterator());
            expect(want).toEqual(
              model.slice().sort((x, y) => {
                const kx = x.slice(0, x.indexOf('#'));
                const ky = y.slice(0, y.indexOf('#'));
                if (kx !== ky) return kx < ky ? -1 : 1;
                return Number(y.slice(y.indexOf('#') + 1, y.indexOf(':'))) - Number(x.slice(x.indexOf('#') + 1, x.indexOf(':')));
              }),
            );
            for (const r of readers) {
              if (r.mem === active) {
                r.want = want;
                r.frozen = true;
              }
            }
            const size = frozen.size();
            frozen.release(); // the owner's reference: only pinned readers keep it now
            active = new Memtable({ memory, like: size });
            model = [];
          }
          check();
        }
        reusedInAll += memory.reused;
      }),
      { numRuns: Number(process.env['STRATA_MODEL_RUNS'] ?? 200) },
    );
    expect(reusedInAll).toBeGreaterThan(0);
  });
});
