// ClockRing against a model: a plain array of the live entries in ring order and the hand's
// place among them. Pushes, removals out of order, and a sweep (wrapHand, then the hand steps
// over one entry, as the caches' evictions do) in any mix, with MIN_SQUEEZE_HOLES (1024) small
// enough against the run that squeezes happen at pushes and at wraps.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ClockRing } from './clock-ring.js';

interface Owner {
  readonly id: number;
  /** Where the ring says this entry sits (kept up to date through `moved`). */
  position: number;
}

type Op = { kind: 'push' } | { kind: 'remove'; pick: number } | { kind: 'sweep' };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.constant<Op>({ kind: 'push' }) },
  { weight: 4, arbitrary: fc.nat().map<Op>((pick) => ({ kind: 'remove', pick })) },
  { weight: 2, arbitrary: fc.constant<Op>({ kind: 'sweep' }) },
);

describe('ClockRing', () => {
  it('keeps its live entries in order, the hand on the same entry and every owner told its position, across squeezes', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 6000 }), (ops) => {
        const ring = new ClockRing<Owner>((owner, _slot, position) => {
          owner.position = position;
        });
        /** Live entries in ring order. */
        const model: Owner[] = [];
        /** Live entries before the hand (the hand's place among them). */
        let handIndex = 0;
        let next = 0;
        let mostBytes = 0;
        for (const o of ops) {
          if (o.kind === 'push') {
            const owner: Owner = { id: next++, position: -1 };
            // Into the hole just behind the hand if there is one (the last of the entries before
            // the hand), else at the end.
            const behindHand = ring.hand > 0 && ring.hand <= ring.length && ring.owners[ring.hand - 1] === undefined;
            owner.position = ring.push(owner, owner.id);
            if (behindHand) {
              expect(owner.position).toBe(ring.hand - 1);
              model.splice(handIndex++, 0, owner);
            } else model.push(owner);
          } else if (o.kind === 'remove') {
            if (model.length === 0) continue;
            const i = o.pick % model.length;
            ring.remove(model[i]!.position);
            model.splice(i, 1);
            if (i < handIndex) handIndex--;
          } else {
            if (ring.size === 0) continue;
            ring.wrapHand();
            if (handIndex >= model.length) handIndex = 0;
            // The hand steps over holes to the next live entry, then past it (as an owner's sweep does).
            while (ring.owners[ring.hand] === undefined) {
              ring.hand++;
              ring.wrapHand();
            }
            expect(ring.owners[ring.hand]).toBe(model[handIndex]);
            ring.hand++;
            handIndex++;
          }
          expect(ring.size).toBe(model.length);
          expect(ring.length).toBeLessThanOrEqual(2 * model.length + 1024 + 1);
          // Live entries in order, each where its owner was told it is; nothing past the length.
          const live: Owner[] = [];
          for (let s = 0; s < ring.length; s++) {
            const owner = ring.owners[s];
            if (owner === undefined) continue;
            expect(owner.position).toBe(s);
            expect(ring.slots[s]).toBe(owner.id);
            live.push(owner);
          }
          expect(live).toEqual(model);
          for (let s = ring.length; s < ring.owners.length; s++) expect(ring.owners[s]).toBeUndefined();
          mostBytes = Math.max(mostBytes, ring.byteLength);
        }
        // The arrays keep their room (no shrinking and regrowing): what they hold now is what they last grew to.
        expect(ring.byteLength).toBe(mostBytes);
      }),
      { numRuns: 60 },
    );
  });

  it('reuses its arrays after a squeeze: churn at a steady size allocates no new room', () => {
    const ring = new ClockRing<{ position: number }>((owner, _slot, position) => {
      owner.position = position;
    });
    const live: { position: number }[] = [];
    for (let i = 0; i < 5000; i++) {
      const o = { position: -1 };
      o.position = ring.push(o, i);
      live.push(o);
    }
    // Churn: each push is matched by the removal of the oldest entry, as a full cache evicts.
    let bytes = 0;
    for (let i = 0; i < 50_000; i++) {
      ring.remove(live.shift()!.position);
      const o = { position: -1 };
      o.position = ring.push(o, i);
      live.push(o);
      if (i === 20_000) bytes = ring.byteLength; // after several squeezes
    }
    expect(ring.size).toBe(5000);
    expect(bytes).toBeGreaterThan(0);
    expect(ring.byteLength).toBe(bytes);
    expect(ring.byteLength).toBeLessThanOrEqual(16 * (2 * 5000 + 1024) * 1.6);
  });
});
