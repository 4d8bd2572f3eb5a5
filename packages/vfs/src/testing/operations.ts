/**
 * Names for the calls of the file layer, and the groups a fault rule may select. Counting is
 * per call: the k-th `write` is the k-th `writeSync`, whatever file it went to.
 */
import type { OpenFlags } from '../file-system.js';

export type OpKind =
  | 'open'
  | 'close'
  | 'read'
  | 'write'
  | 'stat'
  | 'truncate'
  | 'fsync'
  | 'fdatasync'
  | 'fsyncDir'
  | 'readdir'
  | 'mkdir'
  | 'rename'
  | 'unlink'
  | 'exists'
  | 'readFile';

export const OP_KINDS: readonly OpKind[] = [
  'open',
  'close',
  'read',
  'write',
  'stat',
  'truncate',
  'fsync',
  'fdatasync',
  'fsyncDir',
  'readdir',
  'mkdir',
  'rename',
  'unlink',
  'exists',
  'readFile',
];

/**
 * `sync`: fsync, fdatasync and fsyncDir. `mutating`: the calls that change what is (or will be)
 * on disk — the only points where cutting the power can give a different image.
 * `any`: every call except `exists`, which cannot fail in node:fs (it answers false instead).
 */
export type OpSelector = OpKind | 'sync' | 'mutating' | 'any';

const SYNC = new Set<OpKind>(['fsync', 'fdatasync', 'fsyncDir']);
const MUTATING = new Set<OpKind>(['open', 'write', 'truncate', 'fsync', 'fdatasync', 'fsyncDir', 'mkdir', 'rename', 'unlink']);

export function matches(selector: OpSelector, op: OpRecord): boolean {
  switch (selector) {
    case 'any':
      return op.kind !== 'exists';
    case 'sync':
      return SYNC.has(op.kind);
    case 'mutating':
      // Opening for reading changes nothing; opening for writing may create or truncate.
      return MUTATING.has(op.kind) && !(op.kind === 'open' && (op.flags === 'r' || op.flags === 'r+'));
    default:
      return selector === op.kind;
  }
}

/** One call, as the fault layer saw it: for traces, hooks and failure messages. */
export interface OpRecord {
  /** 1-based position among all calls through the layer. */
  readonly index: number;
  readonly kind: OpKind;
  readonly path?: string;
  readonly flags?: OpenFlags;
  readonly fd?: number;
  readonly length?: number;
  readonly position?: number | null;
}

export function describeOp(op: OpRecord): string {
  const parts = [`#${op.index} ${op.kind}`];
  if (op.path !== undefined) parts.push(op.path);
  if (op.flags !== undefined) parts.push(`'${op.flags}'`);
  if (op.fd !== undefined) parts.push(`fd=${op.fd}`);
  if (op.length !== undefined) parts.push(`len=${op.length}`);
  if (op.position !== undefined) parts.push(`pos=${op.position ?? 'cur'}`);
  return parts.join(' ');
}
