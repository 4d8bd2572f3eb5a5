/**
 * The worker's paced collection: a `gc` that frees dead ArrayBuffers, obtained without leaving
 * `--expose-gc` set for the rest of the process.
 */
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { COLLECT_AFTER_EXTERNAL_BYTES, GarbagePacer, garbageCollector } from './garbage-pace.js';

describe('garbageCollector', () => {
  it('collects dead ArrayBuffers, and leaves no gc in contexts created afterwards', async () => {
    const hadGc = typeof (globalThis as { gc?: unknown }).gc === 'function';
    const collect = garbageCollector();
    expect(collect).toBeTypeOf('function');
    // Only a process started with --expose-gc has gc in every context; the flag was cleared.
    expect(typeof runInNewContext('typeof gc')).toBe('string');
    expect(runInNewContext('typeof gc')).toBe(hadGc ? 'function' : 'undefined');

    const before = process.memoryUsage().arrayBuffers;
    for (let i = 0; i < 64; i++) new Uint8Array(256 * 1024).fill(1); // 16 MiB, dead at once
    collect!();
    // Freed by the collection's sweep, which runs beside this thread: wait for it.
    for (let i = 0; i < 50 && process.memoryUsage().arrayBuffers - before >= 8 * 1024 * 1024; i++) await new Promise((r) => setTimeout(r, 10));
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(8 * 1024 * 1024);
  });
});

describe('GarbagePacer', () => {
  it('collects once external memory grew by afterBytes since the last collection, and follows it down', () => {
    let external = 100;
    let collected = 0;
    const pacer = new GarbagePacer(
      () => {
        collected++;
        external = 40; // what the collection left
      },
      50,
      () => external,
    );
    external = 149;
    pacer.check();
    expect(collected).toBe(0);
    external = 150;
    pacer.check();
    expect(collected).toBe(1);
    // The baseline is what the collection left (40): 89 does not collect, 90 does.
    external = 89;
    pacer.check();
    expect(collected).toBe(1);
    // Memory freed without it (a scavenge) lowers the baseline: growth is counted from there.
    external = 20;
    pacer.check();
    external = 69;
    pacer.check();
    expect(collected).toBe(1);
    external = 70;
    pacer.check();
    expect(collected).toBe(2);
    expect(pacer.collections).toBe(2);
  });

  it('by default collects after 1 MiB of growth: what an ended worker leaves in its malloc arena follows the garbage this lets pile up', () => {
    expect(COLLECT_AFTER_EXTERNAL_BYTES).toBe(1024 * 1024);
    let external = 5 * 1024 * 1024; // live buffers: not garbage, never a reason to collect
    let collected = 0;
    const pacer = new GarbagePacer(
      () => {
        collected++;
        external = 5 * 1024 * 1024;
      },
      undefined,
      () => external,
    );
    external += 1024 * 1024 - 1;
    pacer.check();
    expect(collected).toBe(0);
    external += 1;
    pacer.check();
    expect(collected).toBe(1);
  });
});
