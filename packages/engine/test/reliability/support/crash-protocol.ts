/**
 * What the crash child tells its parent: one line per event, in a kill report (support/kill-report.ts:
 * a file the child appends to synchronously, read by the parent once the child is gone — an
 * "ack" line is proof that the promise had resolved, and the "issue" lines are every operation
 * the child started). Stdout carries only "open", the one line the parent needs while the child
 * runs (to start the kill timer), written while the pipe is empty.
 *
 *   open <lastSequence>                      the database opened; writes begin
 *   issue <json ChildOp>                     about to call the engine
 *   ack <id> <visibleSequence>               the call's promise resolved
 *   event <json StrataEvent>                 the engine told its onEvent (a failure's report)
 */
export type ChildOp =
  | { readonly id: string; readonly w: number; readonly t: 'put'; readonly k: string; readonly v: string; readonly sync: boolean }
  | { readonly id: string; readonly w: number; readonly t: 'del'; readonly k: string; readonly sync: boolean }
  | { readonly id: string; readonly w: number; readonly t: 'range'; readonly s: string; readonly e: string; readonly sync: boolean }
  | {
      readonly id: string;
      readonly w: number;
      readonly t: 'batch';
      readonly puts: readonly (readonly [string, string])[];
      readonly dels: readonly string[];
      readonly sync: boolean;
    };

/** Database options of the child and of the parent's checking opens: tiny, so flush and compaction run. */
export const CRASH_DB_OPTIONS = {
  memtableSize: 4096,
  targetFileSize: 4096,
  l0CompactionTrigger: 2,
  maxBytesForLevelBase: 16 * 1024,
  maxManifestFileSize: 4096,
  blockSize: 512,
} as const;

/** Applies one operation to a plain map (keys of one writer never overlap another's). */
export function applyChildOp(state: Map<string, string>, op: ChildOp): void {
  switch (op.t) {
    case 'put':
      state.set(op.k, op.v);
      break;
    case 'del':
      state.delete(op.k);
      break;
    case 'range':
      for (const k of [...state.keys()]) if (k >= op.s && k < op.e) state.delete(k);
      break;
    case 'batch':
      for (const [k, v] of op.puts) state.set(k, v);
      for (const k of op.dels) state.delete(k);
      break;
  }
}

/** The keys an operation can change, given the state before it. */
export function touchedKeys(state: ReadonlyMap<string, string>, op: ChildOp): string[] {
  switch (op.t) {
    case 'put':
    case 'del':
      return [op.k];
    case 'range':
      return [...state.keys()].filter((k) => k >= op.s && k < op.e);
    case 'batch':
      return [...op.puts.map(([k]) => k), ...op.dels];
  }
}
