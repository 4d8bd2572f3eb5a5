import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Database } from '../src/index.js';
import { dbBench } from '../src/testing/index.js';
const { key, value } = dbBench;
const dir = mkdtempSync(join(tmpdir(), 'mass-'));
const t0 = performance.now();
const db = await Database.open(dir, { onEvent: (e) => { if (e.type === 'compaction-begin') console.log(((performance.now()-t0)/1000).toFixed(1), 'begin', e.reason, JSON.stringify(e.inputs.map(i=>[i.level,i.fileNumbers.length])), '->', e.outputLevel, e.inputBytes); } });
const N = Number(process.env.N ?? 500000);
const disk = () => { let n = 0; const parts: string[] = []; for (const f of readdirSync(dir)) { const s = statSync(join(dir, f)).size; n += s; if (s > 1e6) parts.push(`${f}:${(s/1e6).toFixed(1)}`); } return `${(n/1e6).toFixed(1)}MB ${parts.join(' ')}`; };
for (const kind of ['put', 'del']) {
  for (let i = 0; i < N; i += 1000) { const b = db.batch(); for (let j = i; j < i + 1000; j++) kind === 'put' ? b.put(key(j), value(j)) : b.delete(key(j)); await b.write(); }
  console.log(((performance.now()-t0)/1000).toFixed(1), kind, 'done', disk());
}
for (let i = 0; i < 50000; i += 1000) { const b = db.batch(); for (let j = i; j < i + 1000; j++) b.put(key(N + j), value(j)); await b.write(); }
console.log(((performance.now()-t0)/1000).toFixed(1), 'new done', disk());
for (let s = 0; s < 12; s++) { await new Promise((r) => setTimeout(r, 1000)); const st = db.stats(); console.log(((performance.now()-t0)/1000).toFixed(1), disk(), JSON.stringify(st.levels.map((l) => [l.files, Math.round(l.bytes/1e5)/10])), 'mem', st.memtables.activeEntries, st.compaction?.running); }
await db.close();
