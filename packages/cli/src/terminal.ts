/**
 * Where a command writes: its results to stdout (plain text for people, JSON lines with
 * --json), problems to stderr. Colours come from picocolors, which turns itself off for NO_COLOR,
 * a non-terminal stdout and TERM=dumb; the tables are cli-table3's.
 */
import Table from 'cli-table3';
import pc from 'picocolors';

export interface Terminal {
  /** One line (or block) of results on stdout. */
  out(text: string): void;
  /** A line for the user on stderr. */
  err(text: string): void;
  readonly isTTY: boolean;
  readonly colors: ReturnType<typeof pc.createColors>;
}

export function processTerminal(): Terminal {
  const isTTY = process.stdout.isTTY;
  return {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
    isTTY,
    colors: pc.createColors(pc.isColorSupported && isTTY),
  };
}

/** A table for people; `align` per column ('r' for numbers). */
export function renderTable(head: readonly string[], rows: readonly (readonly (string | number)[])[], align: string = ''): string {
  const t = new Table({
    head: [...head],
    style: { head: [], border: [] },
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
    colAligns: head.map((_, i) => (align[i] === 'r' ? 'right' : 'left')),
  });
  for (const r of rows) t.push(r.map(String));
  return t.toString();
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]!}`;
}

/** JSON text for one --json line: byte arrays (Buffers included) become hex strings. */
export function jsonLine(value: unknown): string {
  return JSON.stringify(value, function (this: Record<string, unknown>, k: string, v: unknown) {
    // `this[k]` is the value before Buffer's toJSON turned it into { type, data }.
    const original = this[k];
    return original instanceof Uint8Array ? Buffer.from(original.buffer, original.byteOffset, original.length).toString('hex') : v;
  });
}
