// `npm start`: builds what changed since the last build, then runs the server in this process.
// A second start of an unchanged checkout builds nothing: each part's inputs (names, sizes and
// modification times) are stamped into its dist folder, and a part whose stamp matches is kept.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const packages = ['protocol', 'db', 'runtime', 'agent'].map((name) => `packages/${name}`);

/** Each part: what it is built from, where it goes, how it is built. */
const parts = [
  {
    // Incremental by itself (it compares mtimes): always asked, done in milliseconds.
    name: 'workspace daemon',
    command: ['node', ['packages/daemon/build.mjs']],
  },
  {
    name: 'web app',
    inputs: ['apps/web', 'packages/protocol/src'],
    output: 'apps/web/dist',
    command: ['npm', ['run', '--silent', 'build', '-w', '@studio/web']],
  },
  {
    // The `studio` command runs this bundle (a tenth of the time tsx takes) once it is built.
    name: 'studio command',
    inputs: ['apps/cli', 'packages/protocol/src', 'packages/backup/src'],
    output: 'apps/cli/dist',
    command: ['npm', ['run', '--silent', 'build', '-w', '@studio/cli']],
  },
  {
    name: 'server',
    inputs: ['apps/server', ...packages, 'package-lock.json'],
    output: 'apps/server/dist',
    command: ['npm', ['run', '--silent', 'build', '-w', '@studio/server']],
  },
];

const SKIP = new Set(['node_modules', 'dist', '.studio', 'test-results']);

/** A hash of the names, sizes and modification times of every file under `paths`. */
function stampOf(paths) {
  const hash = createHash('sha256');
  const walk = (path) => {
    const stats = statSync(path, { throwIfNoEntry: false });
    if (!stats) return;
    if (stats.isDirectory()) {
      for (const name of readdirSync(path).sort()) if (!SKIP.has(name)) walk(join(path, name));
    } else {
      hash.update(`${relative(root, path)}\0${stats.size}\0${stats.mtimeMs}\0`);
    }
  };
  for (const path of paths) walk(join(root, path));
  return hash.digest('hex');
}

for (const part of parts) {
  const stampFile = part.output && join(root, part.output, '.build-stamp');
  const stamp = part.inputs && stampOf(part.inputs);
  if (stampFile && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) continue;
  if (part.inputs) process.stderr.write(`building the ${part.name}…\n`);
  const [command, args] = part.command;
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    process.stderr.write(`building the ${part.name} failed (exit ${result.status})\n`);
    process.exit(result.status ?? 1);
  }
  if (stampFile) writeFileSync(stampFile, stamp);
}

await import(pathToFileURL(join(root, 'apps/server/dist/main.js')).href);
