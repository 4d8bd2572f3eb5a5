// The test layers moved to @strata-db/vfs/testing (one in-memory power-cut file system and one
// fault injector for every package); this entry keeps `@strata-db/engine/testing` working.
export * from '@strata-db/vfs/testing';
/** db_bench's data (16-byte decimal keys, 100-byte values, seeded permutations), one definition for every benchmark. */
export * as dbBench from './db-bench-data.js';
export { allocationSiteReports, CONTROL_OBJECTS, HeldAcrossGc, heldSitesAfterControl, traceAllocationSites, type SiteReport } from './pretenuring.js';
