// The benches' data is the db_bench workload that `strata bench` (the CLI) also writes: one
// definition, in the engine's testing entry point.
export * from '../../src/testing/db-bench-data.js';
