#!/usr/bin/env node
// Runs the bundle `npm run build` makes (dist/studio.mjs) when it is newer than every source it
// was made from; otherwise the TypeScript sources through tsx, so `npx studio` works from the
// repository without a build step and never runs a stale bundle.
//
// dist/studio.mjs is the bundle's entry; it imports each command's chunk (dist/*-HASH.mjs) when
// that command runs. Checking the entry covers the chunks: a build writes the entry after every
// chunk it names, with the time the build started as its mtime, and chunk names are hashes of
// their content, so an entry fresh by this test loads only chunks of its own, equally fresh, build.
import { readdirSync, statSync } from 'node:fs';
import module from 'node:module';

// Node 22.1 and later keep V8's compiled code on disk: the next run skips compiling the bundle.
module.enableCompileCache?.();

const bundle = new URL('../dist/studio.mjs', import.meta.url);
const SOURCES = ['../src/', '../../../packages/protocol/src/', '../../../packages/backup/src/'];

function newestSource() {
  let newest = 0;
  for (const folder of SOURCES) {
    const dir = new URL(folder, import.meta.url);
    for (const name of readdirSync(dir, { recursive: true })) {
      newest = Math.max(newest, statSync(new URL(name, dir)).mtimeMs);
    }
  }
  return newest;
}

let fresh = false;
try {
  fresh = statSync(bundle).mtimeMs >= newestSource();
} catch {
  // No bundle (or a source folder missing): run the sources.
}
if (fresh) {
  await import(bundle.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/main.ts');
}
