// Bundles the server and our workspace packages into dist/main.js; npm dependencies stay external.
import { cp, rm } from 'node:fs/promises';
import { build } from 'esbuild';

const root = new URL('.', import.meta.url);
await rm(new URL('dist/', root), { recursive: true, force: true });
await build({
  entryPoints: [new URL('src/main.ts', root).pathname],
  outfile: new URL('dist/main.js', root).pathname,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20.19',
  sourcemap: true,
  logLevel: 'warning',
  plugins: [
    {
      name: 'external-npm-packages',
      setup(b) {
        b.onResolve({ filter: /^[^./]/ }, (args) =>
          args.path.startsWith('@studio/') ? undefined : { path: args.path, external: true },
        );
      },
    },
  ],
});
// The database package finds its migrations beside the bundle.
await cp(new URL('../../packages/db/migrations/', root), new URL('dist/migrations/', root), {
  recursive: true,
});
