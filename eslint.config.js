// Flat ESLint config for the whole monorepo.
//  - TypeScript: typescript-eslint's strict, type-checked rules.
//  - Architecture: @nx/enforce-module-boundaries keeps the package edges one-way
//    (see the depConstraints below and the root README), and @nx/dependency-checks
//    makes every import of a package declared in that package's package.json.
import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';
import jsoncParser from 'jsonc-eslint-parser';

// Who may depend on whom. `errors` is the bottom leaf (every package may use it); `vfs`, the file
// layer, sits on it and under everything that touches a file; `memtable` uses no other package
// but `errors`; nothing imports a package above it.
const depConstraints = [
  { sourceTag: 'scope:errors', onlyDependOnLibsWithTags: [] },
  { sourceTag: 'scope:vfs', onlyDependOnLibsWithTags: ['scope:errors'] },
  { sourceTag: 'scope:wal', onlyDependOnLibsWithTags: ['scope:errors', 'scope:vfs'] },
  { sourceTag: 'scope:memtable', onlyDependOnLibsWithTags: ['scope:errors'] },
  { sourceTag: 'scope:sstable-core', onlyDependOnLibsWithTags: ['scope:errors', 'scope:vfs', 'scope:memtable'] },
  { sourceTag: 'scope:sstable-builder', onlyDependOnLibsWithTags: ['scope:errors', 'scope:vfs', 'scope:sstable-core', 'scope:memtable'] },
  { sourceTag: 'scope:sstable-iterators', onlyDependOnLibsWithTags: ['scope:errors', 'scope:vfs', 'scope:sstable-core', 'scope:memtable'] },
  {
    sourceTag: 'scope:engine',
    onlyDependOnLibsWithTags: [
      'scope:errors',
      'scope:vfs',
      'scope:wal',
      'scope:memtable',
      'scope:sstable-core',
      'scope:sstable-builder',
      'scope:sstable-iterators',
    ],
  },
  { sourceTag: 'scope:level', onlyDependOnLibsWithTags: ['scope:errors', 'scope:engine'] },
  // The command-line tool sits on top: it may use every package below it (not level).
  {
    sourceTag: 'scope:cli',
    onlyDependOnLibsWithTags: ['scope:errors', 'scope:vfs', 'scope:engine', 'scope:wal', 'scope:memtable', 'scope:sstable-core', 'scope:sstable-builder', 'scope:sstable-iterators'],
  },
];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/.nx/**', '**/coverage/**', '**/*.config.ts', '**/*.mjs', '**/*.cjs', '**/*.js'] },
  {
    files: ['packages/*/src/**/*.ts', 'packages/*/test/**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.strictTypeChecked],
    plugins: { '@nx': nx },
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@nx/enforce-module-boundaries': ['error', { enforceBuildableLibDependency: false, allow: [], depConstraints }],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unnecessary-condition': ['error', { allowConstantLoopConditions: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Tests poke at internals and build odd inputs on purpose.
    files: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.ts', 'packages/*/src/**/test-support/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-floating-promises': 'off',
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    files: ['packages/*/package.json'],
    languageOptions: { parser: jsoncParser },
    plugins: { '@nx': nx },
    rules: {
      '@nx/dependency-checks': [
        'error',
        {
          buildTargets: ['build'],
          checkMissingDependencies: true,
          checkObsoleteDependencies: true,
          checkVersionMismatches: false,
          ignoredFiles: ['{projectRoot}/**/*.test.ts', '{projectRoot}/test/**/*', '{projectRoot}/*.config.ts', '{projectRoot}/src/**/test-support/**'],
          ignoredDependencies: ['tsup', 'vitest', 'typescript', 'fast-check', 'tape', 'publint', 'playwright-core'],
        },
      ],
    },
  },
);
