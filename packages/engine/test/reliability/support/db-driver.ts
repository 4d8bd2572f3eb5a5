/**
 * The few ways the suites drive a database: apply a workload step, read the whole state back,
 * check that an error is one of the engine's typed errors.
 */
import { Database, type DatabaseOptions, StrataError } from '../../../src/index.js';
import type { Step } from './model.js';

/** Tiny sizes, so that a few hundred writes rotate the WAL, flush, compact and roll the manifest over. */
export const TINY: DatabaseOptions = {
  memtableSize: 1024,
  targetFileSize: 1024,
  blockSize: 256,
  l0CompactionTrigger: 2,
  maxBytesForLevelBase: 4096,
  levelSizeMultiplier: 2,
  maxManifestFileSize: 1024,
  blockCacheSize: 16 * 1024,
};

export async function applyStep(db: Database, step: Step): Promise<void> {
  const opts = { sync: step.sync };
  if (step.batch) {
    const b = db.batch();
    for (const op of step.ops) {
      if (op.type === 'put') b.put(op.key, op.value);
      else if (op.type === 'del') b.delete(op.key);
      else b.deleteRange(op.start, op.end);
    }
    await b.write(opts);
    return;
  }
  const op = step.ops[0]!;
  if (op.type === 'put') await db.put(op.key, op.value, opts);
  else if (op.type === 'del') await db.delete(op.key, opts);
  else await db.deleteRange(op.start, op.end, opts);
}

const td = new TextDecoder();

export async function readState(db: Database): Promise<[string, string][]> {
  const out: [string, string][] = [];
  for await (const [k, v] of db.iterate()) out.push([td.decode(k), td.decode(v)]);
  return out;
}

/** Codes an I/O failure below the engine may surface as. */
export const IO_CODES: ReadonlySet<string> = new Set(['IO_ERROR', 'READ_ONLY']);

/** The error is a StrataError with a code from `codes` (any code when omitted). */
export function isTyped(err: unknown, codes?: ReadonlySet<string>): err is StrataError {
  return err instanceof StrataError && (codes === undefined || codes.has(err.code));
}

export function describeError(err: unknown): string {
  if (err instanceof StrataError) return `StrataError ${err.code}: ${err.message}`;
  if (err instanceof Error) return `${err.name} (untyped): ${err.message}\n${err.stack ?? ''}`;
  return `non-error thrown: ${String(err)}`;
}
