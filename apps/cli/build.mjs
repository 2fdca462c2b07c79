// Bundles the `studio` command into dist/: run through tsx, every command paid 1.1–1.8 s of
// compiling TypeScript before doing anything; the bundle starts in about a tenth of that.
// bin/studio.mjs runs the bundle when its entry is newer than the sources, else the sources
// through tsx.
//
// dist/studio.mjs is the entry (commander and the command table); each command's code is a chunk
// beside it that main.ts imports only when that command runs, so `studio whoami` neither compiles
// nor runs the protocol's zod schemas (most of the bundle) or ws.
//
// A chunk is named by a hash of its content, so an entry only ever loads the chunks of its own
// build. Every file is written whole under a temporary name and renamed into place, the entry
// last, so a command starting during a build runs either the old build or the new one, never a
// mix or a half-written file. The entry's mtime is then set back to when this build started: a
// source saved while the build ran is newer than the entry, and bin/studio.mjs runs the sources
// rather than a bundle that may not include that change. Chunks sit in dist/ itself, not a
// subfolder, because start.ts finds the server and the repository relative to its own file
// (import.meta.url), as from src/.
import { mkdir, readdir, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { build } from 'esbuild';

const root = new URL('.', import.meta.url);
const dist = new URL('dist/', root).pathname;
const entry = join(dist, 'studio.mjs');

const started = new Date();
const { outputFiles } = await build({
  entryPoints: { studio: new URL('src/main.ts', root).pathname },
  outdir: dist,
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20.19',
  outExtension: { '.js': '.mjs' },
  chunkNames: '[name]-[hash]',
  write: false,
  logLevel: 'warning',
  // Smaller to read and compile at each start: `studio ws create` loads the protocol's schemas
  // (zod), 840 kB as written, 490 kB minified; that took ~50 ms off the command here.
  minify: true,
  // CommonJS dependencies (commander, ws) inside an ES module bundle still call require; every
  // output gets the banner, since a dependency's require can end up in any chunk.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
});
const entryFile = outputFiles.find((file) => file.path === entry);
if (!entryFile) throw new Error(`esbuild made no ${entry}`);

await mkdir(dist, { recursive: true });
async function put(file) {
  const temp = `${file.path}.${process.pid}.tmp`;
  await writeFile(temp, file.contents);
  await rename(temp, file.path);
}
for (const file of outputFiles) if (file !== entryFile) await put(file);
await put(entryFile);
await utimes(entry, started, started);

// Files of earlier builds (and temporary files of interrupted ones), now that nothing new uses them.
const made = new Set(outputFiles.map((file) => basename(file.path)));
for (const name of await readdir(dist)) {
  if (!made.has(name)) await rm(join(dist, name), { recursive: true, force: true });
}
