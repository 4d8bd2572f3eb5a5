/**
 * The WAL writer: appends batches to the active segment with group commit, rotates segments.
 *
 * Group commit, as LevelDB does it: every request (append, sync, rotate, close) joins one FIFO
 * queue, and a single drain loop serves it. An append frames its record into the staging buffer
 * at once (staging-buffer.ts), at the file offset it will land at. The loop takes the longest run
 * of appends at the head whose framed records total at most `groupCommitBytes` (always at least
 * one), hands those contiguous staged bytes to one write(2) and — if any of them asked for
 * `sync` — one fdatasync, then resolves them all in queue order. While that fdatasync runs, new
 * appends pile up behind it and form the next group, so N concurrent durable writers cost about
 * one fdatasync per round rather than N. Appends issued in the same tick are grouped too: the
 * loop starts from a microtask.
 *
 * A group of OFF_THREAD_BYTES or more goes to the thread pool when the file layer can (below);
 * its appends' `whileWriting` callbacks run as soon as the write is submitted, so that the
 * caller's own work for those batches (the engine's memtable insert) overlaps the pool's write
 * instead of following it.
 *
 * Invariants:
 * - Queue order is LSN order: `append` checks that its LSNs exceed every LSN accepted before it
 *   (INVALID_ARGUMENT otherwise, nothing queued), so serving the queue in order writes records in
 *   LSN order and resolves appends in LSN order.
 * - Staged bytes were framed for the offsets they land at: `#frameOffset` runs ahead of `#offset`
 *   by exactly the staged bytes of the active segment, and restarts after the header when a
 *   rotation is queued (the appends behind it belong to the next segment; rotation splits groups).
 * - A segment is fdatasynced before the next one is created (rotation), so replay may treat any
 *   damage in an older segment as damage, never as a torn tail.
 * - Preallocation: when a durable group's records grow the segment file, zeros are written
 *   after them up to PREALLOCATE_BYTES further (in the same round, before its fdatasync). The
 *   durable appends that follow overwrite blocks that exist, in a file whose size does not
 *   change, so their fdatasync writes the data and flushes the device cache but commits no
 *   metadata through the file system's journal — the journal every other writer of the disk
 *   shares (measured on ext4: see the engine README, "durable puts: preallocated WAL space").
 *   One durable group in PREALLOCATE_BYTES of log pays the size change and the zeros. Appends
 *   without `sync` never preallocate (their fdatasync, if any, comes once per segment). A new
 *   segment may be preallocated as it is created instead (`WalWriterOptions.preallocate`, and at
 *   rotation after durable appends): its zeros are written with the header and made durable by
 *   the same fsync (new-segment.ts), so that the first durable append is not the one to pay: a
 *   lone writer's first durable put on a fresh database was the slowest of its thousand by a few
 *   milliseconds (docs/performance/session-26.md). The zeros are "unused space" (log-format.ts);
 *   they are cut off, durably, before the segment is rotated away or closed, so only the active
 *   segment (or the newest after a crash) has them.
 *   A failed preallocation is a failed write (below).
 * - After a failed write or sync nothing is written again (fsync is never retried: after a failed
 *   fsync the kernel may have dropped the dirty pages, and a retry that succeeds would lie).
 *   The requests being served reject with IO_ERROR; everything queued or issued later rejects
 *   with READ_ONLY, whose cause is the original error. A failed group's records are cut off the
 *   segment first (`#cutBack`): an append that rejected is not replayed by the next open.
 */
import { join } from 'node:path';
import { StrataError, ioError } from '@strata-db/errors';
import { batchLength, writeBatch, type BatchOp, type BatchRecord } from './batch.js';
import { closeQuietly, nodeFileSystem, writeAll, writeAllOffThread } from '@strata-db/vfs';
import type { WalFileSystem } from './file-system.js';
import { FRAGMENT_HEADER_SIZE, fitsInBlock, frameRecord, framedLength, sealFullFragment } from './log-format.js';
import { createSegmentFile } from './new-segment.js';
import { deleteSegmentsBefore, segmentFileName } from './segment-directory.js';
import { SEGMENT_HEADER_SIZE, uuidBytes } from './segment-header.js';
import { StagingBuffer } from './staging-buffer.js';

export interface WalWriterOptions {
  /** The database UUID (the form `crypto.randomUUID()` returns); stored in every segment header. */
  readonly uuid: string;
  /** Number of the new segment to create; it must not exist yet. */
  readonly segment: number;
  /** The first LSN this writer may log (normally the recovered last sequence + 1). */
  readonly firstLsn: number;
  readonly fs?: WalFileSystem;
  /** Upper bound of one group's records in bytes (default 1 MiB, as LevelDB). A larger batch goes alone. */
  readonly groupCommitBytes?: number;
  /**
   * Preallocate the new segment as it is created (default false): its zeros are written with
   * its header and made durable by the same fsync before `create` resolves, so the first durable
   * append finds its space ready instead of paying for the zeros and the file's new size in its
   * own fdatasync (see the top of the file). Later segments get theirs at rotation when the
   * segment rotated away had durable appends.
   */
  readonly preallocate?: boolean;
}

export interface AppendOptions {
  /** Resolve only after fdatasync, so the batch survives power loss (default false: after write(2)). */
  readonly sync?: boolean;
  /**
   * Called once the record's bytes have been handed to the thread pool (`write` of the file
   * layer, for a group of OFF_THREAD_BYTES or more), before the WAL waits for them: the caller
   * may use that wait (the engine applies the batch to its memtable then, without publishing
   * it: RocksDB's pipelined write). Not called when the group is written synchronously — the
   * in-memory and fault-injecting layers never call it — nor when the writer failed before the
   * write was submitted. It says nothing about the outcome: the record is logged only when
   * the append resolves. Must not throw (a throw is reported as an uncaught exception).
   */
  readonly whileWriting?: () => void;
}

interface Waiter<T> {
  resolve(value: T): void;
  reject(reason: unknown): void;
}

/**
 * A queued request. Every kind has the same fields in the same order (`end`, `lastLsn`, `sync`
 * and `whileWriting` are an append's; 0, 0, false, undefined for the others): one object shape, so the queue's loads
 * stay monomorphic for V8 and the first sync, rotation or close does not throw away the
 * optimized append path ("wrong map").
 */
interface RequestFields {
  /** An append's: staging position where its record ends. */
  readonly end: number;
  readonly lastLsn: number;
  readonly sync: boolean;
  /** An append's AppendOptions.whileWriting. */
  readonly whileWriting: (() => void) | undefined;
}

type Request =
  | ({ readonly kind: 'append' } & RequestFields & Waiter<undefined>)
  | ({ readonly kind: 'sync' } & RequestFields & Waiter<undefined>)
  | ({ readonly kind: 'rotate' } & RequestFields & Waiter<number>)
  | ({ readonly kind: 'close' } & RequestFields & Waiter<undefined>);

const DEFAULT_GROUP_COMMIT_BYTES = 1024 * 1024;
/** Zeros written ahead of durable appends (see the top of the file); a multiple of 4 KiB pages. */
const PREALLOCATE_BYTES = 128 * 1024;
const PAGE = 4096;
/**
 * A group this large is written through the thread pool when the file layer can (`write`), not
 * with write(2) on the JS thread: a fill's groups (a batch of 1000 is ~130 KiB) slept up to
 * 60–130 ms in that call while the background worker wrote tables (engine README, "event-loop
 * gaps"). Smaller groups — single puts, durable or not — keep the synchronous call: a thread-pool
 * round trip would cost them more than the write.
 */
const OFF_THREAD_BYTES = 64 * 1024;
let zeros: Buffer | undefined;

/** Where the zeros preallocated after records ending at `from` end: the next page boundary PREALLOCATE_BYTES on. */
function preallocatedEnd(from: number): number {
  return Math.ceil((from + PREALLOCATE_BYTES) / PAGE) * PAGE;
}

/** `bytes` of zeros (at most PREALLOCATE_BYTES + PAGE), a view of the shared buffer. */
function zerosOf(bytes: number): Uint8Array {
  zeros ??= Buffer.alloc(PREALLOCATE_BYTES + PAGE);
  return zeros.subarray(0, bytes);
}

/** The zeros a new segment is created with when preallocated (`WalWriterOptions.preallocate`, rotation). */
function newSegmentZeros(): Uint8Array {
  return zerosOf(preallocatedEnd(SEGMENT_HEADER_SIZE) - SEGMENT_HEADER_SIZE);
}
const FAILED = 'the WAL accepts no more writes; reopen the database to recover from what is on disk';
/** Schedules the drain loop as a microtask (see #enqueue). */
const SETTLED = Promise.resolve();

/**
 * What a served request's slot holds while the queue keeps its backing store (`#roundDone`): not
 * the request, which would stay alive with its promise's resolving functions. Same shape as every
 * request (see Request). Never served: every slot before `#head` has been.
 */
const SERVED: Request = { kind: 'sync', end: 0, lastLsn: 0, sync: false, whileWriting: undefined, resolve: () => undefined, reject: () => undefined };
/**
 * Up to this many slots, a lone writer's rounds append to the queue instead of emptying it (see
 * `#roundDone`); then it is emptied once, and the store is allocated again (a few hundred bytes
 * per KEEP_QUEUE_SLOTS rounds).
 */
const KEEP_QUEUE_SLOTS = 1024;

/** An empty array whose elements kind is already "objects" (see #queue). */
function emptyObjectArray<T>(): T[] {
  const array: T[] = [undefined as T];
  array.length = 0;
  return array;
}

export class WalWriter {
  readonly #fs: WalFileSystem;
  readonly #dir: string;
  readonly #uuid: Uint8Array;
  readonly #groupCommitBytes: number;

  #fd: number;
  #segment: number;
  /** The active segment's path (error messages, every write's): set with #segment. */
  #path: string;
  /** Where the next byte of the active segment goes. */
  #offset = SEGMENT_HEADER_SIZE;
  /** Where the next staged byte will land, in the segment that will receive it. */
  #frameOffset = SEGMENT_HEADER_SIZE;
  readonly #staging: StagingBuffer;
  /** Reused for encoding a record that must be split into fragments. */
  #scratch = Buffer.allocUnsafe(4096);
  /** How far the active segment is known durable. */
  #syncedOffset = SEGMENT_HEADER_SIZE;
  /** The active segment file's size: #offset, or past it by the preallocated zeros (at most; see #preallocate). */
  #fileEnd = SEGMENT_HEADER_SIZE;
  /** Last LSN of the last append queued (validation) and written (the next segment's first LSN - 1). */
  #acceptedLsn: number;
  #writtenLsn: number;
  #bytesWritten = SEGMENT_HEADER_SIZE;
  /** A durable group was written to the active segment: the next one is preallocated as it is created (rotation). */
  #durableInSegment = false;

  /**
   * Made with an element and emptied (`emptyObjectArray`): it holds objects from birth. A fresh
   * `[]` holds small integers until its first push; V8 collects no type feedback for a
   * function's first calls, so the optimized append path knew only the object-holding array,
   * and every writer after the first threw it away at its first append ("wrong map").
   */
  readonly #queue: Request[] = emptyObjectArray<Request>();
  #head = 0;
  #draining = false;
  #closing = false;
  #failure: StrataError | undefined;

  private constructor(fs: WalFileSystem, dir: string, uuid: Uint8Array, segment: number, fd: number, firstLsn: number, groupCommitBytes: number) {
    this.#fs = fs;
    this.#dir = dir;
    this.#uuid = uuid;
    this.#segment = segment;
    this.#path = join(dir, segmentFileName(segment));
    this.#fd = fd;
    this.#acceptedLsn = firstLsn - 1;
    this.#writtenLsn = firstLsn - 1;
    this.#groupCommitBytes = groupCommitBytes;
    this.#staging = new StagingBuffer(4 * groupCommitBytes);
  }

  /**
   * Creates segment `options.segment` in `dir` and returns a writer appending to it. The segment
   * file and the directory are fsynced before this resolves, so nothing appended can be lost to a
   * missing directory entry.
   */
  static async create(dir: string, options: WalWriterOptions): Promise<WalWriter> {
    const { segment, firstLsn } = options;
    const groupCommitBytes = options.groupCommitBytes ?? DEFAULT_GROUP_COMMIT_BYTES;
    if (!Number.isSafeInteger(segment) || segment < 1) {
      throw new StrataError('INVALID_ARGUMENT', `segment number must be a safe integer ≥ 1, got ${segment}`);
    }
    if (!Number.isSafeInteger(firstLsn) || firstLsn < 1) {
      throw new StrataError('INVALID_ARGUMENT', `first LSN must be a safe integer ≥ 1, got ${firstLsn}`);
    }
    if (!Number.isSafeInteger(groupCommitBytes) || groupCommitBytes < 1) {
      throw new StrataError('INVALID_ARGUMENT', `groupCommitBytes must be a positive integer, got ${groupCommitBytes}`);
    }
    const uuid = uuidBytes(options.uuid);
    const fs = options.fs ?? nodeFileSystem;
    const room = options.preallocate === true ? newSegmentZeros() : undefined;
    const fd = await createSegmentFile(fs, dir, uuid, segment, firstLsn, room);
    const writer = new WalWriter(fs, dir, uuid, segment, fd, firstLsn, groupCommitBytes);
    writer.#fileEnd = SEGMENT_HEADER_SIZE + (room?.length ?? 0);
    return writer;
  }

  /** The active segment's number. */
  get segment(): number {
    return this.#segment;
  }

  /** Bytes written to segment files by this writer, headers included. */
  get bytesWritten(): number {
    return this.#bytesWritten;
  }

  /** Bytes of the writer's buffers (records framed but not yet written, and encoding scratch). */
  get bufferBytes(): number {
    return this.#staging.capacity + this.#scratch.length;
  }

  /** The last LSN accepted by `append` (firstLsn - 1 before the first). */
  get lastLsn(): number {
    return this.#acceptedLsn;
  }

  /** The error that failed the writer, if one did. */
  get error(): StrataError | undefined {
    return this.#failure;
  }

  /**
   * Logs `ops` as one atomic record with LSNs firstLsn … firstLsn + ops.length - 1. Resolves after
   * the record was handed to the OS (write(2)), and with `sync` after fdatasync. `firstLsn` must
   * exceed every LSN appended before.
   */
  append(ops: readonly BatchOp[], firstLsn: number, options?: AppendOptions): Promise<void> {
    const refusal = this.#lsnRefusal(firstLsn);
    if (refusal !== undefined) return Promise.reject(refusal);
    let length: number;
    try {
      length = batchLength(ops, firstLsn);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    let framed: number;
    if (fitsInBlock(length, this.#frameOffset)) {
      // The common case: encode straight into the staged fragment.
      framed = FRAGMENT_HEADER_SIZE + length;
      const at = this.#staging.allocate(framed);
      writeBatch(ops, firstLsn, this.#staging.buffer, at + FRAGMENT_HEADER_SIZE);
      sealFullFragment(this.#staging.buffer, at, length);
    } else {
      if (this.#scratch.length < length) this.#scratch = Buffer.allocUnsafe(Math.max(length, 2 * this.#scratch.length));
      writeBatch(ops, firstLsn, this.#scratch, 0);
      framed = this.#stage(this.#scratch.subarray(0, length));
    }
    return this.#queueAppend(framed, firstLsn + ops.length - 1, options);
  }

  /**
   * `append` for a batch built in its record's layout (BatchRecord): stamps its header with
   * `firstLsn` and its count (`BatchRecord.stamp`), and copies its bytes as they are — the same record `append` would
   * encode from the same ops. The record must not change until this returns.
   */
  appendRecord(record: BatchRecord, firstLsn: number, options?: AppendOptions): Promise<void> {
    const refusal = this.#lsnRefusal(firstLsn);
    if (refusal !== undefined) return Promise.reject(refusal);
    let bytes: Uint8Array;
    try {
      bytes = record.stamp(firstLsn);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    return this.#queueAppend(this.#stage(bytes), firstLsn + record.count - 1, options);
  }

  /** Frames an encoded record into the staging buffer (copied); returns the bytes it took there. */
  #stage(record: Uint8Array): number {
    const length = record.length;
    if (fitsInBlock(length, this.#frameOffset)) {
      const at = this.#staging.allocate(FRAGMENT_HEADER_SIZE + length);
      this.#staging.buffer.set(record, at + FRAGMENT_HEADER_SIZE);
      sealFullFragment(this.#staging.buffer, at, length);
      return FRAGMENT_HEADER_SIZE + length;
    }
    const framed = framedLength(length, this.#frameOffset);
    const at = this.#staging.allocate(framed); // before reading .buffer: allocating may grow it
    frameRecord(record, this.#staging.buffer, at, this.#frameOffset);
    return framed;
  }

  /** Why an append at `firstLsn` is refused now (the writer failed or closed; LSNs must increase), or undefined. */
  #lsnRefusal(firstLsn: number): Error | undefined {
    const refusal = this.#refusal();
    if (refusal !== undefined) return refusal;
    if (!Number.isSafeInteger(firstLsn) || firstLsn <= this.#acceptedLsn) {
      return new StrataError('INVALID_ARGUMENT', `LSNs must increase: batch starts at ${firstLsn}, but LSN ${this.#acceptedLsn} was already logged`);
    }
    return undefined;
  }

  /** An append's record (`framed` bytes) is staged: queues its write. */
  #queueAppend(framed: number, lastLsn: number, options: AppendOptions | undefined): Promise<void> {
    this.#frameOffset += framed;
    this.#acceptedLsn = lastLsn;
    const end = this.#staging.end;
    return new Promise<undefined>((resolve, reject) => {
      this.#enqueue({ kind: 'append', end, lastLsn, sync: options?.sync === true, whileWriting: options?.whileWriting, resolve, reject });
    });
  }

  /** Resolves when everything appended before this call is durable (fdatasync). */
  sync(): Promise<void> {
    const refusal = this.#refusal();
    if (refusal !== undefined) return Promise.reject(refusal);
    return new Promise<undefined>((resolve, reject) => {
      this.#enqueue({ kind: 'sync', end: 0, lastLsn: 0, sync: false, whileWriting: undefined, resolve, reject });
    });
  }

  /**
   * Makes the active segment durable, closes it and starts the next segment; resolves with the
   * new segment's number. Appends issued after this call go to the new segment, in order.
   */
  rotate(): Promise<number> {
    const refusal = this.#refusal();
    if (refusal !== undefined) return Promise.reject(refusal);
    this.#frameOffset = SEGMENT_HEADER_SIZE;
    return new Promise<number>((resolve, reject) => {
      this.#enqueue({ kind: 'rotate', end: 0, lastLsn: 0, sync: false, whileWriting: undefined, resolve, reject });
    });
  }

  /**
   * Waits for queued requests, syncs the active segment and closes it. The descriptor is released
   * even when the writer has failed; the promise then rejects (IO_ERROR if its own sync or close
   * failed, READ_ONLY if the writer had failed before).
   */
  close(): Promise<void> {
    if (this.#closing) return Promise.reject(new StrataError('NOT_OPEN', 'the WAL writer is already closed'));
    this.#closing = true;
    return new Promise<undefined>((resolve, reject) => {
      this.#enqueue({ kind: 'close', end: 0, lastLsn: 0, sync: false, whileWriting: undefined, resolve, reject });
    });
  }

  /**
   * Deletes segments numbered below `segment` (see the free function of the same name) after
   * checking that the active segment is not among them.
   */
  deleteSegmentsBefore(segment: number): Promise<number[]> {
    if (segment > this.#segment) {
      return Promise.reject(
        new StrataError('INVALID_ARGUMENT', `cannot delete segments before ${segment}: segment ${this.#segment} is active`),
      );
    }
    return deleteSegmentsBefore(this.#dir, segment, this.#fs);
  }

  #refusal(): StrataError | undefined {
    if (this.#closing) return new StrataError('NOT_OPEN', 'the WAL writer is closed');
    if (this.#failure !== undefined) return this.#readOnly();
    return undefined;
  }

  #readOnly(): StrataError {
    const failure = this.#failure!;
    const where = failure.file === undefined ? '' : `${failure.file}: `;
    return new StrataError('READ_ONLY', `${where}the WAL refuses writes after an earlier I/O failure; reopen the database to recover`, {
      ...(failure.file === undefined ? {} : { file: failure.file }),
      cause: failure,
    });
  }

  #enqueue(request: Request): void {
    this.#queue.push(request);
    if (!this.#draining) {
      this.#draining = true;
      // Deferred so that every request issued in this tick joins the first group. A reaction
      // on a settled promise, not queueMicrotask: Node's queueMicrotask builds an AsyncResource
      // per call (~1 µs, and a large function for V8 to optimize on every durable put's path).
      void SETTLED.then(this.#startDrain);
    }
  }

  readonly #startDrain = (): void => {
    if (!this.#loneRound()) this.#drain().catch(this.#drainFailed);
  };

  /** After a round outside `#drain` (`#loneRound`): serves what was queued meanwhile, else stops. */
  #roundDone(): void {
    const queue = this.#queue;
    if (this.#head < queue.length) this.#drain().catch(this.#drainFailed);
    else {
      if (queue.length < KEEP_QUEUE_SLOTS) {
        // Not `length = 0`: that drops the array's backing store, and the next append's push
        // allocated a new one — ~150 B per durable put of a lone writer, a tenth of what the
        // put allocated besides the caller's buffers (docs/performance/session-15.md).
        queue[this.#head - 1] = SERVED;
      } else {
        queue.length = 0;
        this.#head = 0;
      }
      this.#draining = false;
    }
  }

  /**
   * A lone writer's round — one append queued, nothing else, a small group that grows no file
   * (so `#writeGroup` writes it with write(2) and returns at once) — served without the async
   * loop: the write here, its fdatasync (if it asked for one) through reactions on the file
   * layer's promise. The loop's frames cost every durable put of a lone writer a promise per
   * await, the loop's own promise and its `catch`, and as many microtask hops. What it does is
   * `#drain`'s append case, in the same order: the same failures, cut back and rejected alike.
   * Returns false (nothing done) for any other round.
   */
  #loneRound(): boolean {
    const queue = this.#queue;
    const first = this.#head;
    if (queue.length !== first + 1 || this.#failure !== undefined) return false;
    const request = queue[first]!;
    if (request.kind !== 'append') return false;
    const bytes = request.end - this.#staging.consumed;
    if ((bytes >= OFF_THREAD_BYTES && this.#fs.write !== undefined) || (request.sync && this.#offset + bytes > this.#fileEnd)) return false;
    const groupOffset = this.#offset;
    const wantsSync = this.#writeGroup() as boolean | undefined; // synchronous: see the conditions above
    if (wantsSync === undefined) this.#roundFailed(groupOffset);
    else if (!wantsSync) {
      request.resolve(undefined);
      this.#roundDone();
    } else {
      this.#roundOffset = groupOffset;
      this.#fs.fdatasync(this.#fd).then(this.#loneSynced, this.#loneSyncFailed);
    }
    return true;
  }

  /** Where the group of the lone round being synced starts (`#cutBack` after a failed fdatasync). */
  #roundOffset = 0;

  readonly #loneSynced = (): void => {
    this.#syncedOffset = this.#offset;
    this.#resolveRange(this.#head - 1, this.#head);
    this.#roundDone();
  };

  readonly #loneSyncFailed = (err: unknown): void => {
    this.#syncFailed(err);
    this.#roundFailed(this.#roundOffset);
  };

  /** The lone round's write or fdatasync failed (the writer has failed): cut it off, reject it, go on. */
  #roundFailed(groupOffset: number): void {
    void this.#groupFailed(this.#head - 1, this.#head, groupOffset).then(() => {
      this.#roundDone();
    });
  }

  /** A field, not a closure made per drain (one drain per durable put of a lone writer). */
  readonly #drainFailed = (err: unknown): void => {
    // Only a bug gets here; failing loudly beats leaving every later append hanging.
    this.#failure ??= new StrataError('IO_ERROR', 'internal error in the WAL writer', { cause: err });
    this.#rejectQueued();
    this.#draining = false;
  };

  #file(): string {
    return this.#path;
  }

  async #drain(): Promise<void> {
    const queue = this.#queue;
    while (this.#head < queue.length) {
      if (this.#failure !== undefined) {
        this.#rejectQueued();
        break;
      }
      const request = queue[this.#head]!;
      switch (request.kind) {
        case 'append': {
          const first = this.#head;
          const groupOffset = this.#offset;
          const written = this.#writeGroup();
          const wantsSync = written instanceof Promise ? await written : written;
          if (wantsSync === undefined || (wantsSync && !(await this.#syncActive()))) await this.#groupFailed(first, this.#head, groupOffset);
          else this.#resolveRange(first, this.#head);
          break;
        }
        case 'sync':
          this.#head++;
          if (await this.#syncActive()) request.resolve(undefined);
          else request.reject(this.#failure);
          break;
        case 'rotate':
          this.#head++;
          if (await this.#rotateNow()) request.resolve(this.#segment);
          else request.reject(this.#failure);
          break;
        case 'close':
          this.#head++;
          // The descriptor is released even when the sync fails.
          if ((await this.#sealActive()) && this.#closeFd()) request.resolve(undefined);
          else {
            this.#closeFd();
            request.reject(this.#failure);
          }
          break;
      }
      if (this.#head > 1024 && this.#head * 2 > queue.length) {
        queue.splice(0, this.#head);
        this.#head = 0;
      }
    }
    queue.length = 0;
    this.#head = 0;
    this.#draining = false;
  }

  /**
   * Writes the run of appends at the head of the queue with one write(2) and moves the head past
   * them (and preallocates after them, see the top of the file). Returns whether any of them
   * asked for sync, or undefined if a write failed (the writer has then failed; the caller cuts
   * the run off and rejects it).
   *
   * Not async: a small group's write(2) is synchronous, and so is its result, unless the thread
   * pool writes it or a preallocation follows (then a promise of it). An async function here
   * was a promise and a microtask hop more per round — per durable put of a lone writer.
   */
  #writeGroup(): boolean | undefined | Promise<boolean | undefined> {
    const queue = this.#queue;
    const first = this.#head;
    const groupStart = this.#staging.consumed;
    let end = first;
    let wantsSync = false;
    for (; end < queue.length; end++) {
      const request = queue[end]!;
      if (request.kind !== 'append') break;
      if (end > first && request.end - groupStart > this.#groupCommitBytes) break;
      wantsSync ||= request.sync;
    }
    this.#head = end;
    const last = queue[end - 1] as Extract<Request, { kind: 'append' }>;
    const bytes = last.end - groupStart;
    if (bytes >= OFF_THREAD_BYTES && this.#fs.write !== undefined) return this.#writeGroupOffThread(first, end, groupStart, last, wantsSync);
    try {
      writeAll(this.#fs, this.#fd, this.#staging.view(groupStart, last.end), this.#offset, this.#file());
    } catch (err) {
      this.#fail(ioError(this.#file(), this.#offset, 'appending to the WAL', err, FAILED));
      return undefined;
    }
    return this.#groupWritten(last, bytes, wantsSync);
  }

  /** `#writeGroup` for a group the thread pool writes: appends [first, end), staged from `groupStart`. */
  async #writeGroupOffThread(first: number, end: number, groupStart: number, last: Extract<Request, { kind: 'append' }>, wantsSync: boolean): Promise<boolean | undefined> {
    try {
      // Appends keep framing records while the thread pool reads these bytes: pinned.
      this.#staging.pin();
      try {
        const written = writeAllOffThread(this.#fs, this.#fd, this.#staging.view(groupStart, last.end), this.#offset, this.#file());
        callWhileWriting(this.#queue, first, end);
        await written;
      } finally {
        this.#staging.unpin();
      }
    } catch (err) {
      this.#fail(ioError(this.#file(), this.#offset, 'appending to the WAL', err, FAILED));
      return undefined;
    }
    return this.#groupWritten(last, last.end - groupStart, wantsSync);
  }

  /** The group ending with `last` (`bytes` long) is written: accounts for it, and preallocates if it grew the file (see `#writeGroup`). */
  #groupWritten(last: Extract<Request, { kind: 'append' }>, bytes: number, wantsSync: boolean): boolean | Promise<boolean | undefined> {
    this.#staging.consume(last.end);
    this.#offset += bytes;
    this.#bytesWritten += bytes;
    this.#writtenLsn = last.lastLsn;
    if (wantsSync) this.#durableInSegment = true;
    if (this.#offset > this.#fileEnd) {
      this.#fileEnd = this.#offset;
      // This round's fdatasync commits a new file size anyway: let it commit room for the next ones too.
      if (wantsSync) return this.#preallocate().then((ok) => (ok ? true : undefined));
    }
    return wantsSync;
  }

  /**
   * Writes zeros from the end of the records to the next page boundary PREALLOCATE_BYTES on.
   * A failure (a full disk) fails the writer like a failed write of the records: the round is
   * rejected and cut off, zeros included — one rule for every failed write, nothing after it.
   */
  async #preallocate(): Promise<boolean> {
    const from = this.#offset;
    const to = preallocatedEnd(from);
    try {
      // ≥ 128 KiB that extend the file: off the JS thread when the layer can (never changed: shareable).
      await writeAllOffThread(this.#fs, this.#fd, zerosOf(to - from), from, this.#file());
    } catch (err) {
      this.#fail(ioError(this.#file(), from, 'preallocating WAL space', err, FAILED));
      return false;
    }
    this.#fileEnd = to;
    return true;
  }

  /**
   * Makes the active segment durable at exactly its records, before it is rotated away or closed
   * (replay takes zeros only at the end of the newest segment). With preallocated zeros after the
   * records, they are cut off and ONE fsync makes both the records and the shorter size durable;
   * without, it is the ordinary fdatasync. Returns false (and fails the writer) on error.
   */
  async #sealActive(): Promise<boolean> {
    if (this.#fileEnd <= this.#offset || this.#fd < 0) return this.#syncActive();
    try {
      this.#fs.ftruncateSync(this.#fd, this.#offset);
      await this.#fs.fsync(this.#fd);
    } catch (err) {
      this.#fail(ioError(this.#file(), this.#offset, 'cutting the preallocated end off a WAL segment', err, FAILED));
      return false;
    }
    this.#fileEnd = this.#offset;
    this.#syncedOffset = this.#offset;
    return true;
  }

  /** fdatasyncs the active segment if it has unsynced bytes. Returns false (and fails the writer) on error. */
  async #syncActive(): Promise<boolean> {
    const target = this.#offset;
    if (target === this.#syncedOffset) return true;
    try {
      await this.#fs.fdatasync(this.#fd);
    } catch (err) {
      this.#syncFailed(err);
      return false;
    }
    this.#syncedOffset = target;
    return true;
  }

  async #rotateNow(): Promise<boolean> {
    if (!(await this.#sealActive())) return false;
    const oldFile = this.#file();
    try {
      this.#fs.closeSync(this.#fd);
    } catch (err) {
      this.#fd = -1;
      this.#fail(ioError(oldFile, undefined, 'closing a WAL segment', err, FAILED));
      return false;
    }
    this.#fd = -1;
    const next = this.#segment + 1;
    // Durable appends went to the segment rotated away: the first of the next ones would pay for
    // this segment's zeros and its new size in its own round; the new segment's fsync, which the
    // appends behind the rotation wait for anyway, carries them instead.
    const room = this.#durableInSegment ? newSegmentZeros() : undefined;
    this.#durableInSegment = false;
    try {
      this.#fd = await createSegmentFile(this.#fs, this.#dir, this.#uuid, next, this.#writtenLsn + 1, room);
    } catch (err) {
      this.#fail(err instanceof StrataError ? err : ioError(join(this.#dir, segmentFileName(next)), undefined, 'creating a WAL segment', err, FAILED));
      return false;
    }
    this.#segment = next;
    this.#path = join(this.#dir, segmentFileName(next));
    this.#offset = SEGMENT_HEADER_SIZE;
    this.#syncedOffset = SEGMENT_HEADER_SIZE;
    this.#fileEnd = SEGMENT_HEADER_SIZE + (room?.length ?? 0);
    this.#bytesWritten += SEGMENT_HEADER_SIZE;
    return true;
  }

  /**
   * After a failed write or fdatasync of a group starting at `offset`: cuts the group's records
   * off the segment and makes the cut durable, so that a record whose append was rejected is not
   * replayed by the next open (a write(2) may have stored whole records before failing; after a
   * failed fdatasync all of them are in the file). Best effort: if the cut fails the records may
   * come back, as after any failed write whose outcome the disk did not report. The fsync here is
   * not the retry the rules forbid: it vouches for no data, only for the shorter length.
   */
  async #cutBack(offset: number): Promise<void> {
    if (this.#fd < 0) return;
    try {
      this.#fs.ftruncateSync(this.#fd, offset);
      await this.#fs.fsync(this.#fd);
    } catch {
      // The writer has failed already, with the error its callers get; this one adds nothing they can act on.
    }
  }

  /** Releases the active descriptor. Returns false (and fails the writer) if close(2) failed. */
  #closeFd(): boolean {
    if (this.#fd < 0) return true;
    const fd = this.#fd;
    this.#fd = -1;
    if (this.#failure !== undefined) {
      closeQuietly(this.#fs, fd);
      return true;
    }
    try {
      this.#fs.closeSync(fd);
      return true;
    } catch (err) {
      this.#fail(ioError(this.#file(), undefined, 'closing a WAL segment', err, FAILED));
      return false;
    }
  }

  /** Enters the failed state; the requests in [first, end) get `failure` itself. */
  #fail(failure: StrataError, first = 0, end = 0): void {
    this.#failure ??= failure;
    this.#staging.discard();
    this.#rejectRange(first, end, failure);
  }

  /** A failed fdatasync of the active segment fails the writer (`#syncActive`, the lone round). */
  #syncFailed(err: unknown): void {
    this.#fail(ioError(this.#file(), undefined, 'syncing the WAL', err, FAILED));
  }

  /**
   * The append group [first, end), written from `groupOffset`, failed to write or to sync (the
   * writer has failed): cut off the segment, then rejected — for `#drain` and the lone round alike.
   */
  async #groupFailed(first: number, end: number, groupOffset: number): Promise<void> {
    await this.#cutBack(groupOffset);
    this.#rejectRange(first, end, this.#failure!);
  }

  /** The append group [first, end) is written (and synced if any asked): its appends resolve. */
  #resolveRange(first: number, end: number): void {
    for (let i = first; i < end; i++) (this.#queue[i] as Extract<Request, { kind: 'append' }>).resolve(undefined);
  }

  #rejectRange(first: number, end: number, reason: StrataError): void {
    for (let i = first; i < end; i++) this.#queue[i]!.reject(reason);
  }

  /** Rejects everything still queued with READ_ONLY; a queued close still releases the descriptor. */
  #rejectQueued(): void {
    const queue = this.#queue;
    for (; this.#head < queue.length; this.#head++) {
      const request = queue[this.#head]!;
      if (request.kind === 'close') this.#closeFd();
      request.reject(this.#readOnly());
    }
  }
}

/** Calls the `whileWriting` of the appends in [first, end) (AppendOptions.whileWriting). */
function callWhileWriting(queue: readonly Request[], first: number, end: number): void {
  for (let i = first; i < end; i++) {
    const fn = queue[i]!.whileWriting;
    if (fn === undefined) continue;
    try {
      fn();
    } catch (err) {
      // A caller's bug: it must not pass for a failed write (the bytes are on their way), nor go unnoticed.
      process.nextTick(() => {
        throw err;
      });
    }
  }
}

/** Same as `WalWriter.create`. */
export function openWal(dir: string, options: WalWriterOptions): Promise<WalWriter> {
  return WalWriter.create(dir, options);
}
