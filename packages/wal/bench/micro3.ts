import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WalWriter } from '../src/index.ts';
const root = fs.mkdtempSync(join(tmpdir(), 'walprof-'));
const size = 100;
for (let rep = 0; rep < 5; rep++) {
const wal = await WalWriter.create(root, { uuid: randomUUID(), segment: rep + 1, firstLsn: 1 });
const ops = [{ type: 'put' as const, key: Buffer.from('bench-key-000000'), value: Buffer.alloc(size - 32, 1) }];
let lsn = 1;
const N = 100000;
let t = process.hrtime.bigint();
for (let i = 0; i < N; i++) await wal.append(ops, lsn++);
let s = Number(process.hrtime.bigint() - t) / 1e9;
const walus = s / N * 1e6;
await wal.close();
const fd = fs.openSync(join(root, 'raw' + rep), 'w'); const buf = Buffer.alloc(size + 7); let pos = 0;
t = process.hrtime.bigint();
for (let i = 0; i < N; i++) { fs.writeSync(fd, buf, 0, buf.length, pos); pos += buf.length; }
s = Number(process.hrtime.bigint() - t) / 1e9;
const rawus = s / N * 1e6;
pos = 0;
t = process.hrtime.bigint();
for (let i = 0; i < N; i++) { fs.writeSync(fd, buf, 0, buf.length, pos); pos += buf.length; await new Promise<void>((r) => queueMicrotask(r)); }
s = Number(process.hrtime.bigint() - t) / 1e9;
console.log('wal', walus.toFixed(2), 'raw', rawus.toFixed(2), 'raw+microtask', (s / N * 1e6).toFixed(2));
fs.closeSync(fd);
}
fs.rmSync(root, { recursive: true });
