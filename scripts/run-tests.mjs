// `npm test`: every package's tests, one package at a time through Nx (each prints its own
// runner summary), then the summed closing line `N passed, N failed` (scripts/test-summary.mjs).
// Between the two, scripts/test-runtimes.mjs runs the suites that carry our promises under Bun,
// Deno and the other supported Node.js versions (STRATA_RUNTIMES=0 leaves that out while you
// work; CI never does).
// Exits non-zero if Nx failed (a crashed runner writes no result file) or any test failed.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
rmSync(join(root, '.test-results'), { recursive: true, force: true });
const nx = spawnSync('npx', ['nx', 'run-many', '-t', 'test', '--outputStyle=static', '--parallel=1', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
});
const runtimes =
  process.env.STRATA_RUNTIMES === '0' ? { status: 0 } : spawnSync(process.execPath, [join(root, 'scripts', 'test-runtimes.mjs')], { cwd: root, stdio: 'inherit' });
const failedRunner = nx.status !== 0 || runtimes.status !== 0;
const summary = spawnSync(process.execPath, [join(root, 'scripts', 'test-summary.mjs'), ...(failedRunner ? ['--runner-failed'] : [])], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(!failedRunner && summary.status === 0 ? 0 : 1);
