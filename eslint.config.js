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
  '@studio/backup',
  '@studio/server',
  '@studio/web',
  '@studio/cli',
];

/**
 * Restrict a package to importing only the listed packages of ours, and nothing deep or relative
 * across packages; `more` adds patterns (layers inside a package), `ignores` leaves files out.
 */
function mayImport(files, allowed, { more = [], ignores = [] } = {}) {
  const forbidden = OURS.filter((name) => !allowed.includes(name));
  return {
    files,
    ignores,
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
            ...more,
          ],
        },
      ],
    },
  };
}

const SERVER_PACKAGES = [
  '@studio/protocol',
  '@studio/db',
  '@studio/runtime',
  '@studio/agent',
  '@studio/backup',
];
/** The server's own modules, held to its layers. */
const SERVER_LAYERED = ['apps/server/src/**'];
/** What may import anything of the server: the composition root, routes themselves, tests. */
const SERVER_ROOT = [
  'apps/server/src/app.ts',
  'apps/server/src/main.ts',
  'apps/server/src/testing.ts',
  'apps/server/src/routes/**',
  'apps/server/src/**/*.test.ts',
];

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '.studio/**',
      'test-results/**',
      'packages/db/migrations/**',
      // Written by the Convex CLI, kept in git as Convex advises.
      'images/convex/starter/convex/_generated/**',
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
  mayImport(['packages/backup/**'], []),
  // Inside the server, layers too (STYLE.md): routes may use services, services may use
  // stores, and nothing but the composition root (app.ts, main.ts) imports routes.
  mayImport(['apps/server/**'], SERVER_PACKAGES, { ignores: SERVER_LAYERED }),
  mayImport(SERVER_ROOT, SERVER_PACKAGES),
  mayImport(SERVER_LAYERED, SERVER_PACKAGES, {
    ignores: SERVER_ROOT,
    more: [
      {
        group: ['./routes/*', '../routes/*', '**/routes/*'],
        message: 'Services never import routes: routes receive services (docs/STYLE.md).',
      },
    ],
  }),
  mayImport(['apps/cli/**'], ['@studio/protocol', '@studio/backup']),
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
