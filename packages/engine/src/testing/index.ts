// The test layers moved to @strata-db/vfs/testing (one in-memory power-cut file system and one
// fault injector for every package); this entry keeps `@strata-db/engine/testing` working.
export * from '@strata-db/vfs/testing';
