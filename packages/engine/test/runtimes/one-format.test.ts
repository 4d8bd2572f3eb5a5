/**
 * One on-disk format across runtimes: Node.js, Bun and Deno take turns writing to the same
 * database (durable puts, a batch with a range delete, a flush, a compaction, a write left in
 * the WAL) and after every turn each of the three reads it back; all must see the same entries,
 * the ones the model says, and the same last sequence number.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers.js';
import { typescriptArgs } from '../support/typescript-child.js';
import { assertInstalled, type InstalledRuntime, RUNTIMES } from './runtimes.js';

const fixture = join(import.meta.dirname, 'fixtures', 'durable-writes.ts');
const packageRoot = join(import.meta.dirname, '..', '..');
const WRITES = 30;

function run(r: InstalledRuntime, args: string[]): string {
  assertInstalled(r);
  const res = spawnSync(r.binary, typescriptArgs(r.runtime, fixture, args), { cwd: packageRoot, encoding: 'utf8', timeout: 60_000 });
  if (res.status !== 0) throw new Error(`${r.runtime} ${args.join(' ')} exited ${res.status ?? res.signal}: ${res.stderr}`);
  return res.stdout;
}

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = tempDir('strata-runtimes-'));
});
afterEach(() => {
  cleanup();
});

describe('one on-disk format across Node.js, Bun and Deno', () => {
  it('every runtime reads exactly what every other runtime wrote', () => {
    let lastSequence = 0;
    const model = new Map<string, string>();
    for (const writer of RUNTIMES) {
      run(writer, [dir, 'write', String(WRITES)]);
      // The writer's turn, applied to the model: keys numbered from the last sequence before it.
      const name = writer.runtime;
      for (let i = 0; i < WRITES; i++) model.set(`${name}:${String(lastSequence + i).padStart(6, '0')}`, `value ${i} written by ${name}`);
      model.set(`${name}:batch`, 'b');
      for (const k of [...model.keys()]) if (k >= `${name}:000000` && k < `${name}:000002`) model.delete(k);
      model.set(`${name}:after-compaction`, 'in the WAL only');
      const want = [...model.entries()].sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      const outputs = RUNTIMES.map((reader) => ({ reader: reader.runtime, out: run(reader, [dir, 'read']) }));
      for (const { reader, out } of outputs) {
        const lines = out.trim().split('\n');
        const end = lines.pop()!;
        expect(end, `${reader} after ${name}'s turn`).toBe(`end ${lastSequence + WRITES + 3}`);
        expect(lines.map((l) => JSON.parse(l) as [string, string]), `${reader} after ${name}'s turn`).toEqual(want);
      }
      lastSequence += WRITES + 3; // the puts, the batch's put and range delete, the last put
    }
  }, 180_000);
});
