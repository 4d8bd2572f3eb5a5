import { defineConfig, type Options } from 'tsup';

/**
 * How every package is built for npm: ESM + CJS + declarations for both, from the package's
 * public entry points, against tsconfig.build.json (which resolves other @strata-db packages to
 * their built declarations, not their sources).
 */
export function packageBuild(entry: Options['entry'] = ['src/index.ts']): ReturnType<typeof defineConfig> {
  return defineConfig({
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    tsconfig: 'tsconfig.build.json',
  });
}
