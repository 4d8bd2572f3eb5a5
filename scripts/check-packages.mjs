// Checks what npm users would get: packs every package (`npm pack`, so only the `files` that
// ship), installs the tarballs into a scratch project outside the workspace, then
//   - loads each package with `import` (ESM) and with `require` (CJS) and checks the exports are there;
//   - type-checks an ESM (.mts) and a CJS (.cts) consumer with `moduleResolution: node16`,
//     so the `types` of both branches of every exports map resolve.
// Run after `npm run build`: `npm run check:packages`. publint (`npx publint` in a package)
// lints the same package.json fields statically.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const scratch = mkdtempSync(join(tmpdir(), 'strata-pack-'));
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'] }).toString();

try {
  const pkgs = readdirSync(join(root, 'packages')).map((dir) => {
    const pj = JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8'));
    const tarball = run('npm', ['pack', '--silent', '--pack-destination', scratch], join(root, 'packages', dir)).trim().split('\n').pop();
    return { name: pj.name, tarball: join(scratch, tarball), entries: Object.keys(pj.exports).filter((e) => e !== './package.json') };
  });
  writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...pkgs.map((p) => p.tarball), join(root, 'node_modules', 'typescript'), join(root, 'node_modules', '@types', 'node')], scratch);

  const specifiers = pkgs.flatMap((p) => p.entries.map((e) => (e === '.' ? p.name : `${p.name}/${e.slice(2)}`)));
  let esm = '';
  let cjs = '';
  specifiers.forEach((s, i) => {
    esm += `import * as m${i} from '${s}';\nif (Object.keys(m${i}).length === 0) throw new Error('${s}: no exports (ESM)');\n`;
    cjs += `const m${i} = require('${s}');\nif (Object.keys(m${i}).length === 0) throw new Error('${s}: no exports (CJS)');\n`;
  });
  writeFileSync(join(scratch, 'esm.mts'), esm + 'export {};\n');
  writeFileSync(join(scratch, 'cjs.cts'), cjs);
  writeFileSync(join(scratch, 'esm.mjs'), esm);
  writeFileSync(join(scratch, 'cjs.cjs'), cjs);
  run(process.execPath, ['esm.mjs'], scratch);
  run(process.execPath, ['cjs.cjs'], scratch);
  // The engine's background worker thread starts from the installed files (dist/worker-entry.*),
  // with import and with require: a flush and a compaction run in it.
  const workerCheck = (load) => `${load}
(async () => {
  const dir = require('node:fs').mkdtempSync(require('node:path').join(require('node:os').tmpdir(), 'strata-pack-db-'));
  const db = await Database.open(dir, { backgroundThreads: 1, memtableSize: 64 * 1024 });
  const b = db.batch();
  for (let i = 0; i < 3000; i++) b.put('k' + i, 'x'.repeat(60));
  await b.write();
  await db.flush();
  await db.compact();
  const s = db.stats();
  if (s.background.workers !== 1 || s.backgroundError !== undefined || s.counters.flushes === 0) throw new Error('background worker did not run: ' + JSON.stringify(s.background) + ' ' + s.backgroundError);
  await db.close();
  require('node:fs').rmSync(dir, { recursive: true, force: true });
})().catch((e) => { console.error(e); process.exit(1); });
`;
  writeFileSync(join(scratch, 'worker-esm.mjs'), workerCheck("import { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);\nimport { Database } from '@strata-db/engine';"));
  writeFileSync(join(scratch, 'worker-cjs.cjs'), workerCheck("const { Database } = require('@strata-db/engine');"));
  run(process.execPath, ['worker-esm.mjs'], scratch);
  run(process.execPath, ['worker-cjs.cjs'], scratch);
  writeFileSync(
    join(scratch, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { module: 'node16', moduleResolution: 'node16', strict: true, noEmit: true, types: ['node'], skipLibCheck: false }, files: ['esm.mts', 'cjs.cts'] }),
  );
  run(join(scratch, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json'], scratch);
  console.log(`ok: ${specifiers.length} entry points load with import and require, and type-check as ESM and CJS:\n  ${specifiers.join('\n  ')}`);
  console.log('ok: the engine starts its background worker thread from the installed package (import and require)');
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
