/**
 * How to start a TypeScript file of this repository (imports resolved to the packages' sources
 * through the `source` export condition) as a child process of the runtime that runs the tests:
 * Node.js, Bun or Deno. The crash tests kill such children, so the child must be the same
 * runtime as the parent — a crash test run under Bun proves what Bun does with our files.
 *
 *   node  --conditions=source --import tsx file.ts …   (tsx strips the types)
 *   bun   --conditions=source file.ts …                 (Bun runs TypeScript itself)
 *   deno  run -A --sloppy-imports --conditions=source file.ts …
 *         (Deno runs TypeScript itself; --sloppy-imports maps our `./x.js` specifiers to `./x.ts`)
 */
export type Runtime = 'node' | 'bun' | 'deno';

export function currentRuntime(): Runtime {
  if ('Deno' in globalThis) return 'deno';
  if (typeof (process.versions as { bun?: string }).bun === 'string') return 'bun';
  return 'node';
}

/** The arguments that run `script` (with `args`) under `runtime`, for `spawn(binary, …)`. */
export function typescriptArgs(runtime: Runtime, script: string, args: readonly string[] = []): string[] {
  switch (runtime) {
    case 'node':
      return ['--conditions=source', '--import', 'tsx', script, ...args];
    case 'bun':
      return ['--conditions=source', script, ...args];
    case 'deno':
      return ['run', '-A', '--sloppy-imports', '--conditions=source', script, ...args];
  }
}

/** `spawn(process.execPath, typescriptChildArgs(script, args))`: a child of the runtime running now. */
export function typescriptChildArgs(script: string, args: readonly string[] = []): string[] {
  return typescriptArgs(currentRuntime(), script, args);
}
