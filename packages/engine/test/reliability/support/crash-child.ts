/**
 * The process the crash loop kills: opens the database, says "open", then runs several writers
 * at once (group commit), each issuing puts, deletes, range deletes and batches, sync and not,
 * forever — until SIGKILL. Each writer owns its keys, so the parent can check every key without
 * knowing how the writers interleaved. What it says goes to the protocol file (crash-protocol.ts).
 * Usage: crash-child.ts <dir> <seed> <round> <protocol file>
 */
import { Database, type StrataEvent } from '../../../src/index.js';
import { Random } from '../../../src/testing/index.js';
import { openKillReport } from '../../support/kill-report.js';
import { CRASH_DB_OPTIONS, type ChildOp } from './crash-protocol.js';

const [dir, seedText, roundText, protocolFile] = process.argv.slice(2);
if (dir === undefined || seedText === undefined || roundText === undefined || protocolFile === undefined) {
  process.stderr.write('usage: crash-child.ts <dir> <seed> <round> <protocol file>\n');
  process.exit(2);
}
const round = Number(roundText);
const WRITERS = 4;
/** One line of the protocol (crash-protocol.ts), in the report file before this returns. */
const say = openKillReport(protocolFile);

// Odd rounds (every round with STRATA_CRASH_SIDE_BY_SIDE=1): up to three compactions side by side (picker.ts).
// Rounds 4, 8, … (every round with STRATA_CRASH_MERGE=1): flushes merge two frozen memtables into
// one table (minMemtablesToMerge 2); the parent's checking open reopens without it.
// Every engine event as an "event" line (crash-protocol.ts): what the background was doing when
// the kill came, for a failure's report.
const onEvent = (e: StrataEvent): void => {
  say(`event ${JSON.stringify(e, (_k, v: unknown) => (v instanceof Error ? `${v.name}: ${v.message}` : v))}`);
};
const db = await Database.open(dir, {
  ...CRASH_DB_OPTIONS,
  ...(Number(roundText) % 2 === 1 || process.env.STRATA_CRASH_SIDE_BY_SIDE === '1' ? { maxBackgroundCompactions: 3 } : {}),
  ...(Number(roundText) % 4 === 0 || process.env.STRATA_CRASH_MERGE === '1' ? { minMemtablesToMerge: 2 } : {}),
  onEvent,
});
say(`open ${db.stats().lastSequence}`);
process.stdout.write('open\n'); // the parent's cue to start the kill timer

async function run(op: ChildOp): Promise<void> {
  say(`issue ${JSON.stringify(op)}`);
  const opts = { sync: op.sync };
  switch (op.t) {
    case 'put':
      await db.put(op.k, op.v, opts);
      break;
    case 'del':
      await db.delete(op.k, opts);
      break;
    case 'range':
      await db.deleteRange(op.s, op.e, opts);
      break;
    case 'batch': {
      const b = db.batch();
      for (const [k, v] of op.puts) b.put(k, v);
      for (const k of op.dels) b.delete(k);
      await b.write(opts);
      break;
    }
  }
  // visibleSequence, not lastSequence: the latter also counts sequence numbers handed to
  // writes still in flight (group commit), which a kill may legitimately lose.
  say(`ack ${op.id} ${db.stats().visibleSequence}`);
}

async function writer(w: number, rng: Random): Promise<never> {
  const live: string[] = []; // this writer's acknowledged, not deleted, plain keys
  const groups: string[] = []; // prefixes of acknowledged groups, for range deletes
  const prefix = `r${String(round).padStart(3, '0')}w${w}`;
  for (let n = 0; ; n++) {
    const id = `${round}.${w}.${n}`;
    const sync = rng.chance(0.3);
    const value = `${id}:` + 'v'.repeat(rng.int(0, 200));
    const r = rng.next();
    if (r < 0.5 || live.length === 0) {
      const k = `${prefix}k${n}`;
      await run({ id, w, t: 'put', k, v: value, sync });
      live.push(k);
    } else if (r < 0.65) {
      const k = live.splice(rng.int(0, live.length - 1), 1)[0]!;
      await run({ id, w, t: 'del', k, sync });
    } else if (r < 0.85) {
      // A group: written as one batch now, deleted later by one range delete.
      const g = `${prefix}g${n}/`;
      const puts = ['a', 'b', 'c', 'd'].map((s) => [`${g}${s}`, `${value}${s}`] as const);
      const dels = live.length > 0 && rng.chance(0.5) ? live.splice(rng.int(0, live.length - 1), 1) : [];
      await run({ id, w, t: 'batch', puts, dels, sync });
      groups.push(g);
    } else if (groups.length > 0) {
      const g = groups.splice(rng.int(0, groups.length - 1), 1)[0]!;
      // '/' + 1 is '0': [g, g-with-'0') covers exactly the keys under the group prefix.
      await run({ id, w, t: 'range', s: g, e: `${g.slice(0, -1)}0`, sync });
    } else {
      const k = `${prefix}k${n}`;
      await run({ id, w, t: 'put', k, v: value, sync });
      live.push(k);
    }
  }
}

const rng = new Random(Number(seedText) + round * 7919);
await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w, rng.fork())));
