// The two images a cluster needs (deploy/kubernetes): `studio/server` (the built server, web app
// and templates with production dependencies) and `studio/runtime` (the daemon runtime the
// workspaces' init containers copy). Built with the Docker engine at DOCKER_HOST from our own
// rootfs; push them to your registry and name them in your overlay. Template names after `--`
// build those templates' images too (a cluster pulls them like any image; the server builds none):
//
//   npm run build && npm run images:k8s -- base desktop
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import {
  buildContentImage,
  buildTemplateImage,
  defaultCacheDir,
  loadTemplate,
  type ProgressListener,
} from '@studio/runtime';

const root = fileURLToPath(new URL('..', import.meta.url));
const imagesDir = join(root, 'images');
const runtimeDir = join(root, 'packages/daemon/dist/runtime');

export interface PlatformImages {
  server: string;
  runtime: string;
}

/** Build both images (cache hits when nothing changed); needs `npm run build` first. */
export async function buildPlatformImages(
  docker: Docker,
  onProgress?: ProgressListener,
): Promise<PlatformImages> {
  const cacheDir = defaultCacheDir(process.env, homedir());
  for (const built of ['apps/server/dist/main.js', 'packages/daemon/dist/runtime/daemon.mjs']) {
    if (!existsSync(join(root, built)))
      throw new Error(`${built} is missing: run \`npm run build\``);
  }
  const options = { docker, imagesDir, cacheDir, onProgress };
  const runtime = await buildContentImage({
    ...options,
    folder: 'runtime',
    content: { runtime: runtimeDir },
  });
  const server = await buildContentImage({
    ...options,
    folder: 'server',
    content: { app: await stageServer(cacheDir, onProgress) },
  });
  return { server, runtime };
}

/** The images of the templates `names` (e.g. `desktop`, built on `base`); their refs. */
export async function buildTemplateImages(
  docker: Docker,
  names: string[],
  onProgress?: ProgressListener,
): Promise<string[]> {
  const cacheDir = defaultCacheDir(process.env, homedir());
  const refs: string[] = [];
  for (const name of names) {
    const template = await loadTemplate(imagesDir, name);
    await buildTemplateImage({ docker, template, imagesDir, cacheDir, onProgress });
    refs.push(template.image.ref);
  }
  return refs;
}

/**
 * The server's files as they sit in the repository, with only its production dependencies
 * (installed once per lockfile into the cache) and the daemon runtime's Node.
 */
async function stageServer(cacheDir: string, onProgress?: ProgressListener): Promise<string> {
  const lock = await readFile(join(root, 'package-lock.json'));
  const key = createHash('sha256').update(lock).digest('hex').slice(0, 16);
  const modules = join(cacheDir, 'server-modules', key);
  if (!existsSync(join(modules, 'node_modules'))) {
    onProgress?.('install', 'production dependencies of @studio/server');
    const staging = `${modules}.partial`;
    await rm(staging, { recursive: true, force: true });
    await mkdir(staging, { recursive: true });
    const manifests = ['package.json', 'package-lock.json'];
    for (const group of ['apps', 'packages']) {
      for (const name of await readdir(join(root, group)))
        if (existsSync(join(root, group, name, 'package.json')))
          manifests.push(join(group, name, 'package.json'));
    }
    for (const file of manifests) await cp(join(root, file), join(staging, file));
    execFileSync(
      'npm',
      [
        'ci',
        '--omit=dev',
        '--workspace',
        '@studio/server',
        '--ignore-scripts',
        '--no-audit',
        '--no-fund',
      ],
      { cwd: staging, stdio: ['ignore', 'ignore', 'inherit'] },
    );
    // One rename: an install cut off half-way is never taken for a finished one.
    await rm(modules, { recursive: true, force: true });
    await rename(staging, modules);
  }
  const app = join(cacheDir, 'server-app');
  await rm(app, { recursive: true, force: true });
  const copy = (from: string, to = from) =>
    cp(join(root, from), join(app, to), { recursive: true, verbatimSymlinks: true });
  // npm nests a dependency under a workspace's folder where versions differ (apps/server has
  // its own better-auth): every node_modules of the install, where npm put it.
  const installed = ['node_modules'];
  for (const group of ['apps', 'packages'])
    for (const name of await readdir(join(modules, group)))
      if (existsSync(join(modules, group, name, 'node_modules')))
        installed.push(join(group, name, 'node_modules'));
  for (const dir of installed)
    await cp(join(modules, dir), join(app, dir), { recursive: true, verbatimSymlinks: true });
  await copy('package.json');
  await copy('apps/server/dist');
  if (existsSync(join(root, 'apps/web/dist'))) await copy('apps/web/dist');
  await copy('images/templates');
  await copy('packages/daemon/dist/runtime/bin/node', 'bin/node');
  return app;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const progress: ProgressListener = (step, detail) => console.error(`${step} ${detail ?? ''}`);
  const docker = new Docker();
  const images = await buildPlatformImages(docker, progress);
  const templates = await buildTemplateImages(docker, process.argv.slice(2), progress);
  console.log(JSON.stringify({ ...images, templates }, null, 2));
}
