/**
 * Seeded workloads for the sweeps: puts, deletes, range deletes and batches over a small key
 * space (so that versions collide and compaction has work), values large enough that a tiny
 * memtable flushes every few writes, and a mix of sync and non-sync writes. The same seed gives
 * the same steps, so a failing run replays from the seed printed in its message.
 */
import { Random } from '../../../src/testing/index.js';
import type { ModelOp, Step } from './model.js';

export interface WorkloadShape {
  readonly steps: number;
  readonly keySpace?: number;
  readonly maxValue?: number;
  /** Probability that a step is written with sync: true. */
  readonly syncRatio?: number;
}

export function key(i: number): string {
  return `k${String(i).padStart(4, '0')}`;
}

export function makeWorkload(seed: number, shape: WorkloadShape): Step[] {
  const rng = new Random(seed);
  const keySpace = shape.keySpace ?? 40;
  const maxValue = shape.maxValue ?? 160;
  const syncRatio = shape.syncRatio ?? 0.3;
  const value = (step: number): string => {
    // The step number inside the value makes every write distinguishable in a diff.
    const head = `v${step}-`;
    return head + 'x'.repeat(rng.int(0, Math.max(0, maxValue - head.length)));
  };
  const one = (step: number): ModelOp => {
    const r = rng.next();
    if (r < 0.72) return { type: 'put', key: key(rng.int(0, keySpace - 1)), value: value(step) };
    if (r < 0.9) return { type: 'del', key: key(rng.int(0, keySpace - 1)) };
    const a = rng.int(0, keySpace - 1);
    const b = Math.min(keySpace, a + rng.int(1, 6));
    return { type: 'deleteRange', start: key(a), end: key(b) };
  };
  const steps: Step[] = [];
  for (let i = 0; i < shape.steps; i++) {
    const sync = rng.chance(syncRatio);
    if (rng.chance(0.15)) {
      const n = rng.int(2, 5);
      steps.push({ ops: Array.from({ length: n }, () => one(i)), batch: true, sync });
    } else {
      steps.push({ ops: [one(i)], batch: false, sync });
    }
  }
  return steps;
}

export function describeStep(s: Step): string {
  const ops = s.ops.map((o) => (o.type === 'put' ? `put ${o.key}` : o.type === 'del' ? `del ${o.key}` : `delRange [${o.start},${o.end})`));
  return `${s.batch ? 'batch(' : ''}${ops.join(', ')}${s.batch ? ')' : ''}${s.sync ? ' sync' : ''}`;
}
