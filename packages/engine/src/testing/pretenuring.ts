/**
 * Reading V8's `--trace-pretenuring-statistics` output, for tests that hold a batch of objects
 * across a GC in a child process and check that they come from no allocation site V8 could
 * tenure (see entryOf in src/read/db-iterator.ts for why that matters). At each GC V8 prints, for
 * every site whose objects carry allocation mementos, how many it made since the last GC and how
 * many of those are alive: `AllocationSite(0x…): (created, found, ratio) (N, M, R) …`.
 */

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
