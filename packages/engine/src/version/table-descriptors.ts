/**
 * The file descriptors of table files: at most `capacity` open at once, however many tables the
 * database has and however many readers hold them.
 *
 * Tables read their file through a *virtual* descriptor that this object hands out in place of a
 * real one (it implements the read side of the file layer: openSync, readSync, fstatSync,
 * closeSync). The real descriptor behind it is opened on demand and closed again when the pool is
 * full and another table needs one — least recently read first, so a hot table keeps its file
 * open. Exact LRU, kept cheap at both ends: the open descriptors form a list, most recently read
 * first, and a read moves its descriptor to the front (a few field writes, and none when it is
 * there already); an eviction takes the list's tail. Both are O(1), so a pool of thousands of
 * descriptors (the default allows 10,000: descriptor-limit.ts) costs a churning workload no more
 * per reopen than a pool of ten — the stamps and scan this replaced cost O(open) per eviction.
 * Every read is one synchronous positioned read, so no read ever spans an eviction: an
 * iterator, a get or a compaction needs no pin to keep its descriptor, and the number of table
 * descriptors of the process never exceeds `capacity` (the guarantee `maxOpenFiles` makes).
 *
 * When the process runs out of descriptors first (EMFILE, or ENFILE for the whole system: the
 * application or another database in the process holds the rest), the pool gives up its least
 * recently read descriptor and tries again, and keeps the capacity it had reached: it shrinks to
 * what the process can spare instead of failing a read that it could serve. With no descriptor of
 * its own left to give, the error goes to the reader (table-cache.ts names the limit).
 *
 * A virtual descriptor stays valid until its file is deleted (`forget`) or the database closes
 * (`closeAll`): table files are immutable and never reused, so reopening one by path always finds
 * the same bytes — and the version set deletes a file only when no reader can reach it
 * (docs/design-rules.md: a file is deleted only once nothing refers to it).
 */
import { isFsError, type FileSystem, type OpenFlags } from '@strata-db/vfs';

type ReadSide = Pick<FileSystem, 'openSync' | 'closeSync' | 'readSync' | 'fstatSync'>;

interface Descriptor {
  readonly path: string;
  /** The real descriptor, or -1 while closed. */
  fd: number;
  /** Neighbours in the list of open descriptors (more and less recently read); null at its ends and while closed. */
  newer: Descriptor | null;
  older: Descriptor | null;
}

/** See TableDescriptors.bytes. */
export const DESCRIPTOR_BYTES = 160;

/** Far above any real descriptor number, so a virtual one passed to the real layer fails loudly. */
const FIRST_VIRTUAL_FD = 0x4000_0000;

export class TableDescriptors implements ReadSide {
  /** Virtual fd → descriptor. Owned by this object; tables only hold the numbers. */
  private readonly byVfd = new Map<number, Descriptor>();
  private readonly byPath = new Map<string, number>();
  /** The open descriptors, most recently read first: `newest` … `oldest`, linked by newer/older. */
  private newest: Descriptor | null = null;
  private oldest: Descriptor | null = null;
  private openDescriptors = 0;
  private nextVfd = FIRST_VIRTUAL_FD;
  /** Characters of the paths in `byPath` (`bytes`). */
  private pathChars = 0;
  /** Real opens, including reopens after an eviction (stats: how often the bound bites). */
  private opens = 0;

  constructor(
    private readonly fs: ReadSide,
    /** Most real descriptors open at once (≥ 1); lowered when the process runs out first (above). */
    private maxOpen: number,
    /** A close(2) that failed: reported (the event sink), never thrown. */
    private readonly onCloseFailed?: (path: string, err: unknown) => void,
    /** The pool shrank: the process ran out of descriptors with `capacity` of them open here. Reported, never thrown. */
    private readonly onShrink?: (capacity: number, err: unknown) => void,
  ) {}

  /** Most real descriptors open at once: the capacity given, or less once the process ran out first. */
  get capacity(): number {
    return this.maxOpen;
  }

  /** Opens `path` for reading; the same virtual descriptor for the same path while it lives. */
  openSync(path: string, flags: OpenFlags): number {
    if (flags !== 'r') throw new TypeError(`table files are opened read-only, not '${flags}'`);
    const known = this.byPath.get(path);
    if (known !== undefined) {
      this.ensureOpen(this.byVfd.get(known)!);
      return known;
    }
    const vfd = this.nextVfd++;
    const d: Descriptor = { path, fd: -1, newer: null, older: null };
    this.ensureOpen(d); // throws ENOENT/EMFILE/… before anything is recorded
    this.byVfd.set(vfd, d);
    this.byPath.set(path, vfd);
    this.pathChars += path.length;
    return vfd;
  }

  readSync(vfd: number, buf: Uint8Array, off: number, len: number, position: number): number {
    const d = this.descriptor(vfd);
    if (d.fd < 0) this.ensureOpen(d);
    else if (d !== this.newest) this.moveToFront(d);
    return this.fs.readSync(d.fd, buf, off, len, position);
  }

  fstatSync(vfd: number): { size: number } {
    const d = this.descriptor(vfd);
    return this.fs.fstatSync(d.fd >= 0 ? d.fd : this.ensureOpen(d));
  }

  /** A table's own close: the same as `forget` for its path. */
  closeSync(vfd: number): void {
    const d = this.byVfd.get(vfd);
    if (d !== undefined) this.forget(d.path);
  }

  /** The file is being deleted: close its descriptor and forget it. */
  forget(path: string): void {
    const vfd = this.byPath.get(path);
    if (vfd === undefined) return;
    const d = this.byVfd.get(vfd)!;
    this.byPath.delete(path);
    this.byVfd.delete(vfd);
    this.pathChars -= path.length;
    this.closeReal(d);
  }

  /** Closes every descriptor (the database is closing). */
  closeAll(): void {
    for (const path of [...this.byPath.keys()]) this.forget(path);
  }

  /**
   * Bytes of memory the descriptor records take: one per table file opened and not yet deleted
   * (open or not), so it grows with the tables, not with maxOpenFiles — DESCRIPTOR_BYTES (the
   * record, its entries in both maps, the virtual number, a heap number) and its path's characters.
   */
  get bytes(): number {
    return DESCRIPTOR_BYTES * this.byPath.size + this.pathChars;
  }

  /** Real descriptors open now (≤ capacity). */
  get openCount(): number {
    return this.openDescriptors;
  }

  /** Real opens so far, first opens and reopens after eviction alike. */
  get openCalls(): number {
    return this.opens;
  }

  private descriptor(vfd: number): Descriptor {
    const d = this.byVfd.get(vfd);
    if (d === undefined) {
      // A table whose file was deleted or a database that closed: the table maps EBADF to IO_ERROR.
      throw Object.assign(new Error(`EBADF: table descriptor ${vfd} is closed`), { code: 'EBADF' });
    }
    return d;
  }

  private ensureOpen(d: Descriptor): number {
    if (d.fd >= 0) return d.fd;
    while (this.openDescriptors >= this.maxOpen) this.closeReal(this.oldest!);
    for (;;) {
      try {
        d.fd = this.fs.openSync(d.path, 'r');
        break;
      } catch (err) {
        if (!(isFsError(err, 'EMFILE') || isFsError(err, 'ENFILE')) || this.oldest === null) throw err;
        // The process is out of descriptors before this pool is full: keep what it reached, give one back, retry.
        this.maxOpen = this.openDescriptors;
        this.closeReal(this.oldest);
        this.onShrink?.(this.maxOpen, err);
      }
    }
    this.opens++;
    this.linkAtFront(d);
    return d.fd;
  }

  private closeReal(d: Descriptor): void {
    if (d.fd < 0) return;
    const fd = d.fd;
    d.fd = -1;
    this.unlink(d);
    try {
      this.fs.closeSync(fd);
    } catch (err) {
      // A read-only descriptor: a failed close loses nothing, and Linux releases the descriptor
      // even then (retrying could close another file's reused number). Reported, not thrown.
      this.onCloseFailed?.(d.path, err);
    }
  }

  private moveToFront(d: Descriptor): void {
    this.unlink(d);
    this.linkAtFront(d);
  }

  private linkAtFront(d: Descriptor): void {
    d.older = this.newest;
    d.newer = null;
    if (this.newest !== null) this.newest.newer = d;
    else this.oldest = d;
    this.newest = d;
    this.openDescriptors++;
  }

  private unlink(d: Descriptor): void {
    if (d.newer !== null) d.newer.older = d.older;
    else this.newest = d.older;
    if (d.older !== null) d.older.newer = d.newer;
    else this.oldest = d.newer;
    d.newer = d.older = null;
    this.openDescriptors--;
  }
}
