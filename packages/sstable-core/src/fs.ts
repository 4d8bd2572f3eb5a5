/**
 * The part of Strata's one file layer (`FileSystem` of @strata-db/vfs, docs/contracts.md "File
 * layer") that tables use. Reads are synchronous positioned reads (the engine's getSync needs
 * them); only fsync is asynchronous. Any full `FileSystem` serves.
 */
import type { FileSystem } from '@strata-db/vfs';

export type TableFileSystem = Pick<FileSystem, 'openSync' | 'closeSync' | 'readSync' | 'writeSync' | 'fstatSync' | 'fsync' | 'unlinkSync'>;
