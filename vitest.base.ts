import { defineProject, type UserWorkspaceConfig } from 'vitest/config';

/**
 * Every package's vitest project: tests beside the code (src/**\/*.test.ts) or in test/, and
 * other @strata-db packages imported from their TypeScript sources through the `source` export
 * condition, so no build is needed before testing.
 */
export function packageTests(name: string, test: UserWorkspaceConfig['test'] = {}): UserWorkspaceConfig {
  return defineProject({
    resolve: { conditions: ['source'] },
    ssr: { resolve: { conditions: ['source'] } },
    test: { name, include: ['src/**/*.test.ts', 'test/**/*.test.ts'], testTimeout: 60_000, ...test },
  });
}
