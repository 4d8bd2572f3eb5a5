/** Test helpers: run the built `strata` binary (see build-bin.ts) and make databases with the engine. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Database } from '@strata-db/engine';
import { TEST_BIN } from './build-bin.js';

export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `strata args…` (stdout is a pipe, not a terminal); resolves when it exits. */
export function strata(args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TEST_BIN, ...args], { env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

export function jsonLines(text: string): unknown[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as unknown);
}

export function tempDir(prefix = 'strata-cli-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    cleanup: () => {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A database with several levels, range tombstones and unflushed writes, made by the engine:
 * k0000…k1999 (value v<i> padded), k0100…k0199 deleted by a range, k0005 deleted, and the last
 * writes (w0…w9) left in the WAL only. Returns the engine's own view of it for comparison.
 */
export async function makeDatabase(dir: string): Promise<void> {
  const db = await Database.open(dir, { memtableSize: 16 * 1024, targetFileSize: 8 * 1024, maxBytesForLevelBase: 32 * 1024, l0CompactionTrigger: 2 });
  for (let i = 0; i < 2000; i++) {
    const b = db.batch();
    b.put(`k${String(i).padStart(4, '0')}`, `v${i}`.padEnd(40, '.'));
    await b.write();
  }
  await db.deleteRange('k0100', 'k0200');
  await db.delete('k0005');
  await db.flush();
  for (let i = 0; i < 10; i++) await db.put(`w${i}`, `x${i}`);
  await db.close();
}
