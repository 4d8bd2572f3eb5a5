/**
 * Starting a background worker from wherever the engine runs:
 *
 *  - the built package: `worker-entry.js` (ESM) or `worker-entry.cjs` (CJS) sits in `dist/`
 *    next to the module that starts it (tsup builds it as an entry of its own); the worker is
 *    started from that file directly;
 *  - the TypeScript sources (tests, benches: `--conditions=source` with tsx): `worker-entry.ts`
 *    and everything it imports (the other @strata-db packages by their `source` condition) are
 *    bundled once per process with esbuild (tsx's own compiler, a devDependency) into one
 *    CommonJS script held in memory, and each worker evaluates that script. Node 20 does not
 *    pass the parent's `--import` loader hooks to workers, and registering tsx in each worker
 *    made every start take 2–3 s (every module through the loader thread); the bundle starts
 *    in ~0.3 s, which matters to test suites that open many databases.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import type { WorkerStart } from './protocol.js';

/**
 * This module's file: `__filename` in the CJS build, `import.meta.url` in ESM and the sources.
 * sstable-core's compression.ts asks the same of its own file (to `require` its codecs), in its
 * own words: `import.meta.url` names the module it is written in, so a shared helper would name
 * the helper's file; the two loaders meet only in `workerScript`'s `require` (see there).
 */
function thisFile(): string {
  return typeof __filename === 'string' ? __filename : fileURLToPath(import.meta.url);
}

export type WorkerSource = { readonly kind: 'built'; readonly file: string } | { readonly kind: 'source'; readonly file: string };

/** Where the worker's code is, for this copy of the engine. */
export function workerSource(): WorkerSource {
  const here = thisFile();
  const dir = dirname(here);
  if (here.endsWith('.ts')) return { kind: 'source', file: join(dir, 'worker-entry.ts') };
  const ext = here.endsWith('.cjs') ? '.cjs' : '.js';
  // dist/ holds the entry; a module bundled into a sub-entry (dist/testing/…) looks one level up.
  for (const candidate of [join(dir, `worker-entry${ext}`), join(dir, '..', `worker-entry${ext}`)]) {
    if (existsSync(candidate)) return { kind: 'built', file: candidate };
  }
  throw new Error(`the engine's background worker file worker-entry${ext} is missing next to ${here}: a damaged installation?`);
}

interface EsbuildLike {
  buildSync(options: Record<string, unknown>): { outputFiles: { text: string }[] };
  build(options: Record<string, unknown>): Promise<{ outputFiles: { text: string }[] }>;
  stop(): Promise<void>;
}

/**
 * The third-party dependencies of every workspace package next to the engine's: they stay
 * external to the bundle, as in the published build, and load from node_modules — some cannot
 * be bundled (the lz4 codec reads its .wasm file next to its own module).
 */
function thirdPartyDependencies(entry: string): string[] {
  const packages = join(dirname(entry), '..', '..', '..');
  const names = new Set<string>();
  for (const dir of readdirSync(packages)) {
    const file = join(packages, dir, 'package.json');
    if (!existsSync(file)) continue;
    const pj = JSON.parse(readFileSync(file, 'utf8')) as { dependencies?: Record<string, string>; peerDependencies?: Record<string, string> };
    for (const n of Object.keys({ ...pj.dependencies, ...pj.peerDependencies })) if (!n.startsWith('@strata-db/')) names.add(n);
  }
  return [...names];
}

/** The bundled worker script of the sources, by entry file (built once per process). */
const bundles = new Map<string, string>();
/** Bundles being built off the event loop (`prepareWorker`), by entry file. */
const building = new Map<string, Promise<void>>();

function esbuildFor(entry: string): EsbuildLike {
  // createRequire, not import.meta.resolve: the latter is missing under some test runners.
  return createRequire(entry)('esbuild') as EsbuildLike;
}

function bundleOptions(entry: string): Record<string, unknown> {
  return {
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    conditions: ['source'],
    external: thirdPartyDependencies(entry),
    write: false,
    logLevel: 'silent',
  };
}

/**
 * An eval'd worker's own `require` resolves from the working directory: the externals are
 * required from the entry's location instead, as they would be from a file there. It is also
 * the `require` that sstable-core's compression.ts falls back to for its codecs (lz4, snappy)
 * in the bundle, which has neither an absolute `__filename` nor `import.meta.url`.
 */
function workerScript(entry: string, bundled: string): string {
  return `(function (require) {\n${bundled}\n})(require('node:module').createRequire(${JSON.stringify(entry)}));`;
}

function sourceBundle(entry: string): string {
  let code = bundles.get(entry);
  if (code === undefined) {
    const esbuild = esbuildFor(entry);
    code = workerScript(entry, esbuild.buildSync(bundleOptions(entry)).outputFiles[0]!.text);
    bundles.set(entry, code);
    // buildSync runs esbuild in a helper thread and child process that it keeps for later calls:
    // end them, or they would hold descriptors and a thread for the life of the process.
    void esbuild.stop();
  }
  return code;
}

/**
 * Gets the worker ready to start without blocking the event loop: for the sources, bundles them
 * now with esbuild's asynchronous build (its work runs in esbuild's own process), so that the
 * first flush does not stop the thread for the 0.1–0.3 s of `buildSync` (measured: the longest
 * event-loop gap of a 5M fill, 110 ms, was that). Nothing to do for the built package. A failure
 * here is left to the first start, which reports it where it always did.
 */
export function prepareWorker(source: WorkerSource): Promise<void> {
  if (source.kind !== 'source' || bundles.has(source.file)) return Promise.resolve();
  const entry = source.file;
  let p = building.get(entry);
  if (p === undefined) {
    const esbuild = esbuildFor(entry);
    p = esbuild
      .build(bundleOptions(entry))
      .then((out) => {
        if (!bundles.has(entry)) bundles.set(entry, workerScript(entry, out.outputFiles[0]!.text));
      })
      .catch(() => undefined)
      .finally(() => {
        building.delete(entry);
        void esbuild.stop();
      });
    building.set(entry, p);
  }
  return p;
}

/** Whether starting a worker from `source` builds nothing first (built package, or sources bundled). */
export function workerReady(source: WorkerSource): boolean {
  return source.kind === 'built' || bundles.has(source.file);
}

/** `resourceLimits`: the worker's own V8 heap bounds (worker-executor.ts says which and why). */
export function startWorker(source: WorkerSource = workerSource(), resourceLimits: ResourceLimits = {}, lowPriority = false): Worker {
  const workerData: WorkerStart = { lowPriority };
  if (source.kind === 'built') return new Worker(source.file, { resourceLimits, workerData });
  // No inherited options: the bundle needs none (conditions were applied when it was built), a
  // parent's --input-type=module would make the CommonJS script ESM, and an explicit list with
  // a V8 option (--expose-gc) is refused (ERR_WORKER_INVALID_EXEC_ARGV).
  return new Worker(sourceBundle(source.file), { eval: true, execArgv: [], resourceLimits, workerData });
}
