/**
 * `strata lsm`: writes the LSM page (lsm-page.ts) for a database, from its live manifest only —
 * no lock, nothing opened for writing.
 */
import { writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { Command } from 'commander';
import { readManifestHistory } from '@strata-db/engine';
import { lsmData, lsmPage } from '../lsm-page.js';
import { dbPath, type DbOptions } from '../open-database.js';
import type { Terminal } from '../terminal.js';

export function registerLsmCommand(program: Command, term: Terminal): void {
  program
    .command('lsm')
    .description("write one self-contained HTML page drawing the tree and the manifest's history")
    .option('-o, --out <file>', 'where to write the page ("-" for stdout)', 'lsm.html')
    .action((o: { out: string }, cmd: Command) => {
      const dir = dbPath(cmd.optsWithGlobals<DbOptions>());
      const history = readManifestHistory(dir);
      const data = lsmData(history, `${basename(resolve(dir))} — ${basename(history.file)}`, 7);
      const html = lsmPage(data);
      if (o.out === '-') {
        process.stdout.write(html);
        return;
      }
      writeFileSync(o.out, html);
      term.err(`wrote ${o.out} (${data.steps.length} edits, ${Object.keys(data.tables).length} tables in the history)`);
    });
}
