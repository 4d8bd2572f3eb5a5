// `npm run bench`: runs every benchmark of every package, one at a time, each in its own
// process (so one's heap and page cache warm-up do not leak into the next). A benchmark is a
// file `packages/<pkg>/bench/<name>.bench.ts` that prints a Markdown table of its figures,
// with ratios against the peers it measured in the same run (never absolute targets alone:
// the machines are noisy). `npm run bench -- wal` runs only the benchmarks whose path
// contains "wal".
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const filter = process.argv[2];
const files: string[] = [];
for (const pkg of readdirSync(join(root, 'packages')).sort()) {
  const dir = join(root, 'packages', pkg, 'bench');
  if (!existsSync(dir)) continue;
  for (const f of readdirSync(dir).sort()) if (f.endsWith('.bench.ts')) files.push(join(dir, f));
}
let failed = 0;
for (const file of files) {
  // Matched against the path inside the repository: a checkout whose own path contains the
  // word (say /work/scale) must not select every benchmark.
  if (filter !== undefined && !file.slice(root.length).includes(filter)) continue;
  console.log(`\n## ${file.slice(root.length + 1)}\n`);
  const r = spawnSync(process.execPath, ['--expose-gc', '--conditions=source', '--import', 'tsx', file], { stdio: 'inherit', cwd: root });
  if (r.status !== 0) failed++;
}
process.exit(failed === 0 ? 0 : 1);
