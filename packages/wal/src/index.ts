export { BatchRecord, type BatchOp, type BatchSink } from './batch.js';
export type { WalFileSystem } from './file-system.js';
export { nodeFileSystem } from '@strata-db/vfs';
export { RecoveryMode, replay, type DroppedRange, type ReplayOptions, type ReplayResult, type ReplayedBatch } from './replay.js';
export { readSegmentFile, readSegmentFrom, type SegmentContents, type SegmentItem } from './segment-reader.js';
export { deleteSegmentsBefore, listSegments, parseSegmentFileName, segmentFileName } from './segment-directory.js';
export { WalWriter, openWal, type AppendOptions, type WalWriterOptions } from './writer.js';
