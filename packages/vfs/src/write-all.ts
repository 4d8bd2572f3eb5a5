/**
 * Writing a whole buffer. `write(2)` may write fewer bytes than asked (a signal, a full disk, a
 * layer that splits large writes), so every caller that must write all of a buffer loops — and
 * a loop that adds the return value spins forever on a layer that returns 0. This is the one
 * loop of Strata (in two forms: on the JS thread, and through the thread pool): a write that
 * reports 0 bytes (or fewer) is an I/O error, never a retry.
 */
import type { FileSystem } from './file-system.js';
import { fsError, type FileSystemError } from './fs-error.js';

function noProgress(n: number, left: number, at: number, path: string | undefined): FileSystemError {
  return fsError('EIO', 'write', path, `write returned ${n} of ${left} bytes at offset ${at}; a write that makes no progress is an error, not a retry`);
}

/**
 * Writes all of `buf` at `position` (positioned writes; the file offset is not used), looping
 * over short writes. Throws what the layer throws (Node-style, `err.code` EIO, ENOSPC, …), and
 * an EIO error of the same shape when a write makes no progress, so that each package wraps
 * either into its IO_ERROR with the file and offset. `path` only names the file in that error.
 */
export function writeAll(fs: Pick<FileSystem, 'writeSync'>, fd: number, buf: Uint8Array, position: number, path?: string): void {
  let done = 0;
  while (done < buf.length) {
    const n = fs.writeSync(fd, buf, done, buf.length - done, position + done);
    if (!(n > 0)) {
      throw noProgress(n, buf.length - done, position + done, path);
    }
    done += n;
  }
}

/**
 * `writeAll` through the layer's `write` (the thread pool) when it has one, else through
 * `writeSync`: for the writes that must not block the JS thread (see `FileSystem.write`). `buf`
 * must stay unchanged until the promise settles. Same errors as `writeAll`.
 */
export async function writeAllOffThread(fs: Pick<FileSystem, 'writeSync' | 'write'>, fd: number, buf: Uint8Array, position: number, path?: string): Promise<void> {
  if (fs.write === undefined) {
    writeAll(fs, fd, buf, position, path);
    return;
  }
  let done = 0;
  while (done < buf.length) {
    const n = await fs.write(fd, buf, done, buf.length - done, position + done);
    if (!(n > 0)) {
      throw noProgress(n, buf.length - done, position + done, path);
    }
    done += n;
  }
}

/** Closes `fd` when an error is already on its way out; a second error would only hide the first. */
export function closeQuietly(fs: Pick<FileSystem, 'closeSync'>, fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // the caller is reporting the error that matters
  }
}
