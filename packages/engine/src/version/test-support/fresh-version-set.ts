/** A new VersionSet on an in-memory file system, and a way to open its directory again (the version tests' fixture). */
import { MemoryFileSystem } from '@strata-db/vfs/testing';
import { VersionSet } from '../version-set.js';

export const DIR = '/db';

export async function freshVersionSet(): Promise<{ fs: MemoryFileSystem; open: () => VersionSet; versions: VersionSet }> {
  const fs = new MemoryFileSystem({ syncDelay: () => Promise.resolve() });
  fs.mkdirSync(DIR, { recursive: true });
  const open = (): VersionSet => new VersionSet({ fs, dir: DIR, numLevels: 4, maxManifestFileSize: 1 << 20 });
  const versions = open();
  await versions.create('db');
  return { fs, open, versions };
}
