// db_bench's fillrandom, as the benches that measure a filled Strata database write it: the keys
// of `permutation(n, 42)` (16 B keys, 100 B values, support/db-bench-data.ts) in batches of 1000.
// Not `shuffled`: its table (4 bytes a key) would sit in the memory of the process measured.

import type { Database } from '../../src/index.js';
import { key, permutation, value } from './db-bench-data.js';

export const FILL_BATCH = 1000;

/** Writes `n` keys in fillrandom's order; the caller settles compaction if it needs to. */
export async function fillRandom(db: Database, n: number): Promise<void> {
  const order = permutation(n, 42);
  for (let i = 0; i < n; i += FILL_BATCH) {
    const b = db.batch();
    for (let j = i; j < Math.min(n, i + FILL_BATCH); j++) {
      const x = order.at(j);
      b.put(key(x), value(x));
    }
    await b.write();
  }
}
