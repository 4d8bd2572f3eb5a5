/**
 * `npm start`: a first look at Strata. Opens (or creates) a database in ./data, writes and reads
 * a few thousand keys, deletes a range, reads through a snapshot, and prints what it did and the
 * database's stats. Run it twice: the second run finds the first run's data after recovery.
 */
import { Database } from '@strata-db/engine';

const text = (b: Uint8Array | undefined): string => (b === undefined ? '(not found)' : Buffer.from(b).toString('utf8'));
const key = (i: number): string => `user:${String(i).padStart(5, '0')}`;

const db = await Database.open('./data', { memtableSize: 64 * 1024 });
const before = db.stats().lastSequence;
console.log(`opened ./data — ${db.recovery.created ? 'created a new database' : `recovered, last sequence ${before}`}`);
if (db.recovery.walBatchesReplayed > 0) console.log(`  replayed ${db.recovery.walBatchesReplayed} batches from the write-ahead log`);

// 1. Write a few thousand keys: in batches (one WAL record each, atomic) and one at a time.
const N = 5000;
let t = performance.now();
for (let start = 0; start < N; start += 500) {
  const batch = db.batch();
  for (let i = start; i < start + 500; i++) batch.put(key(i), JSON.stringify({ id: i, name: `user ${i}`, run: before }));
  await batch.write();
}
await db.put('greeting', 'hello, strata', { sync: true }); // fdatasync before resolving
console.log(`wrote ${N + 1} keys in ${(performance.now() - t).toFixed(1)} ms`);

// 2. Read them back.
t = performance.now();
let found = 0;
for (let i = 0; i < N; i++) if ((await db.get(key(i))) !== undefined) found++;
console.log(`read ${N} keys in ${(performance.now() - t).toFixed(1)} ms: ${found} found`);
console.log(`  get('greeting') → ${text(await db.get('greeting'))}`);

// 3. Take a snapshot, then delete a range: the snapshot still sees the old state.
const snap = db.snapshot();
await db.deleteRange(key(1000), key(2000));
console.log(`deleted range [${key(1000)}, ${key(2000)})`);
console.log(`  get('${key(1500)}')                 → ${text(await db.get(key(1500)))}`);
console.log(`  get('${key(1500)}', { snapshot })   → ${text(await db.get(key(1500), { snapshot: snap }))}`);

// 4. Scan: a bounded range, forward and reverse.
const first: string[] = [];
for await (const [k] of db.iterate({ gte: key(995), lt: key(2003) })) first.push(Buffer.from(k).toString());
console.log(`scan [${key(995)}, ${key(2003)}) → ${first.length} keys: ${first.join(', ')}`);
const last: string[] = [];
for await (const [k] of db.iterate({ lt: 'user:~', reverse: true, limit: 3 })) last.push(Buffer.from(k).toString());
console.log(`last 3 keys (reverse) → ${last.join(', ')}`);
let count = 0;
for await (const _ of db.iterate({ snapshot: snap })) count++;
console.log(`keys at the snapshot: ${count}; now: ${N + 1 - 1000}`);
snap.release();

// 5. Flush the memtable to a table, then look at the stats.
await db.flush();
const s = db.stats();
console.log('\nstats():');
console.log(`  last sequence ${s.lastSequence}, memtable ${s.memtables.activeBytes} bytes, ${s.memtables.frozen} frozen`);
for (const l of s.levels) if (l.files > 0) console.log(`  L${l.level}: ${l.files} files, ${l.bytes} bytes, keys ${text(l.smallestKey)} … ${text(l.largestKey)}`);
const c = s.counters;
console.log(`  flushes ${c.flushes}, compactions ${c.compactions}, write stalls ${c.stalls}, slowdowns ${c.slowdowns}`);
console.log(`  bytes: user ${c.userBytesWritten}, WAL ${c.walBytesWritten}, flush ${c.flushBytesWritten}, compaction ${c.compactionBytesWritten}`);
console.log(`  write amplification ${s.writeAmplification.toFixed(2)}`);
await db.close();
console.log('\nclosed. Run `npm start` again: the data is still there.');
