// The file layer every Strata package runs on: the interface, the node:fs implementation, and
// the one write-everything loop. Test layers (in-memory power-cut, fault injection) are in
// `@strata-db/vfs/testing`.
export { crossesThreads, NODE_FS_MARK, type FileSystem, type OpenFlags } from './file-system.js';
export { nodeFileSystem } from './node-file-system.js';
export { closeQuietly, writeAll, writeAllOffThread } from './write-all.js';
export { readAt } from './read-at.js';
export { ERRNO, type ErrnoCode, type FileSystemError, fsError, isFsError } from './fs-error.js';
