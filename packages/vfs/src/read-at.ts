/**
 * Reading a byte range. `read(2)` may return fewer bytes than asked before the end of the file
 * (a signal, a layer that splits large reads), so a caller that wants the range loops; a read
 * of 0 bytes is the end of the file — here that means the file is shorter (a reader following
 * a file another process appends to reads what is there), not an error.
 */
import type { FileSystem } from './file-system.js';

/**
 * The bytes of [position, position + length), fewer when the file ends first: in a new buffer,
 * or at the start of `into` (at least `length` long; the result is a view of it). Throws what
 * the layer throws.
 */
export function readAt(fs: Pick<FileSystem, 'readSync'>, fd: number, position: number, length: number, into?: Uint8Array): Uint8Array {
  if (into !== undefined && into.length < length) throw new RangeError(`readAt: ${length} bytes do not fit a ${into.length}-byte buffer`);
  const buf = into ?? new Uint8Array(length);
  let got = 0;
  while (got < length) {
    const n = fs.readSync(fd, buf, got, length - got, position + got);
    if (!(n > 0)) break;
    got += n;
  }
  return buf.subarray(0, got);
}
