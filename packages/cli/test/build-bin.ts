/**
 * Vitest globalSetup: builds the `strata` executable once, with tsup (the build tool of the
 * published package), from src/bin.ts into node_modules/.cache/strata-test-bin/ (inside the
 * package, so its dependencies resolve as the published bin's do, and outside `files`, so it is
 * never packed). Every test then runs that built file as a subprocess — `node …/bin.js …` —
 * as a user's shell runs the bin.
 *
 * One difference from the published build: the other @strata-db packages are bundled in from
 * their TypeScript sources (the `source` condition), because `npm test` runs on a fresh clone
 * where no package has been built; third-party dependencies stay external, as published. The
 * engine's worker-entry is built next to bin.js, where the bundled engine looks for it.
 */
import { build } from 'tsup';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Third-party dependencies of every workspace package: external, as in the published build. */
function thirdPartyDependencies(): string[] {
  const root = join(import.meta.dirname, '..', '..');
  const names = new Set<string>();
  for (const dir of readdirSync(root)) {
    const pj = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; peerDependencies?: Record<string, string> };
    for (const n of Object.keys({ ...pj.dependencies, ...pj.peerDependencies })) if (!n.startsWith('@strata-db/')) names.add(n);
  }
  return [...names];
}

const OUT_DIR = join(import.meta.dirname, '..', 'node_modules', '.cache', 'strata-test-bin');
export const TEST_BIN = join(OUT_DIR, 'bin.js');

export default async function setup(): Promise<void> {
  await build({
    // The engine's background worker is an entry of its own, next to the bundle that starts it
    // (as dist/worker-entry.js is next to the engine's dist/index.js in the published package).
    entry: { bin: join(import.meta.dirname, '..', 'src', 'bin.ts'), 'worker-entry': join(import.meta.dirname, '..', '..', 'engine', 'src', 'background', 'worker-entry.ts') },
    format: ['esm'],
    outDir: OUT_DIR,
    platform: 'node',
    target: 'node20',
    noExternal: [/^@strata-db\//],
    external: thirdPartyDependencies(),
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
