// Adds up the test results of every runner in the repo and prints the closing line CI reads:
//   `N passed, N failed`
// Each package's `npm test` leaves its results in .test-results/: vitest's JSON reporter
// (`<pkg>.vitest.json`) and, for suites driven by other runners such as tape,
// a `<pkg>.<runner>.json` with `{ "passed": N, "failed": N }`.
// Exits non-zero when anything failed or when no result file was found.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = join(import.meta.dirname, '..', '.test-results');
const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')).sort() : [];
let passed = 0;
let failed = 0;
for (const file of files) {
  const json = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  const p = json.numPassedTests ?? json.passed ?? 0;
  // A test file that failed to load (or failed outside any test) counts as one failure even
  // though no test in it ran.
  const brokenFiles = (json.testResults ?? []).filter(
    (file) => file.status === 'failed' && !file.assertionResults.some((t) => t.status === 'failed'),
  ).length;
  const f = (json.numFailedTests ?? json.failed ?? 0) + brokenFiles;
  console.log(`  ${file.padEnd(36)} ${String(p).padStart(6)} passed ${String(f).padStart(4)} failed`);
  passed += p;
  failed += f;
}
// A runner that crashed (Nx exited non-zero) may have left no result file: count it as a failure.
if (process.argv.includes('--runner-failed') && failed === 0) {
  console.log('a test runner failed without reporting a failed test (see its output above)');
  failed += 1;
}
if (files.length === 0) {
  console.log('no test results found in .test-results/');
  failed += 1;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
