/**
 * The file layer every package takes as `fs` (docs/contracts.md). The testing layers implement
 * the engine's own declaration, so a change to it breaks them at compile time.
 */
export type { FileSystem, OpenFlags } from '../file-system.js';
