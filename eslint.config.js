// Import boundaries encode the "may import" table in docs/DESIGN.md. Do not relax these rules:
// a wrong import here is a design change, and belongs in DESIGN.md first.
import js from '@eslint/js';
import globals from 'globals';
import reactHooks from 'eslint-plugin-react-hooks';
import tseslint from 'typescript-eslint';

const OURS = [
  '@studio/protocol',
  '@studio/db',
  '@studio/daemon',
  '@studio/runtime',
  '@studio/agent',
  '@studio/server',
  '@studio/web',
  '@studio/cli',
];

/** Restrict a package to importing only the listed packages of ours, and nothing deep or relative across packages. */
function mayImport(files, allowed) {
  const forbidden = OURS.filter((name) => !allowed.includes(name));
  return {
    files,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...(forbidden.length
              ? [
                  {
                    group: forbidden,
                    message: 'Not allowed by the "may import" table in docs/DESIGN.md.',
                  },
                ]
              : []),
            {
              group: ['@studio/*/*'],
              message: 'Import a package through its front door (src/index.ts).',
            },
            {
              group: ['**/packages/**', '**/apps/**', '../../*/src/**'],
              message: 'Import another package by its name, never by a relative path.',
            },
          ],
        },
      ],
    },
  };
}

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '.studio/**',
      'test-results/**',
      'packages/db/migrations/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  mayImport(['packages/protocol/**'], []),
  mayImport(['packages/db/**'], ['@studio/protocol']),
  mayImport(['packages/daemon/**'], ['@studio/protocol']),
  mayImport(['packages/runtime/**'], ['@studio/protocol']),
  mayImport(['packages/agent/**'], ['@studio/protocol']),
  mayImport(
    ['apps/server/**'],
    ['@studio/protocol', '@studio/db', '@studio/runtime', '@studio/agent'],
  ),
  mayImport(['apps/cli/**'], ['@studio/protocol']),
  mayImport(['apps/web/**'], ['@studio/protocol']),
  {
    files: ['apps/web/src/**'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: reactHooks.configs.recommended.rules,
  },
  {
    // Only config.ts (and main.ts, which hands it process.env) reads the environment.
    files: ['apps/server/src/**', 'packages/*/src/**'],
    ignores: ['**/config.ts', '**/main.ts', '**/*.test.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Read the environment in config.ts only.' },
      ],
    },
  },
);
