// Test tooling shipped for users and for every Strata package: an in-memory file layer that
// knows what survives a power cut, a wrapper that injects EIO/ENOSPC at the k-th call and tracks
// descriptors, and the seeded generator that makes every run replayable.
export type { FileSystem, OpenFlags } from '../file-system.js';
export { ERRNO, type ErrnoCode, type FileSystemError, fsError, isFsError } from '../fs-error.js';
export {
  type FaultInjectingOptions,
  FaultInjectingFileSystem,
  type FaultRule,
  type InjectedFault,
} from './fault-injecting-file-system.js';
export {
  type FileDurability,
  MemoryFileSystem,
  type MemoryFileSystemOptions,
  type OpenFileInfo,
  type PowerCutOptions,
} from './memory-file-system.js';
export { describeOp, matches, OP_KINDS, type OpKind, type OpRecord, type OpSelector } from './operations.js';
export { POWER_CUT_MODES, type PowerCutMode } from './power-cut.js';
export { Random, randomSeed } from './random.js';
