/**
 * The reference the reliability suites compare a recovered database with: a plain sorted map
 * replaying the same operations. Keys and values are ASCII strings, so the model's string order
 * is the engine's bytewise order.
 *
 * `History` keeps a fingerprint of the model after every prefix of the issued operations. A
 * database that survived a crash must equal one of them — the state after some prefix — and the
 * prefix must be at least as long as what was acknowledged durable: a state with a hole (a later
 * operation present, an earlier one missing) matches no prefix at all.
 */

export type ModelOp =
  | { readonly type: 'put'; readonly key: string; readonly value: string }
  | { readonly type: 'del'; readonly key: string }
  | { readonly type: 'deleteRange'; readonly start: string; readonly end: string };

/** What the workload issues: one operation or an atomic batch of them, durable or not. */
export interface Step {
  readonly ops: readonly ModelOp[];
  readonly batch: boolean;
  readonly sync: boolean;
}

export class Model {
  private readonly map = new Map<string, string>();

  apply(op: ModelOp): void {
    switch (op.type) {
      case 'put':
        this.map.set(op.key, op.value);
        break;
      case 'del':
        this.map.delete(op.key);
        break;
      case 'deleteRange':
        for (const k of [...this.map.keys()]) if (k >= op.start && k < op.end) this.map.delete(k);
        break;
    }
  }

  applyStep(step: Step): void {
    for (const op of step.ops) this.apply(op);
  }

  get(key: string): string | undefined {
    return this.map.get(key);
  }

  entries(): [string, string][] {
    return [...this.map].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }

  clone(): Model {
    const m = new Model();
    for (const [k, v] of this.map) m.map.set(k, v);
    return m;
  }
}

/** A canonical text of a sorted state; two states are equal iff their fingerprints are. */
export function fingerprint(entries: readonly (readonly [string, string])[]): string {
  return entries.map(([k, v]) => `${k}\u0000${v}`).join('\u0001');
}

export class History {
  /** fingerprints[i] = the state after the first i steps. */
  private readonly fingerprints: string[];

  constructor(steps: readonly Step[]) {
    const m = new Model();
    this.fingerprints = [fingerprint(m.entries())];
    for (const s of steps) {
      m.applyStep(s);
      this.fingerprints.push(fingerprint(m.entries()));
    }
  }

  get length(): number {
    return this.fingerprints.length - 1;
  }

  /**
   * The longest prefix length p in [atLeast, atMost] whose state equals `entries`, or -1.
   * (States can repeat — a put then its delete — so any matching prefix in range will do.)
   */
  matchPrefix(entries: readonly (readonly [string, string])[], atLeast: number, atMost = this.length): number {
    const f = fingerprint(entries);
    for (let p = Math.min(atMost, this.length); p >= atLeast; p--) if (this.fingerprints[p] === f) return p;
    return -1;
  }

  /** For failure messages: the prefix lengths (of any range) whose state equals `entries`. */
  allMatches(entries: readonly (readonly [string, string])[]): number[] {
    const f = fingerprint(entries);
    const out: number[] = [];
    this.fingerprints.forEach((g, i) => {
      if (g === f) out.push(i);
    });
    return out;
  }

  stateAfter(p: number): string {
    return this.fingerprints[p]!;
  }
}

/** A short human diff between a recovered state and the state after prefix p, for failure messages. */
export function describeDifference(got: readonly (readonly [string, string])[], steps: readonly Step[], p: number): string {
  const m = new Model();
  for (const s of steps.slice(0, p)) m.applyStep(s);
  const want = new Map(m.entries());
  const have = new Map(got);
  const lines: string[] = [];
  for (const [k, v] of want) if (have.get(k) !== v) lines.push(`  ${k}: want ${short(v)}, got ${short(have.get(k))}`);
  for (const [k, v] of have) if (!want.has(k)) lines.push(`  ${k}: want absent, got ${short(v)}`);
  return lines.slice(0, 12).join('\n') + (lines.length > 12 ? `\n  … ${lines.length - 12} more` : '');
}

function short(v: string | undefined): string {
  if (v === undefined) return 'absent';
  return v.length > 24 ? `${v.slice(0, 24)}…(${v.length})` : v;
}
