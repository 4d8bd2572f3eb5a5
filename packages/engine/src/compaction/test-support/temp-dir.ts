import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh temporary directory; removed by the returned cleanup. */
export function tempDir(prefix = 'strata-compaction-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => { rmSync(dir, { recursive: true, force: true }); } };
}

export const dec = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : Buffer.from(b).toString('utf8'));

/** Resolves once no compaction is running and none is due (or after `maxMs`). */
export async function compactionsSettled(db: { stats(): { compaction: { running: boolean; scores: readonly { score: number }[] } | undefined } }, maxMs = 10_000): Promise<void> {
  const until = Date.now() + maxMs;
  while (Date.now() < until) {
    const c = db.stats().compaction;
    if (c === undefined || (!c.running && c.scores.every((s) => s.score < 1))) return;
    await new Promise((r) => setTimeout(r, 2));
  }
}
