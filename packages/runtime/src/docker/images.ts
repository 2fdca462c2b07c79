import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { access, cp, mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { templateSchema, type Template } from '@studio/protocol';
import type Dockerode from 'dockerode';
import { create as createTar } from 'tar';
import { RuntimeError, type ProgressListener } from '../runtime.ts';
import {
  engineMessage,
  engineStatus,
  followProgress,
  isEngineUnreachable,
  engineUnavailable,
  toRuntimeError,
  type EngineProgress,
} from './engine.ts';

/** A Debian rootfs recipe: `images/rootfs/<name>.json`, imported as `studio/rootfs:<name>`. */
export interface RootfsRecipe {
  suite: string;
  variant: string;
  mirror: string;
  /** Extra packages for `debootstrap --include`. */
  include: string[];
  /** Lines of /etc/apt/sources.list; `{mirror}` is replaced by the mirror. */
  sources: string[];
}

/** Options for {@link buildTemplateImage}. */
export interface BuildTemplateImageOptions {
  docker: Dockerode;
  template: Template;
  /** The repository's `images/` folder. */
  imagesDir: string;
  /** Root of the image cache, e.g. `~/.cache/prometheus-studio` (see {@link defaultCacheDir}). */
  cacheDir: string;
  /** A file with one or more PEM certificates to trust inside the image (STUDIO_EXTRA_CA_CERTS). */
  extraCaCertsFile?: string;
  /** Try `docker pull` of the image ref before building (only when a registry is configured). */
  registryPull?: boolean;
  /** Rebuild even when the image exists locally. */
  force?: boolean;
  /** Replace the recipe's Debian mirror (air-gapped installs). */
  aptMirror?: string;
  /** The debootstrap binary; looked for in /usr/sbin, /sbin, /usr/local/sbin, /usr/bin otherwise. */
  debootstrapPath?: string;
  onProgress?: ProgressListener;
}

/** What building a `studio/rootfs` image needs. */
type RootfsOptions = Pick<
  BuildTemplateImageOptions,
  'docker' | 'imagesDir' | 'cacheDir' | 'aptMirror' | 'debootstrapPath' | 'onProgress'
>;

/** What {@link buildTemplateImage} did. */
export interface BuildTemplateImageResult {
  ref: string;
  /** `local`: it was already there; `pulled`: from a registry; `built`: from the Dockerfile. */
  source: 'local' | 'pulled' | 'built';
  imageId: string;
  durationMs: number;
}

const ROOTFS_REPO = 'studio/rootfs';
const FROM_TEMPLATE =
  /^\s*FROM\s+(?:--platform=\S+\s+)?(studio\/(?!rootfs:)[a-z0-9._-]+:[A-Za-z0-9._-]+)\s*(?:AS\s+\S+)?\s*$/gim;
const FROM_ROOTFS =
  /^\s*FROM\s+(?:--platform=\S+\s+)?studio\/rootfs:([A-Za-z0-9._-]+)\s*(?:AS\s+\S+)?\s*$/gim;
const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The image cache root: `$XDG_CACHE_HOME/prometheus-studio`, else `~/.cache/prometheus-studio`. */
export function defaultCacheDir(env: Record<string, string | undefined>, homeDir: string): string {
  const base = env.XDG_CACHE_HOME || join(homeDir, '.cache');
  return join(base, 'prometheus-studio');
}

/** Read and validate `images/templates/<name>.json`; `template_not_found` or `bad_request`. */
export async function loadTemplate(imagesDir: string, name: string): Promise<Template> {
  if (!/^[a-z][a-z0-9-]*$/.test(name)) {
    throw new RuntimeError('template_not_found', `There is no template named "${name}".`);
  }
  const file = join(imagesDir, 'templates', `${name}.json`);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new RuntimeError(
      'template_not_found',
      `There is no template named "${name}" (looked for ${file}).`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new RuntimeError('bad_request', `${file} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = templateSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => {
      const where = issue.path.length ? issue.path.join('.') : '(top level)';
      return `${where}: ${issue.message}`;
    });
    throw new RuntimeError('bad_request', `${file} is not a valid template: ${issues.join('; ')}`, {
      issues: parsed.error.issues,
    });
  }
  return parsed.data;
}

/**
 * Make sure the template's image exists in the engine: keep a local one, else pull it (when
 * asked), else build it from `images/<template.image.build>/Dockerfile` on top of our own
 * debootstrapped Debian rootfs — no registry needed, only an apt mirror.
 */
export async function buildTemplateImage(
  options: BuildTemplateImageOptions,
): Promise<BuildTemplateImageResult> {
  const { docker, template } = options;
  const progress: ProgressListener = options.onProgress ?? (() => {});
  const started = Date.now();
  const ref = template.image.ref;
  const done = (source: BuildTemplateImageResult['source'], imageId: string) => {
    progress('done', `${ref} (${source})`);
    return { ref, source, imageId, durationMs: Date.now() - started };
  };

  try {
    await docker.ping();
  } catch (error) {
    throw engineUnavailable(docker, error);
  }

  const recipe = await recipeHash(options.imagesDir, template).catch(() => null);
  if (!options.force) {
    const existing = await imageAgainstRecipe(docker, ref, recipe);
    if (existing.state === 'ready') return done('local', existing.id);
    if (existing.state === 'outdated')
      progress('build', `${ref} was built from an older recipe: building it again`);
  }

  if (options.registryPull) {
    progress('pull', ref);
    try {
      const stream = await docker.pull(ref);
      await followProgress(docker, stream, (message) => reportPull(progress, message));
      const pulled = await imageId(docker, ref);
      if (pulled) return done('pulled', pulled);
    } catch (error) {
      if (isEngineUnreachable(error)) throw engineUnavailable(docker, error);
      progress('pull', `pull failed, building instead: ${engineMessage(error)}`);
    }
  }

  const build = template.image.build;
  if (!build) {
    throw new RuntimeError(
      'image_missing',
      `Image ${ref} is not in the engine and template "${template.name}" has no build recipe; ` +
        'pull or load it into the engine first.',
    );
  }
  const buildDir = resolve(options.imagesDir, build);
  const dockerfile = await readFile(join(buildDir, 'Dockerfile'), 'utf8').catch(() => null);
  if (dockerfile === null) {
    throw new RuntimeError(
      'bad_request',
      `Template "${template.name}" builds from images/${build}, but ${join(buildDir, 'Dockerfile')} ` +
        'does not exist; fix image.build in the template or add the Dockerfile.',
    );
  }

  for (const match of dockerfile.matchAll(FROM_ROOTFS)) {
    await ensureRootfsImage({ ...options, onProgress: progress }, match[1]!);
  }
  // An image built on another template's (desktop on base): that one first, as it would be built.
  for (const match of dockerfile.matchAll(FROM_TEMPLATE)) {
    const parentRef = match[1]!;
    const parent = await templateWithRef(options.imagesDir, parentRef);
    if (!parent)
      throw new RuntimeError(
        'bad_request',
        `images/${build}/Dockerfile builds FROM ${parentRef}, which no template in images/templates makes.`,
      );
    if (parent.name === template.name)
      throw new RuntimeError(
        'bad_request',
        `images/${build}/Dockerfile builds FROM its own image ${parentRef}.`,
      );
    await buildTemplateImage({ ...options, template: parent, force: false, onProgress: progress });
  }

  const imageIdBuilt = await buildFromFolder(options, {
    ref,
    recipe: `images/${build}/Dockerfile`,
    buildDir,
    labels: { 'studio.template': template.name, ...(recipe && { [RECIPE_LABEL]: recipe }) },
    fill: (context) => writeExtraCa(join(context, 'extra-ca'), options.extraCaCertsFile),
  });
  return done('built', imageIdBuilt);
}

/** Whether a template's image is in the engine, and built from its recipe as it is now. */
export type TemplateImageState = 'ready' | 'missing' | 'outdated';

/**
 * The state of `template`'s image: `outdated` when its recipe (its folder, or a parent's) changed
 * since it was built. An image without the recipe label (built before images were labelled, or
 * loaded) counts as ready.
 */
export async function templateImageState(
  options: Pick<BuildTemplateImageOptions, 'docker' | 'imagesDir' | 'template'>,
): Promise<TemplateImageState> {
  const recipe = await recipeHash(options.imagesDir, options.template).catch(() => null);
  return (await imageAgainstRecipe(options.docker, options.template.image.ref, recipe)).state;
}

async function imageAgainstRecipe(
  docker: Dockerode,
  ref: string,
  recipe: string | null,
): Promise<{ state: TemplateImageState; id: string }> {
  const existing = await inspectImage(docker, ref);
  if (!existing) return { state: 'missing', id: '' };
  const builtFrom = existing.labels[RECIPE_LABEL];
  const current = !recipe || !builtFrom || builtFrom === recipe;
  return { state: current ? 'ready' : 'outdated', id: existing.id };
}

/** What {@link buildFromFolder} builds. */
interface FolderBuild {
  ref: string;
  /** The Dockerfile as a user would find it, for messages. */
  recipe: string;
  /** The folder with the Dockerfile; copied as the build context. */
  buildDir: string;
  labels: Record<string, string>;
  /** Adds generated files to the copied context. */
  fill(context: string): Promise<void>;
}

/** `docker build` of a folder of ours, on an engine with no default bridge; resolves with the image id. */
async function buildFromFolder(
  options: Pick<BuildTemplateImageOptions, 'docker' | 'cacheDir' | 'onProgress'>,
  { ref, recipe, buildDir, labels, fill }: FolderBuild,
): Promise<string> {
  const { docker } = options;
  const progress: ProgressListener = options.onProgress ?? (() => {});
  const workDir = join(options.cacheDir, 'build', `${randomBytes(6).toString('hex')}`);
  try {
    progress('build', `preparing the build context for ${ref}`);
    const context = join(workDir, 'context');
    await mkdir(workDir, { recursive: true });
    await cp(buildDir, context, { recursive: true });
    await fill(context);
    const contextTar = join(workDir, 'context.tar');
    // Fixed mtimes and no owners, so an unchanged folder hits the engine's layer cache.
    await createTar({ cwd: context, file: contextTar, portable: true, mtime: new Date(0) }, ['.']);

    progress('build', `building ${ref} from ${recipe}`);
    const stream = await docker.buildImage(contextTar, {
      t: ref,
      rm: true,
      forcerm: true,
      // RUN steps fetch from the apt mirror; the engine may have no default bridge (--bridge none).
      networkmode: 'host',
      labels,
    });
    const tail: string[] = [];
    try {
      await followProgress(docker, stream, (message) => {
        for (const line of (message.stream ?? message.status ?? '').split('\n')) {
          const text = line.trimEnd();
          if (!text) continue;
          tail.push(text);
          if (tail.length > 20) tail.shift();
          progress('build', text);
        }
      });
    } catch (error) {
      if (isEngineUnreachable(error)) throw engineUnavailable(docker, error);
      throw new RuntimeError(
        'internal',
        `Building ${ref} failed: ${engineMessage(error)}. Check that the apt mirror is reachable ` +
          `from the engine and that ${recipe} builds; the last lines were:\n` +
          tail.join('\n'),
      );
    }
    const built = await imageId(docker, ref);
    if (!built) {
      throw new RuntimeError(
        'internal',
        `The engine finished building ${ref} but has no such image.`,
      );
    }
    return built;
  } catch (error) {
    throw toRuntimeError(docker, error, `Building ${ref}`);
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

/** Options for {@link buildContentImage}. */
export type BuildContentImageOptions = RootfsOptions & {
  /** The recipe: `images/<folder>/Dockerfile`; the image is `studio/<folder>:<hash>`. */
  folder: string;
  /** Folders copied into the build context: context path → folder on this machine. */
  content: Record<string, string>;
};

/**
 * An image of files of ours on our own rootfs: the daemon runtime an init container copies into
 * Kubernetes workspaces (`runtime`), the server for a cluster (`server`). The tag is a hash of
 * the content, so a change gets a new image and pods never run a stale copy. Resolves with the ref.
 */
export async function buildContentImage(options: BuildContentImageOptions): Promise<string> {
  const buildDir = resolve(options.imagesDir, options.folder);
  const dockerfile = await readFile(join(buildDir, 'Dockerfile'), 'utf8');
  // The recipe and the rootfs under it are part of what the tag stands for.
  const hash = createHash('sha256').update(dockerfile);
  for (const match of dockerfile.matchAll(FROM_ROOTFS))
    hash.update(rootfsCacheKey(await loadRootfsRecipe(options.imagesDir, match[1]!)));
  for (const [name, dir] of Object.entries(options.content).sort())
    hash.update(`${name}\0${await treeHash(dir)}\0`);
  const ref = `studio/${options.folder}:${hash.digest('hex').slice(0, 16)}`;
  if (await imageId(options.docker, ref)) return ref;
  for (const match of dockerfile.matchAll(FROM_ROOTFS)) await ensureRootfsImage(options, match[1]!);
  await buildFromFolder(options, {
    ref,
    recipe: `images/${options.folder}/Dockerfile`,
    buildDir,
    labels: { 'studio.content': options.folder },
    fill: async (context) => {
      for (const [name, dir] of Object.entries(options.content))
        await cp(dir, join(context, name), { recursive: true, verbatimSymlinks: true });
    },
  });
  // Each change makes a new image of some hundred megabytes: drop the ones it replaces.
  const built = await imageId(options.docker, ref);
  const older = await options.docker.listImages({
    filters: { label: [`studio.content=${options.folder}`] },
  });
  for (const image of older) {
    if (image.Id === built) continue;
    await options.docker
      .getImage(image.Id)
      .remove({ force: true })
      .catch(() => {});
  }
  return ref;
}

/** A short hash of the names and contents of every file below `dir`. */
async function treeHash(dir: string): Promise<string> {
  const hash = createHash('sha256');
  const walk = async (relative: string): Promise<void> => {
    const entries = await readdir(join(dir, relative), { withFileTypes: true });
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      const path = join(relative, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile())
        hash
          .update(path)
          .update('\0')
          .update(await readFile(join(dir, path)));
    }
  };
  await walk('.');
  return hash.digest('hex').slice(0, 16);
}

/** The image label holding {@link recipeHash} of what it was built from. */
const RECIPE_LABEL = 'studio.recipe';

/**
 * A hash of everything a template's image is built from: its build folder and, through `FROM
 * studio/<template>`, its parents' folders. Null for a template with no build folder.
 */
async function recipeHash(imagesDir: string, template: Template): Promise<string | null> {
  const build = template.image.build;
  if (!build) return null;
  const folder = resolve(imagesDir, build);
  const hash = createHash('sha256').update(await treeHash(folder));
  const dockerfile = await readFile(join(folder, 'Dockerfile'), 'utf8');
  for (const match of dockerfile.matchAll(FROM_TEMPLATE)) {
    const parent = await templateWithRef(imagesDir, match[1]!);
    if (parent && parent.name !== template.name)
      hash.update(`\0${(await recipeHash(imagesDir, parent)) ?? ''}`);
  }
  return hash.digest('hex').slice(0, 16);
}

/** The template in `images/templates` whose image is `ref`, if any. */
async function templateWithRef(imagesDir: string, ref: string): Promise<Template | null> {
  const files = await readdir(join(imagesDir, 'templates')).catch(() => [] as string[]);
  for (const file of files.filter((name) => name.endsWith('.json')).sort()) {
    const candidate = await loadTemplate(imagesDir, file.slice(0, -'.json'.length));
    if (candidate.image.ref === ref) return candidate;
  }
  return null;
}

/** Read `images/rootfs/<name>.json`; `bad_request` when it is missing or malformed. */
export async function loadRootfsRecipe(imagesDir: string, name: string): Promise<RootfsRecipe> {
  const file = join(imagesDir, 'rootfs', `${name}.json`);
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new RuntimeError(
      'bad_request',
      `A Dockerfile uses ${ROOTFS_REPO}:${name}, but ${file} cannot be read: ${(error as Error).message}`,
    );
  }
  const strings = (value: unknown) =>
    Array.isArray(value) && value.every((item) => typeof item === 'string');
  const word = /^[A-Za-z0-9._+-]+$/;
  if (
    typeof raw.suite !== 'string' ||
    !word.test(raw.suite) ||
    typeof raw.variant !== 'string' ||
    !word.test(raw.variant) ||
    typeof raw.mirror !== 'string' ||
    !/^(https?|file):\/\/\S+$/.test(raw.mirror) ||
    !strings(raw.include) ||
    !(raw.include as string[]).every((item) => word.test(item)) ||
    !strings(raw.sources)
  ) {
    throw new RuntimeError(
      'bad_request',
      `${file} must hold { suite, variant, mirror (http/https/file URL), include: [package…], sources: [line…] }.`,
    );
  }
  return {
    suite: raw.suite,
    variant: raw.variant,
    mirror: raw.mirror,
    include: raw.include as string[],
    sources: raw.sources as string[],
  };
}

/** The cache key of a rootfs: what changes its content (suite, variant, packages, apt sources). */
export function rootfsCacheKey(recipe: RootfsRecipe): string {
  const sources = recipe.sources.map((line) => line.replaceAll('{mirror}', recipe.mirror));
  const canonical = JSON.stringify({
    suite: recipe.suite,
    variant: recipe.variant,
    include: [...recipe.include].sort(),
    sources,
  });
  const hash = createHash('sha256').update(canonical).digest('hex').slice(0, 16);
  return `${recipe.suite}-${recipe.variant}-${hash}`;
}

/**
 * Make sure `studio/rootfs:<name>` exists: import the cached tarball, or debootstrap one first
 * (needs root and debootstrap). The image carries the cache key as a label, so a changed recipe
 * replaces a stale image.
 */
async function ensureRootfsImage(options: RootfsOptions, name: string): Promise<void> {
  const { docker } = options;
  const progress = options.onProgress ?? (() => {});
  const recipe = await loadRootfsRecipe(options.imagesDir, name);
  if (options.aptMirror) recipe.mirror = options.aptMirror;
  const key = rootfsCacheKey(recipe);
  const ref = `${ROOTFS_REPO}:${name}`;

  if ((await inspectImage(docker, ref))?.labels['studio.rootfs.key'] === key) return;

  const cacheDir = join(options.cacheDir, 'rootfs');
  const tarball = join(cacheDir, `${key}.tar.gz`);
  const cached = await access(tarball).then(
    () => true,
    () => false,
  );
  if (cached) {
    progress('rootfs', `using the cached rootfs ${tarball}`);
  } else {
    await debootstrapRootfs(options, recipe, cacheDir, tarball);
  }

  progress('import', `importing ${tarball} as ${ref}`);
  const stream = await docker.importImage(tarball, {
    repo: ROOTFS_REPO,
    tag: name,
    changes: [`LABEL studio.rootfs.key=${key}`, 'CMD ["/bin/bash"]'],
  });
  await followProgress(docker, stream, (message) => {
    if (message.status) progress('import', message.status);
  });
}

async function debootstrapRootfs(
  options: RootfsOptions,
  recipe: RootfsRecipe,
  cacheDir: string,
  tarball: string,
): Promise<void> {
  const progress = options.onProgress ?? (() => {});
  if (process.getuid?.() !== 0) {
    throw new RuntimeError(
      'image_missing',
      `Building the ${recipe.suite} rootfs needs root (debootstrap creates device nodes and chroots); ` +
        'run `sudo studio images build base` once — the result is cached in ' +
        `${cacheDir} — or put a rootfs tarball there.`,
      { reason: 'not_root' },
    );
  }
  const debootstrap = options.debootstrapPath ?? (await findDebootstrap());
  if (!debootstrap) {
    throw new RuntimeError(
      'image_missing',
      'debootstrap is not installed; install it (`apt-get install debootstrap`) and build again.',
      { reason: 'debootstrap_missing' },
    );
  }

  const workDir = join(cacheDir, `work-${randomBytes(4).toString('hex')}`);
  const target = join(workDir, 'root');
  await mkdir(target, { recursive: true });
  try {
    const args = [`--variant=${recipe.variant}`, '--components=main'];
    if (recipe.include.length) args.push(`--include=${recipe.include.join(',')}`);
    args.push(recipe.suite, target, recipe.mirror);
    progress('rootfs', `debootstrap ${args.join(' ')}`);
    await run(debootstrap, args, (line) => progress('rootfs', line), 'debootstrap');

    const sources = recipe.sources.map((line) => line.replaceAll('{mirror}', recipe.mirror));
    await writeFile(join(target, 'etc/apt/sources.list'), `${sources.join('\n')}\n`);
    // Images should not carry package lists or downloaded .debs; every Dockerfile runs apt-get update.
    await rm(join(target, 'var/lib/apt/lists'), { recursive: true, force: true });
    await mkdir(join(target, 'var/lib/apt/lists/partial'), { recursive: true });
    await rm(join(target, 'var/cache/apt/archives'), { recursive: true, force: true });
    await mkdir(join(target, 'var/cache/apt/archives/partial'), { recursive: true });

    progress('rootfs', `packing ${tarball}`);
    const partial = `${tarball}.partial-${process.pid}`;
    // GNU tar rather than node-tar: it keeps device nodes, hard links, owners and xattrs exactly.
    await run(
      'tar',
      [
        '--numeric-owner',
        '--xattrs',
        '--exclude=./proc/*',
        '--exclude=./sys/*',
        '--exclude=./dev/*',
        '-C',
        target,
        '-czf',
        partial,
        '.',
      ],
      (line) => progress('rootfs', line),
      'tar',
    );
    await rename(partial, tarball);
  } finally {
    await removeTree(workDir);
  }
}

/**
 * Remove a debootstrap work folder. A failed debootstrap can leave /proc or /sys mounted inside
 * it; deleting through such a mount would touch the host, so unmount first and refuse if that
 * did not work.
 */
async function removeTree(dir: string): Promise<void> {
  const mounts = await mountsUnder(dir);
  for (const mount of mounts.reverse()) {
    await run('umount', ['-l', mount], () => {}, 'umount').catch(() => {});
  }
  if ((await mountsUnder(dir)).length) return;
  await rm(dir, { recursive: true, force: true });
}

async function mountsUnder(dir: string): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  return text
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((mount) => mount === dir || mount.startsWith(`${dir}/`));
}

/** Split a PEM bundle into one .crt per certificate (update-ca-certificates wants one per file). */
async function writeExtraCa(dir: string, bundle: string | undefined): Promise<void> {
  await mkdir(dir, { recursive: true });
  // The folder must exist in the context even when empty: the Dockerfile COPYs it unconditionally.
  await writeFile(join(dir, '.keep'), '');
  if (!bundle) return;
  let text: string;
  try {
    text = await readFile(bundle, 'utf8');
  } catch (error) {
    throw new RuntimeError(
      'bad_request',
      `STUDIO_EXTRA_CA_CERTS points to ${bundle}, which cannot be read: ${(error as Error).message}`,
    );
  }
  const certs = text.match(PEM_CERT) ?? [];
  if (!certs.length) {
    throw new RuntimeError(
      'bad_request',
      `STUDIO_EXTRA_CA_CERTS points to ${bundle}, which holds no PEM certificate ` +
        '(-----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----).',
    );
  }
  await Promise.all(
    certs.map((cert, index) => writeFile(join(dir, `studio-extra-${index + 1}.crt`), `${cert}\n`)),
  );
}

/** The image's id and labels, or null when the engine has no such image. */
async function inspectImage(
  docker: Dockerode,
  ref: string,
): Promise<{ id: string; labels: Record<string, string> } | null> {
  try {
    const image = await docker.getImage(ref).inspect();
    return { id: image.Id, labels: image.Config?.Labels ?? {} };
  } catch (error) {
    if (engineStatus(error) === 404) return null;
    throw toRuntimeError(docker, error, `Inspecting image ${ref}`);
  }
}

async function imageId(docker: Dockerode, ref: string): Promise<string | null> {
  return (await inspectImage(docker, ref))?.id ?? null;
}

function reportPull(progress: ProgressListener, message: EngineProgress): void {
  // Per-layer byte counters arrive many times a second; only report state changes.
  if (message.status && !message.progress) {
    progress('pull', message.id ? `${message.id}: ${message.status}` : message.status);
  }
}

/** Where Debian and friends install debootstrap (root's PATH is not ours to read here). */
const DEBOOTSTRAP_PATHS = [
  '/usr/sbin/debootstrap',
  '/sbin/debootstrap',
  '/usr/local/sbin/debootstrap',
  '/usr/bin/debootstrap',
];

async function findDebootstrap(): Promise<string | null> {
  for (const candidate of DEBOOTSTRAP_PATHS) {
    try {
      await access(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/** Run a command, passing each output line on; reject with its last lines when it fails. */
function run(
  command: string,
  args: string[],
  onLine: (line: string) => void,
  label: string,
): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const tail: string[] = [];
    const take = (line: string) => {
      tail.push(line);
      if (tail.length > 15) tail.shift();
      onLine(line);
    };
    createInterface({ input: child.stdout }).on('line', take);
    createInterface({ input: child.stderr }).on('line', take);
    child.on('error', (error) =>
      reject(new RuntimeError('internal', `Could not run ${label}: ${error.message}`)),
    );
    child.on('close', (code, signal) => {
      if (code === 0) {
        resolvePromise();
        return;
      }
      reject(
        new RuntimeError(
          'internal',
          `${label} failed (${signal ?? `exit code ${code}`}); check the Debian mirror and disk space. ` +
            `Last output:\n${tail.join('\n')}`,
        ),
      );
    });
  });
}

/** Names of the templates in `images/templates/`, for listings and the CLI. */
export async function listTemplateNames(imagesDir: string): Promise<string[]> {
  const entries = await readdir(join(imagesDir, 'templates')).catch(() => [] as string[]);
  return entries
    .filter((entry) => entry.endsWith('.json'))
    .map((entry) => entry.slice(0, -5))
    .sort();
}
