/**
 * approxsize: the bytes of table files that hold keys in [from, to), estimated as LevelDB's
 * ApproximateSizes does — whole files inside the range count fully; in a file the range cuts,
 * the offset of the data block where each bound would be found (from the table's index) stands
 * for the bytes before it. The engine has no approximateSize yet (issue 16); this reads the live
 * version's table metadata (db.stats()) and the cut tables' indexes, and nothing else. Memtables
 * are not counted (as LevelDB by default).
 */
import { join } from 'node:path';
import { tableFileName, type LevelStats } from '@strata-db/engine';
import { compareKeys } from '@strata-db/memtable';
import { MAX_SEQ, Table } from '@strata-db/sstable-core';

export interface ApproximateSize {
  readonly bytes: number;
  /** Live tables whose key range meets [from, to). */
  readonly tables: number;
}

export function approximateSize(dir: string, levels: readonly LevelStats[], from: Uint8Array | undefined, to: Uint8Array | undefined): ApproximateSize {
  let bytes = 0;
  let tables = 0;
  for (const level of levels) {
    for (const f of level.fileList) {
      if (to !== undefined && compareKeys(f.smallestKey, to) >= 0) continue;
      if (from !== undefined && compareKeys(f.largestKey, from) < 0) continue;
      tables++;
      const cutBelow = from !== undefined && compareKeys(from, f.smallestKey) > 0;
      const cutAbove = to !== undefined && compareKeys(to, f.largestKey) <= 0;
      if (!cutBelow && !cutAbove) {
        bytes += f.size;
        continue;
      }
      const table = Table.open(join(dir, tableFileName(f.fileNumber)));
      try {
        const offsetOf = (key: Uint8Array): number => {
          const i = table.findBlock(key, MAX_SEQ);
          return i < table.blockCount ? table.blockHandle(i).offset : table.readProperties().dataBytes;
        };
        const start = cutBelow ? offsetOf(from) : 0;
        const end = cutAbove ? offsetOf(to) : table.fileSize;
        bytes += Math.max(0, end - start);
      } finally {
        table.close();
      }
    }
  }
  return { bytes, tables };
}
