import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StagingBuffer } from './staging-buffer.js';

describe('StagingBuffer', () => {
  it('keeps the unconsumed bytes intact through compaction, growth and shrinking', () => {
    const step = fc.oneof(
      fc.record({ kind: fc.constant('stage' as const), size: fc.oneof(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 60_000, max: 300_000 })) }),
      fc.record({ kind: fc.constant('consume' as const), records: fc.integer({ min: 1, max: 4 }) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const staging = new StagingBuffer(128 * 1024);
        const model: Buffer[] = []; // pending records
        const ends: number[] = [];
        let fill = 0;
        for (const s of steps) {
          if (s.kind === 'stage') {
            const at = staging.allocate(s.size);
            const bytes = Buffer.alloc(s.size, ++fill % 256);
            bytes.copy(staging.buffer, at);
            model.push(bytes);
            ends.push(staging.end);
          } else if (model.length > 0) {
            const n = Math.min(s.records, model.length);
            const to = ends[n - 1]!;
            const want = Buffer.concat(model.slice(0, n));
            expect(Buffer.from(staging.view(staging.consumed, to)).equals(want)).toBe(true);
            staging.consume(to);
            model.splice(0, n);
            ends.splice(0, n);
          }
          expect(Buffer.from(staging.view(staging.consumed, staging.end)).equals(Buffer.concat(model))).toBe(true);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('leaves a pinned view untouched while more records are staged (a write off the JS thread reads it)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 40_000 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.oneof(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 60_000, max: 200_000 })), { maxLength: 20 }),
        fc.integer({ min: 1, max: 3 }),
        (before, during, consumedFirst) => {
          const staging = new StagingBuffer(128 * 1024);
          let fill = 0;
          const stage = (size: number): Buffer => {
            const at = staging.allocate(size);
            const bytes = Buffer.alloc(size, ++fill % 256);
            bytes.copy(staging.buffer, at);
            return bytes;
          };
          // Records written before the group and consumed while the group was already staged
          // (as a group commit leaves them): the group then sits past the start of the buffer,
          // where the next in-place compaction would move it.
          for (let i = 0; i < consumedFirst; i++) stage(30_000);
          const written = staging.end;
          const group = Buffer.concat(before.map(stage));
          staging.consume(written);
          const from = staging.consumed;
          const to = staging.end;
          staging.pin();
          const lent = staging.view(from, to);
          const later = Buffer.concat(during.map(stage));
          expect(Buffer.from(lent).equals(group)).toBe(true);
          staging.unpin();
          staging.consume(to);
          expect(Buffer.from(staging.view(staging.consumed, staging.end)).equals(later)).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('lets go of a buffer that grew for one huge batch once it is drained', () => {
    const staging = new StagingBuffer(100_000);
    staging.allocate(1_000_000);
    expect(staging.buffer.length).toBeGreaterThanOrEqual(1_000_000);
    staging.consume(staging.end);
    expect(staging.buffer.length).toBeLessThan(100_000);
    staging.allocate(10);
    staging.discard();
    expect(staging.consumed).toBe(staging.end);
  });
});
