/** The deterministic workload of the compaction crash test, shared by the child and the checker. */
export type CrashOp = { t: 'put'; k: string; v: string } | { t: 'del'; k: string } | { t: 'range'; s: string; e: string };

export const CRASH_DB_OPTIONS = {
  memtableSize: 8 * 1024,
  blockSize: 512,
  targetFileSize: 4 * 1024,
  maxBytesForLevelBase: 16 * 1024,
  levelSizeMultiplier: 3,
  l0CompactionTrigger: 2,
  numLevels: 5,
  // Levels are sized in raw bytes of these 'x'-padded values; compressed they shrink ~5× and
  // compactions would run a fraction of the time the child needs them to. Crashes over
  // compressed tables: the reliability suites (power-loss, process-crash) run with the defaults.
  compression: 'none',
} as const;

const KEYS = 500;
const key = (i: number): string => `key${String(i % KEYS).padStart(4, '0')}`;

/** Batch n: 20 operations, a function of n only. */
export function batchOps(n: number): CrashOp[] {
  const ops: CrashOp[] = [];
  let s = (n * 2654435761) >>> 0;
  const next = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s;
  };
  for (let i = 0; i < 20; i++) {
    const r = next() % 100;
    const k = next() % KEYS;
    if (r < 80) ops.push({ t: 'put', k: key(k), v: `b${n}-${i}-`.padEnd(64, 'x') });
    else if (r < 97) ops.push({ t: 'del', k: key(k) });
    else ops.push({ t: 'range', s: key(k), e: `key${String(Math.min(KEYS, k + 1 + (next() % 20))).padStart(4, '0')}` });
  }
  return ops;
}

export function applyBatch(model: Map<string, string>, n: number): void {
  for (const op of batchOps(n)) {
    if (op.t === 'put') model.set(op.k, op.v);
    else if (op.t === 'del') model.delete(op.k);
    else for (const k of [...model.keys()]) if (k >= op.s && k < op.e) model.delete(k);
  }
}
