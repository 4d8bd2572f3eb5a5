/**
 * Data commands: get, put, delete, delete-range, scan. Keys and values are given and printed in
 * a chosen format (formats.ts); --json prints one JSON object per line for scripts.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { CommandFailed, UsageError } from '../errors.js';
import { FORMATS, decodeBytes, encodeArg, parseFormat, showBytes, type Format } from '../formats.js';
import { dbPath, openForReading, openForWriting, withDatabase, type DbOptions } from '../open-database.js';
import type { Terminal } from '../terminal.js';

interface FormatOptions extends DbOptions {
  readonly keyFormat: string;
  readonly valueFormat: string;
  readonly json?: boolean;
}

function formats(o: FormatOptions): { key: Format; value: Format } {
  return { key: parseFormat(o.keyFormat, '--key-format'), value: parseFormat(o.valueFormat, '--value-format') };
}

function withFormats(cmd: Command): Command {
  return cmd
    .option('--key-format <format>', `how keys are written and printed: ${FORMATS.join(' | ')}`, 'utf8')
    .option('--value-format <format>', `how values are written and printed: ${FORMATS.join(' | ')}`, 'utf8');
}

/** The smallest key greater than every key starting with `prefix` (undefined: no such key). */
export function prefixEnd(prefix: Uint8Array): Uint8Array | undefined {
  const end = Uint8Array.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]!++;
      return end.subarray(0, i + 1);
    }
  }
  return undefined;
}

export function registerDataCommands(program: Command, term: Terminal): void {
  withFormats(program.command('get').description('print the value of a key (exit 1 if it is absent)').argument('<key>'))
    .option('--json', 'print {"key", "value"} as one JSON line')
    .action(async (key: string, o: FormatOptions, cmd: Command) => {
      const opts = { ...cmd.optsWithGlobals<FormatOptions>(), ...o };
      const f = formats(opts);
      const k = encodeArg(key, f.key, 'the key');
      const value = await withDatabase(openForReading(dbPath(opts)), (db) => db.get(k));
      if (value === undefined) throw new CommandFailed('KEY_NOT_FOUND', `key ${JSON.stringify(key)} is not in the database`);
      term.out(opts.json === true ? JSON.stringify({ key: decodeBytes(k, f.key), value: decodeBytes(value, f.value) }) : showBytes(value, f.value));
    });

  withFormats(program.command('put').description('set a key to a value').argument('<key>').argument('<value>'))
    .option('--sync', 'fsync the log before returning (survives power loss)')
    .option('--create', 'create the database if it does not exist')
    .action(async (key: string, value: string, o: FormatOptions & { sync?: boolean; create?: boolean }, cmd: Command) => {
      const opts = { ...cmd.optsWithGlobals<FormatOptions>(), ...o };
      const f = formats(opts);
      const k = encodeArg(key, f.key, 'the key');
      const v = encodeArg(value, f.value, 'the value');
      await withDatabase(openForWriting(dbPath(opts), o.create === true), (db) => db.put(k, v, { sync: o.sync === true }));
    });

  withFormats(program.command('delete').description('delete a key').argument('<key>'))
    .option('--sync', 'fsync the log before returning')
    .action(async (key: string, o: FormatOptions & { sync?: boolean }, cmd: Command) => {
      const opts = { ...cmd.optsWithGlobals<FormatOptions>(), ...o };
      const k = encodeArg(key, formats(opts).key, 'the key');
      await withDatabase(openForWriting(dbPath(opts), false), (db) => db.delete(k, { sync: o.sync === true }));
    });

  withFormats(program.command('delete-range').description('delete every key in [start, end)').argument('<start>').argument('<end>'))
    .option('--sync', 'fsync the log before returning')
    .action(async (start: string, end: string, o: FormatOptions & { sync?: boolean }, cmd: Command) => {
      const opts = { ...cmd.optsWithGlobals<FormatOptions>(), ...o };
      const f = formats(opts);
      const s = encodeArg(start, f.key, 'start');
      const e = encodeArg(end, f.key, 'end');
      if (Buffer.compare(s, e) > 0) throw new UsageError('start must not be greater than end');
      await withDatabase(openForWriting(dbPath(opts), false), (db) => db.deleteRange(s, e, { sync: o.sync === true }));
    });

  withFormats(program.command('scan').description('print the entries in key order'))
    .option('--from <key>', 'first key (inclusive)')
    .option('--to <key>', 'end key (exclusive)')
    .option('--prefix <prefix>', 'only keys starting with this (not with --from/--to)')
    .option('--limit <n>', 'at most n entries', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('a whole number ≥ 0 is expected.');
      return n;
    })
    .option('--reverse', 'largest key first')
    .option('--keys-only', 'print keys only')
    .option('--json', 'one JSON object per line: {"key", "value"}')
    .action(async (o: FormatOptions & { from?: string; to?: string; prefix?: string; limit?: number; reverse?: boolean; keysOnly?: boolean }, cmd: Command) => {
      const opts = { ...cmd.optsWithGlobals<FormatOptions>(), ...o };
      const f = formats(opts);
      if (o.prefix !== undefined && (o.from !== undefined || o.to !== undefined)) throw new UsageError('--prefix cannot be combined with --from or --to');
      let gte: Uint8Array | undefined = o.from === undefined ? undefined : encodeArg(o.from, f.key, '--from');
      let lt = o.to === undefined ? undefined : encodeArg(o.to, f.key, '--to');
      if (o.prefix !== undefined) {
        gte = encodeArg(o.prefix, f.key, '--prefix');
        lt = prefixEnd(gte);
      }
      if (gte !== undefined && lt !== undefined && Buffer.compare(gte, lt) > 0) throw new UsageError('--from must not be greater than --to');
      await withDatabase(openForReading(dbPath(opts)), async (db) => {
        const it = db.iterate({
          ...(gte === undefined ? {} : { gte }),
          ...(lt === undefined ? {} : { lt }),
          reverse: o.reverse === true,
          ...(o.limit === undefined ? {} : { limit: o.limit }),
        });
        const lines: string[] = [];
        const flush = (): void => {
          if (lines.length > 0) term.out(lines.join('\n'));
          lines.length = 0;
        };
        for await (const [k, v] of it) {
          if (opts.json === true) {
            lines.push(JSON.stringify(o.keysOnly === true ? { key: decodeBytes(k, f.key) } : { key: decodeBytes(k, f.key), value: decodeBytes(v, f.value) }));
          } else {
            lines.push(o.keysOnly === true ? showBytes(k, f.key) : `${showBytes(k, f.key)}\t${showBytes(v, f.value)}`);
          }
          if (lines.length >= 1024) flush();
        }
        flush();
      });
    });
}
