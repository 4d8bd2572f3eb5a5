/**
 * @strata-db/cli — the `strata` command. The package's face for programs: run the command line
 * in-process, and the LSM page builder.
 */
export { main } from './main.js';
export { lsmData, lsmPage, liveTablesPerStep, type LsmData } from './lsm-page.js';
