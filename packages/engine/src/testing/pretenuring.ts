/**
 * Tests that a batch of objects held across a GC comes from no allocation site V8 could tenure
 * (see entryOf in src/read/db-iterator.ts for why that matters). A test runs a child script
 * (`traceAllocationSites`) under `--trace-pretenuring-statistics`: at each GC V8 prints, for every
 * site whose objects carry allocation mementos, how many it made since the last GC and how many
 * of those are alive: `AllocationSite(0x…): (created, found, ratio) (N, M, R) …`. The child holds
 * its objects in phases (`HeldAcrossGc`), a control first; the test reads the report
 * (`heldSitesAfterControl`). Node only: the flags are V8's.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';

/** How many array literals the control phase holds (`HeldAcrossGc.control`). */
export const CONTROL_OBJECTS = 1500;

/**
 * Runs the TypeScript file `script` with `args` in a node child with `--expose-gc` and
 * `--trace-pretenuring-statistics` (stdout: V8's report; stderr: the child's `kept` line), from
 * `cwd`, where tsx and the `source` condition resolve the packages' sources.
 */
export function traceAllocationSites(script: string, args: readonly string[], cwd: string): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, ['--expose-gc', '--trace-pretenuring-statistics', '--conditions=source', '--import', 'tsx', script, ...args], {
    cwd,
    encoding: 'utf8',
    timeout: 120_000,
  });
}

/**
 * The child's side: phases, each between two full GCs and keeping what it made alive across the
 * second, so that V8 reports the site of what it made (if it has one) as all alive. Run
 * `control()` first: CONTROL_OBJECTS array literals of this file, which the flag must report —
 * proof that it still shows what the test looks for. `report()` prints `kept <counts>` on stderr.
 */
export class HeldAcrossGc {
  private readonly kept: number[] = [];
  private readonly gc: () => void;

  constructor() {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (gc === undefined) throw new Error('run with --expose-gc');
    this.gc = gc;
  }

  async phase(make: () => readonly unknown[] | Promise<readonly unknown[]>): Promise<void> {
    this.gc();
    const held = await make();
    this.gc();
    this.kept.push(held.length);
  }

  control(): Promise<void> {
    return this.phase(() => {
      const a = new Uint8Array(1);
      const literals: unknown[] = [];
      for (let i = 0; i < CONTROL_OBJECTS; i++) literals.push([a, a]);
      return literals;
    });
  }

  report(): void {
    process.stderr.write(`kept ${this.kept.join(' ')}\n`);
  }
}

/** One site's line: objects found alive, and found / created. */
export interface SiteReport {
  readonly found: number;
  readonly ratio: number;
}

/** Every site line of `stdout`, in the order V8 printed them (GC order). */
export function allocationSiteReports(stdout: string): SiteReport[] {
  return [...stdout.matchAll(/AllocationSite\([^)]*\): \(created, found, ratio\) \((\d+), (\d+), ([\d.]+)\)/g)].map((m) => ({ found: Number(m[2]), ratio: Number(m[3]) }));
}

/**
 * The sites ≥ 85% alive (V8's bar for tenuring) with `found` in [min, max], reported after the
 * first such site with `found` in the control's range — or undefined when the control is not
 * seen (the flag no longer reports what the test looks for). What a child did before its control
 * phase (loading, writes) is not looked at.
 */
export function heldSitesAfterControl(stdout: string, control: readonly [number, number], subject: readonly [number, number]): SiteReport[] | undefined {
  const held = (x: SiteReport, [min, max]: readonly [number, number]): boolean => x.ratio >= 0.85 && x.found >= min && x.found <= max;
  const sites = allocationSiteReports(stdout);
  const at = sites.findIndex((x) => held(x, control));
  return at < 0 ? undefined : sites.slice(at + 1).filter((x) => held(x, subject));
}
