/**
 * A file layer that wraps another (the in-memory one, or plain node:fs) and breaks it on purpose.
 *
 * - Rules make the k-th call of a kind fail with EIO, ENOSPC, … — once, or from then on. A failed
 *   fsync reaches nothing below (so it made nothing durable: the pessimistic reading of Linux,
 *   where a failed fsync may drop the dirty pages). A failed write may be torn: part of it lands.
 * - Every call is counted and, optionally, traced; a hook sees each call before it runs (the
 *   power-loss sweep cuts the power from there).
 * - Descriptors opened through the layer are tracked, so a test can assert none leaked.
 * - `powerOff()` makes every later call (but close) fail with EIO and every sync still in flight
 *   reject: the machine is gone, the program finds out on its next call.
 *
 * Injected failures of the async calls are rejections, never synchronous throws, as with
 * `fs.promises`; a caller that forgets to handle them shows up as an unhandled rejection.
 */
import type { FileSystem, OpenFlags } from '../file-system.js';
import { type ErrnoCode, fsError } from '../fs-error.js';
import type { OpenFileInfo } from './memory-file-system.js';
import { describeOp, matches, OP_KINDS, type OpKind, type OpRecord, type OpSelector } from './operations.js';
import { Random } from './random.js';

export interface FaultRule {
  /** Which calls count towards `nth`. */
  readonly op: OpSelector;
  /** 1-based: the nth matching call fails. */
  readonly nth: number;
  /** Default EIO. */
  readonly code?: ErrnoCode;
  /** Fail every matching call from the nth on, not only the nth. */
  readonly persistent?: boolean;
  /** Only calls on matching paths count (for fd calls, the path the fd was opened with). */
  readonly path?: RegExp | ((path: string) => boolean);
  /** A failing write first writes a random-length prefix of its bytes (seeded). */
  readonly torn?: boolean;
  /** A failing write first writes exactly this many of its bytes (at most all of them), then fails. */
  readonly tornBytes?: number;
  /**
   * For syncs: report success without syncing — a disk whose write cache ignores flushes. Used to
   * prove that the power-loss sweep notices a missing fsync (it must fail when the disk lies).
   * `nth` and `persistent` do not apply: every matching sync lies, and the rule injects no error.
   */
  readonly lie?: boolean;
}

export interface InjectedFault {
  readonly op: OpRecord;
  readonly code: ErrnoCode;
}

export interface FaultInjectingOptions {
  readonly rules?: readonly FaultRule[];
  /** Called before every call; may throw (the call then fails with that error). */
  readonly onOperation?: (op: OpRecord) => void;
  /** Keep the last N calls for `trace()` (0: none). */
  readonly traceLimit?: number;
  /** Seeds the length of torn writes. */
  readonly seed?: number;
}

interface ActiveRule {
  readonly rule: FaultRule;
  seen: number;
}

export class FaultInjectingFileSystem implements FileSystem {
  private readonly rules: ActiveRule[] = [];
  private readonly onOperation: ((op: OpRecord) => void) | undefined;
  private readonly traceLimit: number;
  private readonly traced: OpRecord[] = [];
  private readonly perKind = new Map<OpKind, number>(OP_KINDS.map((k) => [k, 0]));
  private readonly fdPaths = new Map<number, OpenFileInfo>();
  private readonly rng: Random;
  private calls = 0;
  private completedSyncs = 0;
  private off = false;
  readonly injected: InjectedFault[] = [];

  constructor(
    readonly inner: FileSystem,
    options: FaultInjectingOptions = {},
  ) {
    for (const r of options.rules ?? []) this.addRule(r);
    this.onOperation = options.onOperation;
    this.traceLimit = options.traceLimit ?? 0;
    this.rng = new Random(options.seed ?? 1);
  }

  addRule(rule: FaultRule): void {
    if (!Number.isInteger(rule.nth) || rule.nth < 1) throw new RangeError(`FaultRule.nth must be an integer ≥ 1, got ${rule.nth}`);
    this.rules.push({ rule, seen: 0 });
  }

  clearRules(): void {
    this.rules.length = 0;
  }

  /** From now on every call fails with EIO and syncs in flight reject. */
  powerOff(): void {
    this.off = true;
  }

  get poweredOff(): boolean {
    return this.off;
  }

  /** How many calls went through the layer (all kinds). */
  get operationCount(): number {
    return this.calls;
  }

  /** Syncs (fsync, fdatasync, fsyncDir) that completed and reported success. */
  get syncsCompleted(): number {
    return this.completedSyncs;
  }

  count(kind: OpKind): number {
    return this.perKind.get(kind)!;
  }

  /** Descriptors opened through this layer and not closed yet. */
  openFiles(): OpenFileInfo[] {
    return [...this.fdPaths.values()];
  }

  /** The last `traceLimit` calls, oldest first. */
  trace(): OpRecord[] {
    return [...this.traced];
  }

  traceText(): string {
    return this.traced.map(describeOp).join('\n');
  }

  // ---- the file layer -------------------------------------------------------------------------

  openSync(path: string, flags: OpenFlags): number {
    this.enter({ kind: 'open', path, flags });
    const fd = this.inner.openSync(path, flags);
    this.fdPaths.set(fd, { fd, path, flags });
    return fd;
  }

  closeSync(fd: number): void {
    const op = this.record({ kind: 'close', fd, ...this.pathOf(fd) });
    // close(2) releases the descriptor even when it reports an error, so release it first.
    // After powerOff a close succeeds: it changes nothing on disk, and a program shutting down
    // after the cut is a simulation artifact whose cleanup should not drown the real findings.
    const fault = this.off ? this.hookOnly(op) : this.check(op);
    this.inner.closeSync(fd);
    this.fdPaths.delete(fd);
    if (fault !== undefined) throw fault;
  }

  readSync(fd: number, buf: Uint8Array, off: number, len: number, position: number): number {
    this.enter({ kind: 'read', fd, length: len, position, ...this.pathOf(fd) });
    return this.inner.readSync(fd, buf, off, len, position);
  }

  writeSync(fd: number, buf: Uint8Array, off: number, len: number, position: number | null): number {
    const op = this.record({ kind: 'write', fd, length: len, position, ...this.pathOf(fd) });
    const fault = this.check(op);
    if (fault !== undefined) {
      const torn = this.tornLength(op, len);
      if (torn > 0) this.inner.writeSync(fd, buf, off, torn, position);
      throw fault;
    }
    return this.inner.writeSync(fd, buf, off, len, position);
  }

  fstatSync(fd: number): { size: number } {
    this.enter({ kind: 'stat', fd, ...this.pathOf(fd) });
    return this.inner.fstatSync(fd);
  }

  ftruncateSync(fd: number, len: number): void {
    this.enter({ kind: 'truncate', fd, length: len, ...this.pathOf(fd) });
    this.inner.ftruncateSync(fd, len);
  }

  fsync(fd: number): Promise<void> {
    return this.sync({ kind: 'fsync', fd, ...this.pathOf(fd) }, () => this.inner.fsync(fd));
  }

  fdatasync(fd: number): Promise<void> {
    return this.sync({ kind: 'fdatasync', fd, ...this.pathOf(fd) }, () => this.inner.fdatasync(fd));
  }

  fsyncDir(dir: string): Promise<void> {
    return this.sync({ kind: 'fsyncDir', path: dir }, () => this.inner.fsyncDir(dir));
  }

  readdirSync(dir: string): string[] {
    this.enter({ kind: 'readdir', path: dir });
    return this.inner.readdirSync(dir);
  }

  mkdirSync(dir: string, opts: { recursive: true }): void {
    this.enter({ kind: 'mkdir', path: dir });
    this.inner.mkdirSync(dir, opts);
  }

  renameSync(from: string, to: string): void {
    this.enter({ kind: 'rename', path: from });
    this.inner.renameSync(from, to);
  }

  unlinkSync(path: string): void {
    this.enter({ kind: 'unlink', path });
    this.inner.unlinkSync(path);
  }

  existsSync(path: string): boolean {
    this.enter({ kind: 'exists', path });
    return this.inner.existsSync(path);
  }

  readFileSync(path: string): Uint8Array {
    this.enter({ kind: 'readFile', path });
    return this.inner.readFileSync(path);
  }

  // ---- internals ------------------------------------------------------------------------------

  private async sync(partial: Omit<OpRecord, 'index'>, run: () => Promise<void>): Promise<void> {
    const op = this.record(partial);
    if (this.lyingRule(op)) {
      this.hookOnly(op);
      await Promise.resolve();
      this.completedSyncs++;
      return;
    }
    const fault = this.check(op);
    if (fault !== undefined) throw fault;
    await run();
    // The sync completed below, but the machine died first: the program never hears of success.
    if (this.off) throw fsError('EIO', op.kind, op.path, 'power cut while the sync was in flight');
    this.completedSyncs++;
  }

  private enter(partial: Omit<OpRecord, 'index'>): void {
    const fault = this.check(this.record(partial));
    if (fault !== undefined) throw fault;
  }

  private record(partial: Omit<OpRecord, 'index'>): OpRecord {
    const op: OpRecord = { index: ++this.calls, ...partial };
    this.perKind.set(op.kind, this.perKind.get(op.kind)! + 1);
    if (this.traceLimit > 0) {
      this.traced.push(op);
      if (this.traced.length > this.traceLimit) this.traced.shift();
    }
    return op;
  }

  private hookOnly(op: OpRecord): Error | undefined {
    try {
      this.onOperation?.(op);
      return undefined;
    } catch (err) {
      return err as Error;
    }
  }

  /** Runs the hook and the rules for one call; the error to fail it with, if any. */
  private check(op: OpRecord): Error | undefined {
    if (this.onOperation !== undefined) {
      try {
        this.onOperation(op);
      } catch (err) {
        return err as Error;
      }
    }
    if (this.off) return fsError('EIO', op.kind, op.path, 'the power is off');
    let code: ErrnoCode | undefined;
    for (const r of this.rules) {
      if (r.rule.lie === true || !matches(r.rule.op, op) || !pathMatches(r.rule, op.path)) continue;
      r.seen++;
      const fire = r.rule.persistent === true ? r.seen >= r.rule.nth : r.seen === r.rule.nth;
      if (fire) code ??= r.rule.code ?? 'EIO';
    }
    if (code === undefined) return undefined;
    this.injected.push({ op, code });
    return fsError(code, op.kind, op.path, `injected fault at ${describeOp(op)}`);
  }

  private lyingRule(op: OpRecord): boolean {
    return this.rules.some((r) => r.rule.lie === true && matches(r.rule.op, op) && pathMatches(r.rule, op.path));
  }

  /** How many bytes of a failing write of `len` bytes land first (0: none). */
  private tornLength(op: OpRecord, len: number): number {
    const rule = this.rules.find((r) => (r.rule.torn === true || r.rule.tornBytes !== undefined) && matches(r.rule.op, op) && pathMatches(r.rule, op.path))?.rule;
    if (rule === undefined) return 0;
    if (rule.tornBytes !== undefined) return Math.min(Math.max(0, rule.tornBytes), len);
    return len > 1 ? this.rng.int(1, len - 1) : 0;
  }

  private pathOf(fd: number): { path?: string } {
    const info = this.fdPaths.get(fd);
    return info === undefined ? {} : { path: info.path };
  }
}

function pathMatches(rule: FaultRule, path: string | undefined): boolean {
  if (rule.path === undefined) return true;
  if (path === undefined) return false;
  return typeof rule.path === 'function' ? rule.path(path) : rule.path.test(path);
}
