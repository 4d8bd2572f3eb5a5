/**
 * Unknown option names. A misspelt option (`memtabelSize`) silently accepted means running with
 * a default the user did not choose, so every public entry point of the engine that takes an
 * options object rejects names it does not know with INVALID_ARGUMENT, naming the closest valid
 * one (`rejectUnknownOptions`).
 *
 * An adapter whose host passes arbitrary "userland" options along (abstract-level hands any
 * option to hooks and to the private methods) cannot reject every unknown name; it rejects the
 * names that are evidently misspellings of a valid one (`rejectMisspeltOptions`): within
 * ⌊length/4⌋ edits of it (1 for `sync`, 3 for `memtableSize`), or equal to it but for case.
 */
import { StrataError } from './errors.js';

/**
 * Optimal string alignment distance (Levenshtein plus transposition of two neighbours: the
 * common typo `snyc`), compared case-insensitively.
 */
export function editDistance(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array<number>(rows * cols).fill(0);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[(i - 1) * cols + j]! + 1, d[i * cols + j - 1]! + 1, d[(i - 1) * cols + j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[(i - 2) * cols + j - 2]! + 1);
      d[i * cols + j] = v;
    }
  }
  return d[rows * cols - 1]!;
}

/** The valid name nearest to `name` (the first of equals), and its distance. */
export function closestName(name: string, valid: readonly string[]): { readonly name: string; readonly distance: number } | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const candidate of valid) {
    const distance = editDistance(name, candidate);
    if (best === undefined || distance < best.distance) best = { name: candidate, distance };
  }
  return best;
}

/** The message for an unknown option: the name, the closest valid one, and the valid names. */
export function unknownOptionMessage(name: string, valid: readonly string[], where: string): string {
  const closest = closestName(name, valid);
  const hint =
    closest === undefined
      ? `${where} takes no options`
      : closest.distance <= Math.max(2, Math.floor(closest.name.length / 3))
        ? `did you mean "${closest.name}"?`
        : `the closest valid name is "${closest.name}"; valid names: ${valid.join(', ')}`;
  return `unknown option "${name}" in ${where}: ${hint}`;
}

/**
 * Throws INVALID_ARGUMENT for the first own enumerable name of `options` that is not in
 * `valid`. `options` must already be known to be an object (or undefined: nothing to check).
 */
export function rejectUnknownOptions(options: object | undefined, valid: readonly string[], where: string): void {
  if (options === undefined) return;
  // for-in with hasOwn, not Object.keys: the same names without an array per call (every
  // `put(k, v, { sync: true })` checks its options here).
  for (const name in options) {
    if (Object.hasOwn(options, name) && !valid.includes(name)) throw new StrataError('INVALID_ARGUMENT', unknownOptionMessage(name, valid, where));
  }
}

/** The valid name that `name` is a near miss of (see the top of the file), if any. */
export function misspeltName(name: string, valid: readonly string[]): string | undefined {
  if (valid.includes(name)) return undefined;
  for (const candidate of valid) {
    if (editDistance(name, candidate) <= Math.floor(candidate.length / 4)) return candidate;
  }
  return undefined;
}

/**
 * Throws INVALID_ARGUMENT for the first own enumerable name of `options` that is a near miss of
 * a name in `valid`; other unknown names pass (they are the host's or the user's own).
 */
export function rejectMisspeltOptions(options: object | undefined, valid: readonly string[], where: string): void {
  if (options === undefined) return;
  for (const name of Object.keys(options)) {
    const meant = misspeltName(name, valid);
    if (meant !== undefined) throw new StrataError('INVALID_ARGUMENT', `unknown option "${name}" in ${where}: did you mean "${meant}"?`);
  }
}
