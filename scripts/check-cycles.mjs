// The import-cycle check, run by every package's `lint` script (so by `npm run lint` and by
// `nx run-many -t lint`): fails if any file of the package in the current directory (src/,
// test/, bench/) is on an import cycle. Run from the repository root it checks every package.
//
// Type-only imports count. They vanish at run time, but two files that name each other's types
// still cannot be read, tested or moved apart, and the fix is as cheap as for a runtime cycle:
// the shared type moves to the lower file, or the lower file states what it needs as an
// interface of its own (key-index.ts's IndexedNodes, level's IteratorDatabase). Cycles across
// packages cannot form anyway: eslint.config.js's depConstraints keep the package edges one-way.
//
// dpdm (npm) parses the files with TypeScript and resolves `@strata-db/*` through the workspace
// links to the packages' sources; this script adds the allowlist and the exit code.
import { existsSync, readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseCircular, parseDependencyTree } from 'dpdm';

const root = resolve(import.meta.dirname, '..');

// Import edges [importer, imported] (paths from the repository root) left out of the check.
// Each entry is a debt with an owner; remove the entry when the edge goes. Keep it empty.
const ALLOWED_EDGES = [];

const cwd = process.cwd();
const packageDirs = existsSync(join(cwd, 'package.json')) && cwd !== root
  ? [cwd]
  : readdirSync(join(root, 'packages')).map((name) => join(root, 'packages', name));
const patterns = packageDirs.flatMap((dir) =>
  ['src', 'test', 'bench'].filter((sub) => existsSync(join(dir, sub))).map((sub) => `${relative(root, dir)}/${sub}/**/*.ts`),
);

const tree = await parseDependencyTree(patterns, { cwd: root, context: root, transform: false });
const rel = (file) => relative(root, resolve(root, file));
const edgesOf = (cycle) => cycle.map((file, i) => `${rel(file)} -> ${rel(cycle[(i + 1) % cycle.length])}`);

// An entry whose edge closes no cycle any more must go, or the allowlist would silently admit
// the next cycle through it.
const allowed = new Set(ALLOWED_EDGES.map(([from, to]) => `${from} -> ${to}`));
if (allowed.size > 0) {
  const needed = new Set(parseCircular(tree).flatMap(edgesOf));
  const stale = [...allowed].filter((edge) => !needed.has(edge));
  if (stale.length > 0) {
    console.error(`scripts/check-cycles.mjs allows import edges that close no cycle; remove them from ALLOWED_EDGES:\n  ${stale.join('\n  ')}`);
    process.exit(1);
  }
  for (const [file, deps] of Object.entries(tree)) {
    if (deps !== null) tree[file] = deps.filter((dep) => dep.id === null || !allowed.has(`${rel(dep.issuer)} -> ${rel(dep.id)}`));
  }
}

const mine = (file) => packageDirs.some((dir) => !relative(dir, resolve(root, file)).startsWith('..'));
const cycles = parseCircular(tree).filter((cycle) => cycle.some(mine));
if (cycles.length > 0) {
  console.error(`Import cycles (${cycles.length}); each file imports the next, the last imports the first:`);
  for (const cycle of cycles) console.error(`  ${cycle.map(rel).join(' -> ')}`);
  process.exit(1);
}
console.log(`No import cycles among the files of ${packageDirs.map((dir) => relative(root, dir)).join(', ')}.`);
