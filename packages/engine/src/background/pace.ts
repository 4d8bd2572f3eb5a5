/**
 * How a background job shares its thread. On the main thread (in-thread executor) it yields to
 * the event loop every few milliseconds (a Slicer); in a worker thread there is nothing to
 * share the thread with, so it never yields.
 */
import { Slicer } from '../flush/slicer.js';

export interface Pace {
  /** A promise to await when the job should let other work run now; undefined otherwise. */
  maybeYield(): Promise<void> | undefined;
  /** The work is done (closes the current stretch). */
  end(): void;
  /** Longest stretch of work without a yield, ms. */
  readonly maxSliceMs: number;
}

export function slicedPace(sliceMs = 4): Pace {
  return new Slicer(sliceMs);
}

/** For a worker thread: never yields. */
export const unbrokenPace: Pace = {
  maybeYield: () => undefined,
  end: () => undefined,
  maxSliceMs: 0,
};
