/**
 * A memtable that no longer takes writes: what the engine keeps readable while it flushes.
 * It shares its data with the `Memtable` it came from (nothing is copied), and since that
 * memtable refuses writes after `freeze()`, its contents are stable and deterministic until
 * dropped. Every write method exists only to throw FROZEN, so a caller holding the wrong
 * object fails loudly instead of losing a write.
 */
import { MemtableError } from './errors.js';
import { MemtableReader } from './memtable-reader.js';
import type { BatchOp } from './types.js';

/** Made by `Memtable.freeze()` only: the state it is built over must already be marked frozen. */
export class FrozenMemtable extends MemtableReader {
  put(_key: Uint8Array, _value: Uint8Array, _seq: number): never {
    throw frozen('put');
  }

  delete(_key: Uint8Array, _seq: number): never {
    throw frozen('delete');
  }

  deleteRange(_start: Uint8Array, _end: Uint8Array, _seq: number): never {
    throw frozen('deleteRange');
  }

  apply(_ops: readonly BatchOp[], _firstSeq: number): never {
    throw frozen('apply');
  }

  injectMaxLsn(_lsn: number): never {
    throw frozen('injectMaxLsn');
  }

  /** Already frozen: returns itself. */
  freeze(): this {
    return this;
  }
}

function frozen(op: string): MemtableError {
  return new MemtableError('FROZEN', `${op} on a frozen memtable: write to the new active memtable instead`);
}
