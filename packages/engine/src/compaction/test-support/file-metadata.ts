import type { FileMetadata } from '../../version/file-metadata.js';

let nextNumber = 1;

/** Table metadata for picker and cut tests: a fresh file number each, the rest plain. */
export function fileMeta(smallest: string, largest: string, fileSize = 1000, more: Partial<FileMetadata> = {}): FileMetadata {
  const fileNumber = nextNumber++;
  return {
    fileNumber,
    fileSize,
    smallestKey: Buffer.from(smallest),
    largestKey: Buffer.from(largest),
    minSeq: 1,
    maxSeq: fileNumber,
    entryCount: 1,
    deleteCount: 0,
    tombstoneCount: 0,
    markedForCompaction: false,
    ...more,
  };
}
