/**
 * The corruption suite's machinery: build a database image once, then for each target flip one
 * byte of one file in a copy of it, open the database and read everything back.
 *
 * Allowed outcomes:
 *   - detected: open or a read fails with CORRUPTION (FOREIGN_FILE for a WAL segment header
 *     whose database id was hit) and the error names the damaged file;
 *   - tolerated (WAL and manifest only): the damaged record was the last one, recovery took it
 *     for a torn tail and dropped it — the state is the state after a shorter prefix, no hole;
 *   - harmless: every value reads back exactly (the byte was not one anything depends on, e.g.
 *     the padding at the end of a WAL block, or LOCK).
 * Anything else — a wrong value, a hole, an untyped error, a typed error naming no file — fails.
 */
import { posix } from 'node:path';
import { Database, type DatabaseOptions, StrataError } from '../../../src/index.js';
import { MemoryFileSystem, Random } from '../../../src/testing/index.js';
import { applyStep, describeError, readState } from './db-driver.js';
import { fileKind, type FileKind, fileRegions } from './file-kinds.js';
import { describeDifference, type History, Model, type Step } from './model.js';
import { DB_PATH, SweepFailure } from './power-loss.js';
import { withTimeout } from './timeout.js';

export interface FlipTarget {
  readonly file: string;
  readonly kind: FileKind;
  readonly region: string;
  readonly offset: number;
  /** XOR mask, never 0. */
  readonly mask: number;
}

export type FlipOutcome = 'detected' | 'tolerated' | 'harmless';

/** A database image left as a crashed process leaves it: tables, a manifest, and an unflushed WAL tail. */
export async function buildImage(steps: readonly Step[], dbOptions: DatabaseOptions, unflushedTail: number): Promise<MemoryFileSystem> {
  const mem = new MemoryFileSystem();
  const db = await Database.open(DB_PATH, { ...dbOptions, fs: mem });
  const body = steps.slice(0, steps.length - unflushedTail);
  for (const s of body) await applyStep(db, s);
  await db.flush();
  for (const s of steps.slice(body.length)) await applyStep(db, s);
  const image = mem.clone(); // before close: the tail is only in the WAL
  await db.close();
  return image;
}

/** Targets: per region of every file, its first and last byte and `perRegion` random ones. */
export function flipTargets(image: MemoryFileSystem, perRegion: number, rng: Random, stride = 0): FlipTarget[] {
  const out: FlipTarget[] = [];
  for (const path of image.listFiles()) {
    const name = posix.basename(path);
    const kind = fileKind(name);
    const bytes = image.readFileSync(path);
    for (const r of fileRegions(kind, bytes, path)) {
      const offsets = new Set<number>([r.start, r.end - 1]);
      for (let i = 0; i < perRegion; i++) offsets.add(rng.int(r.start, r.end - 1));
      if (stride > 0) for (let o = r.start; o < r.end; o += stride) offsets.add(o);
      for (const offset of [...offsets].sort((a, b) => a - b)) out.push({ file: path, kind, region: r.name, offset, mask: rng.int(1, 255) });
    }
  }
  return out;
}

const PREFIX_KINDS = new Set<FileKind>(['wal', 'manifest']);

function namesFile(err: StrataError, file: string): boolean {
  const base = posix.basename(file);
  return (err.file !== undefined && posix.basename(err.file) === base) || err.message.includes(base);
}

export async function checkFlip(
  base: MemoryFileSystem,
  target: FlipTarget,
  steps: readonly Step[],
  history: History,
  dbOptions: DatabaseOptions,
): Promise<FlipOutcome> {
  const where = `flip ${target.kind} ${posix.basename(target.file)} ${target.region} @${target.offset} ^0x${target.mask.toString(16)}`;
  const image = base.clone();
  image.editDurably(target.file, (b) => {
    b[target.offset] = b[target.offset]! ^ target.mask;
    return b;
  });
  const detected = (err: unknown, phase: string): FlipOutcome => {
    const codes = target.kind === 'wal' || target.kind === 'identity' ? ['CORRUPTION', 'FOREIGN_FILE'] : ['CORRUPTION'];
    if (!(err instanceof StrataError) || !codes.includes(err.code)) {
      throw new SweepFailure(`${where}: ${phase} failed with ${describeError(err)} (want ${codes.join(' or ')})`);
    }
    // An IDENTITY flip shows up in whichever WAL segment carries the old id. A flip in the
    // manifest's last record reads as a torn tail: recovery drops that edit and then finds
    // what the older version refers to gone (e.g. "WAL segment 46 is missing") — detected and
    // typed, but named after the consequence, not the manifest.
    const elsewhere = target.kind === 'identity' || (target.kind === 'manifest' && err.file !== undefined);
    if (!elsewhere && !namesFile(err, target.file)) {
      throw new SweepFailure(`${where}: ${phase} reported ${err.code} without naming the file: ${err.message}`);
    }
    return 'detected';
  };
  let db: Database;
  try {
    db = await withTimeout(`${where}: open`, Database.open(DB_PATH, { ...dbOptions, fs: image }));
  } catch (err) {
    return detected(err, 'open');
  }
  let outcome: FlipOutcome | undefined;
  let failure: unknown;
  try {
    outcome = await inspect(db, where, target, steps, history, detected);
  } catch (err) {
    failure = err;
  }
  try {
    await withTimeout(`${where}: close`, db.close());
  } catch (err) {
    // A database that met corruption may report it again from close — typed, or it is a bug.
    if (!(err instanceof StrataError)) failure ??= new SweepFailure(`${where}: close failed untyped: ${describeError(err)}`);
  }
  if (outcome === undefined) throw failure;
  return outcome;
}

/** Reads everything back: a scan, then a point read of every key of the model and some absent ones. */
async function inspect(
  db: Database,
  where: string,
  target: FlipTarget,
  steps: readonly Step[],
  history: History,
  detected: (err: unknown, phase: string) => FlipOutcome,
): Promise<FlipOutcome> {
  let state: [string, string][];
  try {
    state = await withTimeout(`${where}: scan`, readState(db));
  } catch (err) {
    return detected(err, 'scan');
  }
  const full = history.length;
  const p = PREFIX_KINDS.has(target.kind) ? history.matchPrefix(state, 0, full) : history.matchPrefix(state, full, full);
  if (p < 0) {
    throw new SweepFailure(`${where}: the database returned wrong data (no error):\n${describeDifference(state, steps, full)}`);
  }
  // Point reads take other paths (bloom filters, index seeks).
  const model = new Model();
  for (const s of steps.slice(0, p)) model.applyStep(s);
  const td = new TextDecoder();
  for (let i = 0; i < 60; i++) {
    const key = `k${String(i).padStart(4, '0')}`;
    let got: Uint8Array | undefined;
    try {
      got = await db.get(key);
    } catch (err) {
      return detected(err, `get ${key}`);
    }
    const value = got === undefined ? undefined : td.decode(got);
    if (value !== model.get(key)) {
      throw new SweepFailure(`${where}: get ${key} returned ${value?.slice(0, 20) ?? 'undefined'}, want ${model.get(key)?.slice(0, 20) ?? 'undefined'}`);
    }
  }
  return p === full ? 'harmless' : 'tolerated';
}

export function seededTargets(image: MemoryFileSystem, seed: number, perRegion: number, stride = 0): FlipTarget[] {
  return flipTargets(image, perRegion, new Random(seed), stride);
}
