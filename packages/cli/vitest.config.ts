import { packageTests } from '../../vitest.base.js';

// Every test runs the `strata` command as a subprocess; the built binary is made once in globalSetup.
export default packageTests('cli', { globalSetup: ['test/build-bin.ts'], testTimeout: 120_000, hookTimeout: 180_000 });
