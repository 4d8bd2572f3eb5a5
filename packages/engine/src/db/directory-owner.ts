/**
 * Whose directory is this? Decided before open creates, writes, renames or deletes anything, so
 * that pointing Strata at another engine's database (a common slip when migrating from
 * classic-level) changes nothing there, byte for byte, mtime included. Only reads happen here:
 * readdir, and the first bytes of a few files.
 *
 * A directory is one of
 *   - missing or EMPTY: open may create a database in it;
 *   - a Strata DATABASE: CURRENT names a manifest that starts with Strata's magic "STRATAMF";
 *   - an UNFINISHED Strata database, or a damaged one: no such CURRENT, but files that are
 *     provably Strata's (an IDENTITY in Strata's exact format, a manifest with Strata's magic, a
 *     WAL segment with Strata's magic "STRATAWL") and no mark of another engine. Creation resumes
 *     (no CURRENT), or recovery reports CORRUPTION (a CURRENT that is damaged);
 *   - FOREIGN: anything else → NOT_A_DATABASE, naming what was found and what to do.
 *
 * The rule for an existing directory: Strata refuses every file it did not write, with these
 * exceptions, which it leaves alone and never counts as contents:
 *   .DS_Store, Thumbs.db, desktop.ini (written by file browsers), .gitkeep, .keep (placeholders
 *   that keep an empty directory in version control), lost+found (the root of a mounted file
 *   system).
 * Names Strata writes are LOCK, LOCK.break, IDENTITY, IDENTITY.tmp, CURRENT, CURRENT.tmp,
 * MANIFEST-N, N.sst, N.wal, and lost/ (where repair.ts sets aside what it could not use). The temporaries and LOCK.break are Strata's by name alone (no other
 * engine uses these names: LevelDB's and RocksDB's temporaries are N.dbtmp). The others are
 * Strata's only with proof in the directory (IDENTITY, manifest or WAL segment content above).
 * A LOCK counts as Strata's when it holds Strata's lock line (lock.ts). An empty LOCK is what
 * LevelDB and RocksDB lock with; it is Strata's — a creator cut off before writing its line —
 * only next to proof, or when it is the only entry (LevelDB and RocksDB create their LOG before
 * their LOCK, so a directory of theirs never holds a LOCK alone). Any other LOCK is refused.
 * A directory that IS a Strata database (CURRENT → Strata manifest) is Strata's: other files in
 * it are left alone (never deleted, never read), but it is still a Strata database.
 */
import { join } from 'node:path';
import { StrataError } from '../errors.js';
import type { FileSystem } from '@strata-db/vfs';
import { MANIFEST_MAGIC } from '../manifest/format.js';
import { CURRENT_FILE, IDENTITY_FILE, LOCK_FILE, LOST_DIRECTORY } from './filenames.js';
import { isStrataLock } from './lock.js';

export type DirectoryState =
  | { readonly kind: 'missing' }
  /** `lockCutShort`: its only entry is a LOCK a Strata creator left empty or half-written. */
  | { readonly kind: 'empty'; readonly lockCutShort: boolean }
  | { readonly kind: 'database' }
  /** Provably Strata's files, but no CURRENT naming a Strata manifest: resume or report damage. */
  | { readonly kind: 'unfinished' };

/** Names that file browsers and version control put in any directory: never counted as contents. */
export const IGNORED_NAMES: ReadonlySet<string> = new Set(['.DS_Store', 'Thumbs.db', 'desktop.ini', '.gitkeep', '.keep', 'lost+found']);

/** Temporaries and the lock-breaking file: names no other engine uses (theirs are *.dbtmp). */
const STRATA_ONLY_NAMES: ReadonlySet<string> = new Set([`${IDENTITY_FILE}.tmp`, `${CURRENT_FILE}.tmp`, `${LOCK_FILE}.break`, LOST_DIRECTORY]);
/** How Strata's lock line starts (lock.ts writes its fields in this order). */
const LOCK_LINE_START = '{"pid":';
const WAL_MAGIC = Buffer.from('STRATAWL', 'latin1');
/** IDENTITY exactly as identity.ts writes it: a UUID in text form and a newline. */
const IDENTITY_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\n$/i;
const CURRENT_RE = /^(MANIFEST-\d+)\n$/;

/** Names another engine writes and Strata never does: their presence names the engine. */
const LMDB_NAMES = new Set(['data.mdb', 'lock.mdb']);
const ROCKSDB_NAME = /^OPTIONS-\d+(\.dbtmp)?$|^\d+\.blob$/;
const LEVELDB_NAME = /^\d+\.(ldb|log|dbtmp)$|^LOG(\.old)?$/;

/** Errors that mean "this entry is not a file Strata wrote", not "the disk failed". */
const NOT_A_FILE = new Set(['ENOENT', 'EISDIR']);

/**
 * The first `n` bytes of a file (fewer if it is shorter), or undefined when it is not a readable
 * file (a directory, a file that vanished meanwhile): such an entry is simply not Strata's. Any
 * other failure (EIO, EACCES, …) is IO_ERROR: a disk error must not pass for a foreign file.
 */
function head(fs: FileSystem, path: string, n: number): Buffer | undefined {
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch (err) {
    return notAFile(path, err);
  }
  try {
    const buf = Buffer.alloc(n);
    let got = 0;
    while (got < n) {
      const r = fs.readSync(fd, buf, got, n - got, got);
      if (r === 0) break;
      got += r;
    }
    return buf.subarray(0, got);
  } catch (err) {
    return notAFile(path, err);
  } finally {
    fs.closeSync(fd);
  }
}

function notAFile(path: string, err: unknown): Buffer | undefined {
  if (NOT_A_FILE.has((err as NodeJS.ErrnoException).code ?? '')) return undefined;
  throw new StrataError('IO_ERROR', `cannot read ${path}: ${(err as Error).message}`, { file: path, cause: err });
}

/** A whole small file (LOCK, IDENTITY, CURRENT: one call rather than three), as `head`. */
function small(fs: FileSystem, path: string): Buffer | undefined {
  try {
    return Buffer.from(fs.readFileSync(path));
  } catch (err) {
    return notAFile(path, err);
  }
}

function startsWith(buf: Buffer | undefined, magic: Buffer): boolean {
  return buf !== undefined && buf.length >= magic.length && buf.subarray(0, magic.length).equals(magic);
}

/**
 * Classifies `dir` (see the top of the file), or throws NOT_A_DATABASE — or IO_ERROR when the
 * directory cannot be listed or a file read fails. Reads only. `lockHeld`: this open holds the
 * LOCK (it is not read).
 */
export function inspectDirectory(fs: FileSystem, dir: string, lockHeld = false): DirectoryState {
  if (!fs.existsSync(dir)) return { kind: 'missing' };
  let all: string[];
  try {
    all = fs.readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOTDIR') {
      throw new StrataError('NOT_A_DATABASE', `${dir} is a file, not a directory: a Strata database is a directory; choose another path`, { file: dir });
    }
    throw new StrataError('IO_ERROR', `cannot list ${dir}: ${(err as Error).message}`, { file: dir, cause: err });
  }
  const names = all.filter((n) => !IGNORED_NAMES.has(n)).sort();
  if (names.length === 0) return { kind: 'empty', lockCutShort: false };

  // CURRENT naming a manifest with Strata's magic: a Strata database, whatever else is there.
  let current: string | undefined;
  if (names.includes(CURRENT_FILE)) {
    const text = small(fs, join(dir, CURRENT_FILE))?.toString('latin1');
    const m = text === undefined ? null : CURRENT_RE.exec(text);
    if (m !== null) current = m[1];
    if (current !== undefined && startsWith(head(fs, join(dir, current), 8), MANIFEST_MAGIC)) return { kind: 'database' };
  }

  // Otherwise: every name must be Strata's, and a file whose name only is Strata's must come
  // with one whose content is.
  let proof = false; // IDENTITY, a manifest or a WAL segment whose content only Strata writes
  let lockCutShort = false; // LOCK empty or holding the start of Strata's line
  const unproven: string[] = []; // named like Strata's files, content not (yet) shown to be
  const unexplained: string[] = []; // names Strata never writes
  for (const name of names) {
    const path = join(dir, name);
    if (name === LOCK_FILE) {
      if (lockHeld) continue; // ours: taken by this very open
      const bytes = small(fs, path) ?? Buffer.alloc(0);
      if (isStrataLock(bytes)) continue;
      const text = bytes.toString('latin1');
      if (LOCK_LINE_START.startsWith(text) || text.startsWith(LOCK_LINE_START)) lockCutShort = true;
      unproven.push(name);
    } else if (STRATA_ONLY_NAMES.has(name)) {
      continue;
    } else if (name === IDENTITY_FILE) {
      const text = small(fs, path)?.toString('latin1');
      if (text !== undefined && IDENTITY_RE.test(text)) proof = true;
      else unproven.push(name);
    } else if (/^MANIFEST-\d+$/.test(name)) {
      if (startsWith(head(fs, path, 8), MANIFEST_MAGIC)) proof = true;
      else unproven.push(name);
    } else if (/^\d{6,}\.wal$/.test(name)) {
      if (startsWith(head(fs, path, 8), WAL_MAGIC)) proof = true;
      else unproven.push(name);
    } else if (name === CURRENT_FILE || /^\d+\.sst$/.test(name)) {
      unproven.push(name);
    } else {
      unexplained.push(name);
    }
  }
  if (unexplained.length === 0) {
    // A damaged CURRENT, manifest header or IDENTITY next to proof: Strata's, damaged (CORRUPTION).
    if (proof) return { kind: 'unfinished' };
    if (unproven.length === 0) return { kind: 'empty', lockCutShort: false };
    // A LOCK cut short with nothing else: a Strata creator killed (or a power cut) between the
    // create and the write of its line. LevelDB and RocksDB create their LOG before their
    // (empty) LOCK, so a directory of theirs never holds a LOCK alone.
    if (lockCutShort && unproven.length === 1) return { kind: 'empty', lockCutShort: true };
  }
  throw notADatabase(dir, names, current, [...unexplained, ...unproven].sort());
}

/** NOT_A_DATABASE saying what was found and what to do. */
function notADatabase(dir: string, names: readonly string[], current: string | undefined, unexplained: readonly string[]): StrataError {
  let found: string;
  if (names.some((n) => LMDB_NAMES.has(n))) {
    found = 'an LMDB environment (data.mdb, lock.mdb)';
  } else if (names.some((n) => ROCKSDB_NAME.test(n))) {
    found = 'a RocksDB database (OPTIONS-* files)';
  } else if (names.some((n) => LEVELDB_NAME.test(n)) || (current !== undefined && names.includes(current))) {
    found = 'a LevelDB database (as classic-level, level and leveldown write it)';
  } else if (names.includes(CURRENT_FILE) && unexplained.length <= 1) {
    found = current === undefined ? 'a CURRENT file that Strata did not write' : `a CURRENT file naming ${current}, which is not a Strata manifest`;
  } else {
    found = 'files that Strata did not write';
  }
  const shown = (unexplained.length > 0 ? unexplained : names).slice(0, 8);
  const list = shown.join(', ') + (unexplained.length > shown.length ? `, … (${unexplained.length} in all)` : '');
  return new StrataError(
    'NOT_A_DATABASE',
    `${dir} is not a Strata database: it holds ${found} (${list}). Nothing in it was changed. ` +
      'Strata creates a database only in an empty or new directory and never touches files it did not write: ' +
      'choose an empty directory, or copy the data into a new Strata database (see "Migrating from LevelDB" in the @strata-db/engine README).',
    { file: dir },
  );
}
