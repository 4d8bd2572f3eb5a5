/**
 * A frozen memtable crosses to another thread without a copy: its image's buffers are shared
 * memory, and a real worker thread reads the same entries from them.
 */
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { FrozenMemtable, Memtable, type SharedMemtableImage } from './index.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function filled(n: number): FrozenMemtable {
  const m = new Memtable();
  let seq = 1;
  for (let i = 0; i < n; i++) m.put(enc(`key-${(i * 7919) % n}`), enc(`value-${i}`), seq++);
  m.delete(enc('key-1'), seq++);
  m.deleteRange(enc('key-2'), enc('key-3'), seq);
  return m.freeze();
}

describe('SharedMemtableImage', () => {
  it('is backed by shared memory, so a clone sees the same bytes (no copy)', () => {
    const frozen = filled(5000);
    const image = frozen.image();
    const arrays = [image.points.hot, image.points.nodes, image.points.towers, image.points.index.slots, ...image.points.chunks];
    for (const a of arrays) expect(a.buffer).toBeInstanceOf(SharedArrayBuffer);
    const clone = structuredClone(image);
    // Write past the last entry (unused capacity) through the clone; the original sees it.
    const spare = clone.points.hot.length - 1;
    expect(image.points.hot[spare]).toBe(0);
    clone.points.hot[spare] = 12345;
    expect(image.points.hot[spare]).toBe(12345);
    clone.points.hot[spare] = 0;
  });

  it('a worker thread rebuilds a FrozenMemtable from it and reads every version and tombstone', async () => {
    const frozen = filled(20_000);
    const expected = [...frozen.flushEntries()].map((e) => `${Buffer.from(e.key).toString()}#${e.seq}:${e.kind}:${Buffer.from(e.value).toString()}`);
    // The worker (CommonJS eval code that registers tsx to import these TypeScript sources)
    // receives only the image, reads every version and answers a get.
    const worker = new Worker(
      `const { parentPort } = require('node:worker_threads');
      parentPort.once('message', async ({ image, url, tsx }) => {
        (await import(tsx)).register();
        const { FrozenMemtable } = await import(url);
        const m = FrozenMemtable.fromImage(image);
        const show = (u) => Buffer.from(u).toString();
        const entries = [];
        for (const e of m.flushEntries()) entries.push(show(e.key) + '#' + e.seq + ':' + e.kind + ':' + show(e.value));
        const tombstones = [...m.flushTombstones()].map((t) => show(t.start) + '..' + show(t.end) + '#' + t.seq);
        const get = m.get(Buffer.from('key-4'), Number.MAX_SAFE_INTEGER);
        parentPort.postMessage({ entries, tombstones, get: get && { kind: get.kind, value: show(get.value) }, maxLsn: m.maxLsn() });
      });`,
      { eval: true, execArgv: ['--conditions=source'] },
    );
    try {
      const image: SharedMemtableImage = frozen.image();
      const reply = new Promise<{ entries: string[]; tombstones: string[]; get: { kind: string; value?: string } | undefined; maxLsn: number }>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      worker.postMessage({ image, url: new URL('./index.ts', import.meta.url).href, tsx: import.meta.resolve('tsx/esm/api') });
      const r = await reply;
      expect(r.entries).toEqual(expected);
      expect(r.tombstones).toEqual(['key-2..key-3#20002']);
      expect(r.get).toEqual({ kind: 'put', value: expect.stringMatching(/^value-/) });
      expect(r.maxLsn).toBe(frozen.maxLsn());
    } finally {
      await worker.terminate();
    }
  });
});
