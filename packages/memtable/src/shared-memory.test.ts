import { describe, expect, it } from 'vitest';
import { StrataAssertionError } from '@strata-db/errors';
import { Memtable, MemtableMemory } from './index.js';
import { sharedBytesAllocated } from './shared-memory.js';

/**
 * V8 does not count SharedArrayBuffers as external memory, so dead shared memtables are freed
 * only when something else triggers a collection (shared-memory.ts). Memtables therefore make
 * no shared garbage in the steady state — they reuse the memory of released ones — and a
 * memtable that never crosses threads takes plain memory, which V8 counts and collects.
 */
describe('memtable memory over 400 MB of memtables', () => {
  const value = new Uint8Array(200).fill(7);
  const key = new Uint8Array(16);
  const view = new DataView(key.buffer);
  const fill = (mem: Memtable, seq: number): number => {
    for (let i = 0; i < 12_000; i++) {
      view.setUint32(12, i * 2654435761);
      mem.put(key, value, seq++);
    }
    return seq;
  };

  it('shared memtables built on released ones allocate (almost) nothing after the first', async () => {
    const memory = new MemtableMemory();
    let seq = 1;
    let previous: Memtable | undefined;
    let afterFirst = 0;
    let most = 0;
    for (let m = 0; m < 120; m++) {
      const mem = new Memtable({ memory, ...(previous !== undefined ? { like: previous.size() } : {}) });
      seq = fill(mem, seq);
      mem.freeze();
      if (previous !== undefined) previous.freeze().release();
      previous = mem;
      if (m === 1) afterFirst = sharedBytesAllocated();
      most = Math.max(most, process.memoryUsage().arrayBuffers);
      if (m % 8 === 0) await new Promise((r) => setImmediate(r));
    }
    expect(memory.reused).toBe(118);
    // 118 memtables of ~3.4 MB each: without reuse, ~400 MB more.
    expect(sharedBytesAllocated() - afterFirst).toBeLessThan(4 * 2 ** 20);
    expect(most).toBeLessThan(200 * 2 ** 20);
  }, 60_000);

  it('plain memtables dropped without release are collected at the pace they are allocated', async () => {
    let most = 0;
    let seq = 1;
    const shared = sharedBytesAllocated();
    for (let m = 0; m < 120; m++) {
      const mem = new Memtable({ shared: false });
      seq = fill(mem, seq);
      mem.freeze();
      most = Math.max(most, process.memoryUsage().arrayBuffers);
      if (m % 8 === 0) await new Promise((r) => setImmediate(r));
    }
    expect(sharedBytesAllocated()).toBe(shared);
    expect(most).toBeLessThan(200 * 2 ** 20);
  }, 60_000);

  it('a memtable in plain memory cannot be handed to another thread', () => {
    const mem = new Memtable({ shared: false });
    mem.put(key, value, 1);
    expect(() => mem.freeze().image()).toThrow(StrataAssertionError);
  });
});
