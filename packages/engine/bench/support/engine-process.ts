// One engine's run in a process of its own: a bench file bundled by esbuild for plain `node`, and
// a child run of it that hands its figures back as JSON. Used by the scale bench and dbbench.
//
// Why a process per engine: an engine's figures then depend on nothing another engine did first.
// In one process they do: the V8 heap, the young generation's size and the JIT's state another
// engine left behind change the next engine's figures (docs/performance/session-09.md,
// "a fair dbbench"), and RSS and descriptor counts are the sum of every engine's.
//
// Why plain `node` and not node under tsx: tsx's loader thread and its compiler cost ~45 MB of
// RSS and some CPU that a user's process does not have (measured: 1M fill, 207 MB under tsx, 163
// MB plain). From the sources the bundle holds the engine compiled from TypeScript and its worker
// entry beside it (the worker starts from that file, as from the built package); `built` imports
// the engine from dist/ instead (the bench file chooses which at run time, see scale.bench.ts).
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Bundles the bench file `entryUrl` (its `import.meta.url`) into
 * node_modules/.cache/strata-<name>-bench/, with the engine's worker entry beside it unless
 * `built`; third-party packages stay external and load from the repository's node_modules.
 * Returns the bundle's path.
 */
export function bundleBench(entryUrl: string, built: boolean): string {
  const here = fileURLToPath(entryUrl);
  const name = basename(here).replace(/\.bench\.ts$/, '');
  const root = join(dirname(here), '..', '..', '..');
  const out = join(root, 'node_modules', '.cache', `strata-${name}-bench`);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'package.json'), '{ "type": "module" }\n');
  // Every package a workspace package or the root depends on (the peers: classic-level, lmdb).
  const external = new Set<string>();
  for (const file of [join(root, 'package.json'), ...readdirSync(join(root, 'packages')).map((d) => join(root, 'packages', d, 'package.json'))]) {
    if (!existsSync(file)) continue;
    const pj = JSON.parse(readFileSync(file, 'utf8')) as Partial<Record<'dependencies' | 'peerDependencies' | 'devDependencies', Record<string, string>>>;
    for (const n of Object.keys({ ...pj.dependencies, ...pj.peerDependencies, ...pj.devDependencies })) if (built || !n.startsWith('@strata-db/')) external.add(n);
  }
  const esbuild = createRequire(here)('esbuild') as { buildSync(o: Record<string, unknown>): unknown; stop(): Promise<void> };
  esbuild.buildSync({
    entryPoints: { [name]: here, ...(built ? {} : { 'worker-entry': join(dirname(here), '..', 'src', 'background', 'worker-entry.ts') }) },
    outdir: out,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // From the sources: @strata-db/* by their `source` condition; built: from dist/, external.
    conditions: built ? [] : ['source'],
    external: [...external],
    // Bundled CommonJS dependencies may call require.
    banner: { js: "import { createRequire as strataCreateRequire } from 'node:module'; const require = strataCreateRequire(import.meta.url);" },
    logLevel: 'warning',
  });
  void esbuild.stop(); // its service process would otherwise live as long as this one
  return join(out, `${name}.js`);
}

/**
 * Runs the bundle `file` in a fresh `node` (with `nodeFlags`) and the environment plus `env`; its
 * stderr goes to ours, and the last line of its stdout is its result, as JSON.
 */
export function runEngineProcess<T>(file: string, env: Record<string, string>, nodeFlags: readonly string[] = []): T {
  const r = spawnSync(process.execPath, [...nodeFlags, file], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 2 ** 20,
  });
  if (r.status !== 0) throw new Error(`${file} ${JSON.stringify(env)} failed (exit ${r.status ?? r.signal})`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as T;
}

/** A child engine process that stays alive and answers requests (`startEngineProcess`). */
export interface EngineProcess {
  /** Sends `request` (a JSON line on the child's stdin) and resolves with the child's answer (its next stdout line, JSON). */
  ask<T>(request: unknown): Promise<T>;
  /** Ends the child (closes its stdin) and waits for its exit. */
  end(): Promise<void>;
}

/**
 * Starts the bundle `file` in a fresh `node` as `runEngineProcess` does, but keeps it: the parent
 * asks, the child answers, one JSON line each way (`serveEngineRequests` is the child's side). What
 * it is for: several engines' processes alive at once, each asked for one sample in turn, so that
 * the engines' samples of a round are seconds apart instead of a whole process run apart (dbbench's
 * reads; docs/performance/session-15.md says why).
 */
export function startEngineProcess(file: string, env: Record<string, string>, nodeFlags: readonly string[] = []): EngineProcess {
  const child = spawn(process.execPath, [...nodeFlags, file], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    async ask<T>(request: unknown): Promise<T> {
      child.stdin.write(`${JSON.stringify(request)}\n`);
      const line = await lines.next();
      if (line.done === true) throw new Error(`${file} ${JSON.stringify(env)} ended before answering ${JSON.stringify(request)} (exit ${await exited})`);
      return JSON.parse(line.value) as T;
    },
    async end(): Promise<void> {
      child.stdin.end();
      const code = await exited;
      if (code !== 0) throw new Error(`${file} ${JSON.stringify(env)} failed (exit ${code})`);
    },
  };
}

/** The child's side of `startEngineProcess`: answers each request line on stdin with `handle`'s result, until stdin ends. */
export async function serveEngineRequests(handle: (request: unknown) => Promise<unknown>): Promise<void> {
  for await (const line of createInterface({ input: process.stdin })) {
    if (line.trim() === '') continue;
    process.stdout.write(`${JSON.stringify((await handle(JSON.parse(line))) ?? null)}\n`);
  }
}
