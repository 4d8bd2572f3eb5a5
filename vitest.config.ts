import { defineConfig } from 'vitest/config';

// One vitest project per package; each package's own vitest.config.ts says how it runs.
// `npm test` runs them one package at a time through Nx (so each prints its own summary);
// `npx vitest` at the root runs them all in one process, handy while developing.
export default defineConfig({
  test: { projects: ['packages/*'] },
});
