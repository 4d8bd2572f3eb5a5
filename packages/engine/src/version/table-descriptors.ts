/**
 * The file descriptors of table files: at most `capacity` open at once, however many tables the
 * database has and however many readers hold them.
 *
 * Tables read their file through a *virtual* descriptor that this object hands out in place of a
 * real one (it implements the read side of the file layer: openSync, readSync, fstatSync,
 * closeSync). The real descriptor behind it is opened on demand and closed again when the pool is
 * full and another table needs one — least recently read first, so a hot table keeps its file
 * open. Exact LRU, kept cheap for the reads: a read stamps its descriptor with a counter (one
 * field write; it used to be a Set delete and add per read, ~1.4% of a get that misses the block
 * cache), and only an eviction — the pool full and a table needing its file reopened, an
 * open(2) anyway — scans the open descriptors for the oldest stamp. Every read is one synchronous positioned read, so no read ever spans an eviction: an
 * iterator, a get or a compaction needs no pin to keep its descriptor, and the number of table
 * descriptors of the process never exceeds `capacity` (the guarantee `maxOpenFiles` makes).
 *
 * A virtual descriptor stays valid until its file is deleted (`forget`) or the database closes
 * (`closeAll`): table files are immutable and never reused, so reopening one by path always finds
 * the same bytes — and the version set deletes a file only when no reader can reach it
 * (docs/design-rules.md: a file is deleted only once nothing refers to it).
 */
import type { FileSystem, OpenFlags } from '@strata-db/vfs';

type ReadSide = Pick<FileSystem, 'openSync' | 'closeSync' | 'readSync' | 'fstatSync'>;

interface Descriptor {
  readonly path: string;
  /** The real descriptor, or -1 while closed. */
  fd: number;
  /** `TableDescriptors.clock` at its last read or open: the least recent goes first. */
  used: number;
}

/** Far above any real descriptor number, so a virtual one passed to the real layer fails loudly. */
const FIRST_VIRTUAL_FD = 0x4000_0000;

export class TableDescriptors implements ReadSide {
  /** Virtual fd → descriptor. Owned by this object; tables only hold the numbers. */
  private readonly byVfd = new Map<number, Descriptor>();
  private readonly byPath = new Map<string, number>();
  /** Virtual fds whose real descriptor is open (in no particular order: see `used`). */
  private readonly open = new Set<number>();
  /** Ticks once per read or open; stamps `Descriptor.used`. */
  private clock = 0;
  private nextVfd = FIRST_VIRTUAL_FD;
  /** Real opens, including reopens after an eviction (stats: how often the bound bites). */
  private opens = 0;

  constructor(
    private readonly fs: ReadSide,
    /** Most real descriptors open at once (≥ 1). */
    readonly capacity: number,
    /** A close(2) that failed: reported (the event sink), never thrown. */
    private readonly onCloseFailed?: (path: string, err: unknown) => void,
  ) {}

  /** Opens `path` for reading; the same virtual descriptor for the same path while it lives. */
  openSync(path: string, flags: OpenFlags): number {
    if (flags !== 'r') throw new TypeError(`table files are opened read-only, not '${flags}'`);
    const known = this.byPath.get(path);
    if (known !== undefined) {
      this.ensureOpen(known, this.byVfd.get(known)!);
      return known;
    }
    const vfd = this.nextVfd++;
    const d: Descriptor = { path, fd: -1, used: 0 };
    this.ensureOpen(vfd, d); // throws ENOENT/EMFILE/… before anything is recorded
    this.byVfd.set(vfd, d);
    this.byPath.set(path, vfd);
    return vfd;
  }

  readSync(vfd: number, buf: Uint8Array, off: number, len: number, position: number): number {
    const d = this.descriptor(vfd);
    d.used = ++this.clock;
    return this.fs.readSync(d.fd >= 0 ? d.fd : this.ensureOpen(vfd, d), buf, off, len, position);
  }

  fstatSync(vfd: number): { size: number } {
    const d = this.descriptor(vfd);
    return this.fs.fstatSync(d.fd >= 0 ? d.fd : this.ensureOpen(vfd, d));
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
    this.closeReal(vfd, d);
  }

  /** Closes every descriptor (the database is closing). */
  closeAll(): void {
    for (const path of [...this.byPath.keys()]) this.forget(path);
  }

  /** Real descriptors open now (≤ capacity). */
  get openCount(): number {
    return this.open.size;
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

  private ensureOpen(vfd: number, d: Descriptor): number {
    if (d.fd >= 0) return d.fd;
    while (this.open.size >= this.capacity) {
      let lru = -1;
      let oldest = Infinity;
      for (const v of this.open) {
        const used = this.byVfd.get(v)!.used;
        if (used < oldest) {
          oldest = used;
          lru = v;
        }
      }
      this.closeReal(lru, this.byVfd.get(lru)!);
    }
    d.fd = this.fs.openSync(d.path, 'r');
    this.opens++;
    d.used = ++this.clock;
    this.open.add(vfd);
    return d.fd;
  }

  private closeReal(vfd: number, d: Descriptor): void {
    if (d.fd < 0) return;
    const fd = d.fd;
    d.fd = -1;
    this.open.delete(vfd);
    try {
      this.fs.closeSync(fd);
    } catch (err) {
      // A read-only descriptor: a failed close loses nothing, and Linux releases the descriptor
      // even then (retrying could close another file's reused number). Reported, not thrown.
      this.onCloseFailed?.(d.path, err);
    }
  }
}
