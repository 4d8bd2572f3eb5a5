/**
 * The JavaScript runtimes whose binaries the repository installs (the root package.json's
 * devDependencies `bun` and `deno`; Node.js is the one running the tests), for the tests that
 * start a child under each runtime.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Runtime } from '../support/typescript-child.js';

const repoRoot = join(import.meta.dirname, '..', '..', '..', '..');

export interface InstalledRuntime {
  readonly runtime: Runtime;
  readonly binary: string;
}

function binary(runtime: Runtime): string {
  if (runtime === 'node') return process.execPath;
  return join(repoRoot, 'node_modules', '.bin', runtime);
}

/** Node.js, Bun and Deno. A runtime missing from node_modules is a failed test, never a skip. */
export const RUNTIMES: readonly InstalledRuntime[] = (['node', 'bun', 'deno'] as const).map((runtime) => ({ runtime, binary: binary(runtime) }));

export function assertInstalled(r: InstalledRuntime): void {
  if (!existsSync(r.binary)) throw new Error(`${r.runtime} is not installed at ${r.binary}: run \`npm ci\` at the repository root`);
}
