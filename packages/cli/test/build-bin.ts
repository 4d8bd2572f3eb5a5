/**
 * Vitest globalSetup: builds the `strata` executable once, with tsup (the build tool of the
 * published package), from src/bin.ts into node_modules/.cache/strata-test-bin/ (inside the
 * package, so its dependencies resolve as the published bin's do, and outside `files`, so it is
 * never packed). Every test then runs that built file as a subprocess — `node …/bin.js …` —
 * as a user's shell runs the bin.
 *
 * One difference from the published build: the other @strata-db packages are bundled in from
 * their TypeScript sources (the `source` condition), because `npm test` runs on a fresh clone
 * where no package has been built; third-party dependencies stay external, as published.
 */
import { build } from 'tsup';
import { join } from 'node:path';

const OUT_DIR = join(import.meta.dirname, '..', 'node_modules', '.cache', 'strata-test-bin');
export const TEST_BIN = join(OUT_DIR, 'bin.js');

export default async function setup(): Promise<void> {
  await build({
    entry: { bin: join(import.meta.dirname, '..', 'src', 'bin.ts') },
    format: ['esm'],
    outDir: OUT_DIR,
    platform: 'node',
    target: 'node20',
    noExternal: [/^@strata-db\//],
    esbuildOptions(o) {
      o.conditions = ['source'];
    },
    dts: false,
    sourcemap: true,
    clean: true,
    silent: true,
    tsconfig: join(import.meta.dirname, '..', 'tsconfig.build.json'),
  });
}
