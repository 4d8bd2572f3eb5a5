/**
 * Cooperative slicing of long synchronous work (flush, compaction): call `maybeYield()` often;
 * it returns a promise that resolves on the next turn of the event loop (setImmediate, after
 * pending I/O callbacks) once `sliceMs` have passed since the last yield, and `undefined`
 * otherwise, so the caller only awaits when it has to.
 */
export class Slicer {
  private last = performance.now();
  /** Longest stretch without a yield, in ms. */
  maxSliceMs = 0;

  constructor(private readonly sliceMs = 4) {}

  maybeYield(): Promise<void> | undefined {
    const now = performance.now();
    const d = now - this.last;
    if (d < this.sliceMs) return undefined;
    if (d > this.maxSliceMs) this.maxSliceMs = d;
    return new Promise<void>((resolve) => {
      setImmediate(() => {
        this.last = performance.now();
        resolve();
      });
    });
  }

  /** Closes the current stretch (call when the work is done). */
  end(): void {
    const d = performance.now() - this.last;
    if (d > this.maxSliceMs) this.maxSliceMs = d;
  }
}
