/**
 * Seeds for the bounded CI runs: a fixed set (the same every run, so a regression shows up
 * deterministically) plus one fresh random seed that is printed, so that over many CI runs the
 * sweeps see new ground and any failure can be replayed. STRATA_SEED=<n> replaces both with n.
 */
import { randomSeed } from '../../../src/testing/index.js';

export function seeds(suite: string, fixed: readonly number[]): number[] {
  const forced = process.env.STRATA_SEED;
  if (forced !== undefined && forced !== '') return [Number(forced)];
  const fresh = randomSeed();
  console.log(`[${suite}] fixed seeds ${fixed.join(', ')} + random seed ${fresh}  (replay one: STRATA_SEED=<seed> npx vitest run test/reliability)`);
  return [...fixed, fresh];
}
