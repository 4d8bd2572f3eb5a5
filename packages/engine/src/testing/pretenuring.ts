/**
 * Tests that a batch of objects held across a GC comes from no allocation site V8 could tenure
 * (see entryOf in src/read/db-iterator.ts for why that matters). A test runs a child script
 * (`traceAllocationSites`) under `--trace-pretenuring-statistics`: at each GC V8 prints, for every
 * site whose objects carry allocation mementos, how many it made since the last GC and how many
 * of those are alive: `AllocationSite(0x…): (created, found, ratio) (N, M, R) …`. The child holds
 * its objects in phases (`HeldAcrossGc`), a control first; the test reads the report
 * (`heldSitesAfterControl`). Node only: the flags are V8's.
 *
 * The report is not the main thread's alone: tsx's module hooks run on a loader thread with its
 * own isolate, whose GCs print into the same stdout (each line starts `[pid:isolate]`), at times
 * of their own; and the main isolate's own start-up (tsx, module loading) reports sites of 1,000
 * and more live objects before the control. So the child also runs under `--trace-gc`, whose line
 * for each GC comes after that GC's site lines and names the GCs the child asked for (`gc()`)
 * "testing": the control phase starts at the first of them, and only that isolate's lines from
 * there on are read. (Before, the first site of the control's size anywhere was taken for the
 * control: 3 runs in 30 under load took a start-up site, and then a loader or start-up site of
 * ~1,000 counted as a subject — CI failed once.)
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';

/** How many array literals the control phase holds (`HeldAcrossGc.control`). */
export const CONTROL_OBJECTS = 1500;

/**
 * Runs the TypeScript file `script` with `args` in a node child with `--expose-gc`,
 * `--trace-pretenuring-statistics` and `--trace-gc` (stdout: V8's report; stderr: the child's
 * `kept` line), from `cwd`, where tsx and the `source` condition resolve the packages' sources.
 */
export function traceAllocationSites(script: string, args: readonly string[], cwd: string): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, ['--expose-gc', '--trace-pretenuring-statistics', '--trace-gc', '--conditions=source', '--import', 'tsx', script, ...args], {
    cwd,
    encoding: 'utf8',
    timeout: 120_000,
  });
}

/**
 * The child's side: phases, each between two full GCs and keeping what it made alive across the
 * second, so that V8 reports the site of what it made (if it has one) as all alive. Run
 * `control()` first, before anything else calls `gc()` (its first GC is where the test starts to
 * read): CONTROL_OBJECTS array literals of this file, which the flag must report — proof that it
 * still shows what the test looks for. `report()` prints `kept <counts>` on stderr.
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

/**
 * One site's line: the isolate that printed it (undefined when that is not clear: V8 prints a
 * line's `[pid:isolate] ` prefix and its text in two calls, so two threads' lines can interleave
 * — such a line is counted for every isolate), objects found alive, and found / created.
 */
export interface SiteReport {
  readonly isolate: string | undefined;
  readonly found: number;
  readonly ratio: number;
}

const SITE = /AllocationSite\([^)]*\): \(created, found, ratio\) \((\d+), (\d+), ([\d.]+)\)/;
// --trace-gc's line for a GC the script asked for (`gc()`: reason "testing").
const TESTING_GC = / ms: .* testing;/;
// The isolate of a line that starts with one prefix, right before its text.
const ISOLATE = /^\[\d+:(0x[0-9a-f]+)\] +(?:pretenuring:|[\d.]+ ms:)/;

function isolateOf(line: string): string | undefined {
  return ISOLATE.exec(line)?.[1];
}

/** Every site line of `stdout`, in the order V8 printed them (GC order, all isolates). */
export function allocationSiteReports(stdout: string): SiteReport[] {
  return siteReportsOf(stdout.split('\n'));
}

function siteReportsOf(lines: readonly string[]): SiteReport[] {
  return lines.flatMap((line) => {
    const m = SITE.exec(line);
    return m === null ? [] : [{ isolate: isolateOf(line), found: Number(m[2]), ratio: Number(m[3]) }];
  });
}

/**
 * The sites ≥ 85% alive (V8's bar for tenuring) with `found` in [min, max], reported after the
 * control's — the first such site with `found` in the control's range — by the isolate that ran
 * the phases (the one that prints the GCs its script asked for), from the first of those GCs on;
 * or undefined when the control is not seen there (the flag no longer reports what the test looks
 * for, or the child was not run with `--trace-gc`). What a child did before its control phase
 * (loading, writes) and what other isolates (tsx's loader thread) printed are not looked at.
 */
export function heldSitesAfterControl(stdout: string, control: readonly [number, number], subject: readonly [number, number]): SiteReport[] | undefined {
  const held = (x: SiteReport, [min, max]: readonly [number, number]): boolean => x.ratio >= 0.85 && x.found >= min && x.found <= max;
  const lines = stdout.split('\n');
  const start = lines.findIndex((line) => TESTING_GC.test(line));
  if (start < 0) return undefined;
  // The first of those lines whose prefix is clear names the isolate (a line can interleave).
  const isolate = lines.slice(start).filter((line) => TESTING_GC.test(line)).map(isolateOf).find((x) => x !== undefined);
  if (isolate === undefined) return undefined;
  const sites = siteReportsOf(lines.slice(start + 1)).filter((x) => x.isolate === isolate || x.isolate === undefined);
  const at = sites.findIndex((x) => held(x, control));
  return at < 0 ? undefined : sites.slice(at + 1).filter((x) => held(x, subject));
}
