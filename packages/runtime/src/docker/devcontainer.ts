// A repository's dev container (containers.dev): its image built by the official
// `@devcontainers/cli`, and the settings the workspace takes from it.
import { spawn } from 'node:child_process';
import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type Dockerode from 'dockerode';
import { x as extractTar } from 'tar';
import { REMOTE_ADD_REASON, remoteAdd } from './dockerfile.ts';
import {
  DEVCONTAINER_CONFIG_PATHS,
  parseDevcontainerConfig,
  record,
  settingsFrom,
  shellQuote,
} from '../devcontainer-config.ts';
import { RuntimeError, type DevcontainerBuild, type ProgressListener } from '../runtime.ts';

/** The image label the CLI writes the merged settings of the config and its features into. */
const METADATA_LABEL = 'devcontainer.metadata';
/** The most of a repository copied out for its build. */
const MAX_REPOSITORY_BYTES = 2 * 2 ** 30;
/** Lines of the build log kept for the error a failed build shows. */
const LOG_TAIL = 15;
/** At most one progress line per this long: an `apt-get` in a Dockerfile prints thousands. */
const PROGRESS_EVERY_MS = 250;

/**
 * Unpacks `archive` into `dir`, files and folders only: a link in a repository could point a
 * build at the server's own files.
 */
export async function unpackPlain(
  dir: string,
  archive: Readable,
  maxBytes = MAX_REPOSITORY_BYTES,
): Promise<void> {
  let total = 0;
  const unpack = extractTar({
    cwd: dir,
    preserveOwner: false,
    strict: true,
    filter: (_path, entry) => {
      const type = 'type' in entry ? entry.type : null;
      total += entry.size ?? 0;
      return total <= maxBytes && (type === 'File' || type === 'OldFile' || type === 'Directory');
    },
  });
  await pipeline(archive, unpack);
  if (total > maxBytes) {
    throw new RuntimeError(
      'payload_too_large',
      `The repository is larger than ${Math.round(maxBytes / 2 ** 30)} GiB, more than a dev container build here takes.`,
    );
  }
}

/** The repository's config file relative to `folder`, or null when it has none. */
export async function findDevcontainerConfig(folder: string): Promise<string | null> {
  for (const path of DEVCONTAINER_CONFIG_PATHS) {
    const found = await stat(join(folder, path)).catch(() => null);
    if (found?.isFile()) return path;
  }
  return null;
}

/**
 * Refuses, naming what, a config this server will not build: Docker Compose configs, and a
 * Dockerfile, context or local feature outside the repository (the build must not read the
 * server's own files).
 */
export async function checkDevcontainerConfig(folder: string, config: string): Promise<void> {
  const settings = parseDevcontainerConfig(await readFile(join(folder, config), 'utf8'), config);
  const base = dirname(join(folder, config));
  const inside = (what: string, value: unknown) => {
    if (value === undefined) return;
    const path = typeof value === 'string' ? resolve(base, value) : null;
    const rel = path === null ? '..' : relative(folder, path);
    if (rel.startsWith('..') || isAbsolute(rel)) {
      throw new RuntimeError(
        'bad_request',
        `${config}: ${what} must be a path inside the repository, not ${JSON.stringify(value)}.`,
      );
    }
  };
  const build = (settings.build ?? {}) as Record<string, unknown>;
  inside('build.dockerfile', build.dockerfile ?? settings.dockerFile);
  inside('build.context', build.context ?? settings.context);
  for (const id of Object.keys((settings.features ?? {}) as object)) {
    if (id.startsWith('.') || id.startsWith('/')) inside(`the feature ${id}`, id);
  }
  const dockerfile = build.dockerfile ?? settings.dockerFile;
  if (typeof dockerfile === 'string') {
    const text = await readFile(resolve(base, dockerfile), 'utf8').catch(() => null);
    const url = text === null ? null : remoteAdd(text);
    if (url) {
      throw new RuntimeError(
        'bad_request',
        `${relative(folder, resolve(base, dockerfile))}: ADD ${url} ${REMOTE_ADD_REASON}`,
      );
    }
  }
}

export interface BuildDevcontainerOptions {
  docker: Dockerode;
  /** The repository, on this machine: a copy, the build may read anything in it. */
  folder: string;
  config: string;
  /** The tag to give the image. */
  image: string;
  /** Labels for the image, so the driver can find and remove it. */
  labels: Record<string, string>;
  /** The engine the driver uses, as DOCKER_HOST says it. */
  dockerHost: string | null;
  /** The network `RUN` steps get: the workspaces' own, so a build reaches what a workspace may. */
  network: string;
  /** A folder for the CLI's wrapper script. */
  workDir: string;
  onProgress: ProgressListener;
}

/**
 * Builds the dev container's image with `devcontainer build` (the classic builder, which takes a
 * named network) and reads back what the workspace takes from it. A failure throws with the
 * build's last lines, and names the feature that could not be fetched.
 */
export async function buildDevcontainer(
  options: BuildDevcontainerOptions,
): Promise<DevcontainerBuild> {
  const docker = await onPath('docker');
  if (!docker) {
    throw new RuntimeError(
      'unavailable',
      'Building a dev container needs the `docker` command-line tool on the server, and it is not on its PATH.',
    );
  }
  // The CLI runs `docker build …` itself; this puts every build on the workspaces' network.
  const wrapper = join(options.workDir, 'docker');
  await writeFile(
    wrapper,
    [
      '#!/bin/sh',
      // The engine the driver talks to, whatever DOCKER_HOST this server has.
      ...(options.dockerHost ? [`export DOCKER_HOST=${shellQuote(options.dockerHost)}`] : []),
      `if [ "$1" = build ]; then shift; exec ${shellQuote(docker)} build --network ${shellQuote(options.network)} "$@"; fi`,
      `exec ${shellQuote(docker)} "$@"`,
      '',
    ].join('\n'),
  );
  await chmod(wrapper, 0o755);

  const cli = createRequire(import.meta.url).resolve('@devcontainers/cli/devcontainer.js');
  const args = [
    cli,
    'build',
    '--workspace-folder',
    options.folder,
    '--config',
    join(options.folder, options.config),
    '--image-name',
    options.image,
    '--buildkit',
    'never',
    '--docker-path',
    wrapper,
    '--no-lockfile',
    ...Object.entries(options.labels).flatMap(([key, value]) => ['--label', `${key}=${value}`]),
  ];
  options.onProgress('building', `the dev container from ${options.config}`);
  const { code, stdout, log } = await runCli(process.execPath, args, options.onProgress);
  const outcome = lastJson(stdout);
  if (code !== 0 || outcome?.outcome !== 'success') {
    throw buildFailure(options.config, outcome?.message ?? `the build exited with ${code}`, log);
  }
  const labels = (await options.docker.getImage(options.image).inspect()).Config.Labels ?? {};
  return {
    image: options.image,
    config: options.config,
    ...settingsFrom(parseMetadata(labels[METADATA_LABEL])),
  };
}

function parseMetadata(label: string | undefined): Record<string, unknown>[] {
  if (!label) return [];
  try {
    const parsed = JSON.parse(label) as unknown;
    return (Array.isArray(parsed) ? parsed : [parsed]).map(record);
  } catch {
    return [];
  }
}

/** The error of a failed build: the CLI's message, the feature it was fetching, the log's end. */
function buildFailure(config: string, message: string, log: string[]): RuntimeError {
  const feature = [...log]
    .reverse()
    .map((line) => /(?:Feature dependencies for|download package for|Feature) '([^']+)'/.exec(line))
    .find(Boolean)?.[1];
  const head = feature
    ? `The feature "${feature}" in ${config} could not be fetched (${message}); this server may not reach its registry. Remove it from ${config}, or use an image that already has it.`
    : `The dev container in ${config} did not build: ${message}.`;
  const tail = log.slice(-LOG_TAIL).join('\n');
  return new RuntimeError('bad_request', tail ? `${head}\nThe build's last lines:\n${tail}` : head);
}

/** Runs the CLI; its log (stderr) goes to `onProgress` a line at a time, at most every 250 ms. */
function runCli(
  command: string,
  args: string[],
  onProgress: ProgressListener,
): Promise<{ code: number | null; stdout: string; log: string[] }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let partial = '';
    const log: string[] = [];
    let lastSent = 0;
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const raw of lines) {
        // "[2026-…Z] Step 2/3 : FROM …": the CLI's timestamp is noise here.
        const line = raw.replace(/^\[[0-9T:.\-Z]+\]\s*/, '').trimEnd();
        if (!line) continue;
        log.push(line);
        if (log.length > 200) log.shift();
        const now = Date.now();
        if (now - lastSent >= PROGRESS_EVERY_MS || /^Step \d+\/\d+/.test(line)) {
          lastSent = now;
          onProgress('building', line.slice(0, 300));
        }
      }
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (partial.trim()) log.push(partial.trim());
      resolvePromise({ code, stdout, log });
    });
  });
}

/** The last line of `text` that is a JSON object (the CLI's outcome), or null. */
function lastJson(text: string): { outcome?: string; message?: string } | null {
  for (const line of text.trim().split('\n').reverse()) {
    try {
      return JSON.parse(line) as { outcome?: string; message?: string };
    } catch {
      // not this line
    }
  }
  return null;
}

/** The full path of `name` on the PATH, or null. */
async function onPath(name: string): Promise<string | null> {
  const found = await new Promise<string>((resolvePromise) => {
    const child = spawn('sh', ['-c', `command -v ${name}`], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.on('error', () => resolvePromise(''));
    child.on('close', () => resolvePromise(text.trim()));
  });
  return found.startsWith('/') ? found : null;
}
