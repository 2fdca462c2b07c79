// After `vite build`: a .br and a .gz beside every compressible asset, so the server sends the
// smallest one the browser accepts (@fastify/static `preCompressed`) without compressing per request.
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { brotliCompress, constants, gzip } from 'node:zlib';
import { promisify } from 'node:util';

const COMPRESSIBLE = /\.(?:js|mjs|css|html|svg|json|ttf|txt)$/;
const MIN_BYTES = 1024;
const dist = new URL('../dist/', import.meta.url).pathname;

async function* files(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (COMPRESSIBLE.test(entry.name)) yield path;
  }
}

const started = Date.now();
let before = 0;
let after = 0;
const jobs = [];
for await (const path of files(dist)) {
  if ((await stat(path)).size < MIN_BYTES) continue;
  jobs.push(
    (async () => {
      const bytes = await readFile(path);
      const [br, gz] = await Promise.all([
        promisify(brotliCompress)(bytes, {
          params: {
            [constants.BROTLI_PARAM_QUALITY]: 10,
            [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
          },
        }),
        promisify(gzip)(bytes, { level: 9 }),
      ]);
      await Promise.all([writeFile(`${path}.br`, br), writeFile(`${path}.gz`, gz)]);
      before += bytes.length;
      after += br.length;
    })(),
  );
}
await Promise.all(jobs);
console.log(
  `precompressed ${jobs.length} files: ${(before / 1e6).toFixed(1)} MB → ${(after / 1e6).toFixed(1)} MB brotli in ${Date.now() - started} ms`,
);
