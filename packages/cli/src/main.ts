/**
 * The `strata` command: commander builds the commands, their usage and --help; this file only
 * wires them and turns every failure into one line on stderr with a code (stack with --verbose)
 * and an exit code: 0 success, 1 a failure (the engine's error, damage found, a missing key),
 * 2 bad arguments (the command's usage follows the message).
 */
import { Command, CommanderError } from 'commander';
import { registerBackupCommands } from './commands/backup.js';
import { registerBenchCommand } from './commands/bench.js';
import { registerDataCommands } from './commands/data.js';
import { registerFileCommands } from './commands/files.js';
import { registerLsmCommand } from './commands/lsm.js';
import { registerMaintenanceCommands } from './commands/maintenance.js';
import { registerShapeCommands } from './commands/shape.js';
import { UsageError, describeError } from './errors.js';
import { processTerminal, type Terminal } from './terminal.js';

export const VERSION = '0.0.0';

export function buildProgram(term: Terminal): Command {
  const program = new Command('strata')
    .description('Inspect and maintain Strata databases: data, stats, maintenance, file dumps, the LSM page, benchmarks')
    .version(VERSION)
    .option('--db <dir>', 'the database directory (default: $STRATA_DB)')
    .option('--verbose', 'print the stack of an error')
    .exitOverride()
    .showHelpAfterError()
    .configureOutput({
      writeOut: (s) => {
        process.stdout.write(s);
      },
      writeErr: (s) => {
        process.stderr.write(s);
      },
      outputError: (s, write) => {
        write(`strata: USAGE: ${s.replace(/^error: /, '')}`);
      },
    });
  program.addHelpText(
    'after',
    `
Commands that only look (get, scan, stats, approxsize, verify, dump-*, lsm) open the database
read-only: no lock, nothing written, also while another process has it open for writing.
Exit codes: 0 ok, 1 failed (the error's code is printed), 2 bad arguments.`,
  );
  registerDataCommands(program, term);
  registerShapeCommands(program, term);
  registerMaintenanceCommands(program, term);
  registerBackupCommands(program, term);
  registerFileCommands(program, term);
  registerLsmCommand(program, term);
  registerBenchCommand(program, term);
  return program;
}

/** Runs the command line `argv` (without node and the script); resolves with the exit code. */
export async function main(argv: readonly string[], term: Terminal = processTerminal()): Promise<number> {
  const program = buildProgram(term);
  let running: Command = program;
  program.hook('preAction', (_root, action) => {
    running = action;
  });
  try {
    if (argv.length === 0) {
      program.outputHelp();
      return 2;
    }
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2; // commander printed help or the error
    const { line, exitCode } = describeError(err);
    term.err(line);
    if (argv.includes('--verbose') && err instanceof Error && err.stack !== undefined) term.err(err.stack);
    if (err instanceof UsageError) term.err(running.helpInformation());
    return exitCode;
  }
}
