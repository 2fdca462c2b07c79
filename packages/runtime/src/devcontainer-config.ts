// A repository's devcontainer.json (containers.dev) as any driver reads it: where it is, its
// JSON with comments, and the settings a workspace takes from it. The Docker driver builds the
// image with the official CLI (docker/devcontainer.ts); a driver that builds nothing (Kubernetes)
// takes a config's `image` as it is.
// Its ES module build: the package's main (UMD) requires files a bundle does not carry.
import {
  parse as parseJsonc,
  printParseErrorCode,
  type ParseError,
} from 'jsonc-parser/lib/esm/main.js';
import { RuntimeError, type DevcontainerBuild } from './runtime.ts';

/** Where the spec looks, in this order. */
export const DEVCONTAINER_CONFIG_PATHS = ['.devcontainer/devcontainer.json', '.devcontainer.json'];

/** The config's settings; a file that is not JSON with comments holding an object is refused. */
export function parseDevcontainerConfig(text: string, config: string): Record<string, unknown> {
  const errors: ParseError[] = [];
  const parsed = parseJsonc(text, errors, { allowTrailingComma: true }) as unknown;
  if (errors.length > 0 || typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    const first = errors[0];
    throw new RuntimeError(
      'bad_request',
      first
        ? `${config} is not valid JSON with comments: ${printParseErrorCode(first.error)} at offset ${first.offset}.`
        : `${config} must hold an object.`,
    );
  }
  const settings = parsed as Record<string, unknown>;
  if ('dockerComposeFile' in settings) {
    throw new RuntimeError(
      'bad_request',
      `${config} uses Docker Compose (dockerComposeFile), which workspaces do not run; use "image" or "build".`,
    );
  }
  return settings;
}

/**
 * For drivers that build no images: the dev container of a config that names its `image` and
 * needs nothing built on it. A `build` or `features` is refused, naming it (and the image's own
 * `devcontainer.metadata` label is not read: that takes pulling the image here).
 */
export function devcontainerFromImage(
  text: string,
  config: string,
  driver: string,
): DevcontainerBuild {
  const settings = parseDevcontainerConfig(text, config);
  const needsBuild = [
    ...('build' in settings || 'dockerFile' in settings ? ['"build"'] : []),
    ...(Object.keys(record(settings.features)).length > 0 ? ['"features"'] : []),
  ];
  if (needsBuild.length > 0) {
    throw new RuntimeError(
      'bad_request',
      `${config} asks for an image to be built (${needsBuild.join(' and ')}), and ${driver} workspaces take a dev container's image as it is. Name a ready image in "image" (with its features built in), or use the Docker driver, which builds dev containers.`,
    );
  }
  const image = settings.image;
  if (typeof image !== 'string' || !IMAGE_REF.test(image)) {
    throw new RuntimeError(
      'bad_request',
      image === undefined
        ? `${config} names no "image".`
        : `${config}: "image" must be an image reference such as "debian:bookworm", not ${JSON.stringify(image)}.`,
    );
  }
  return { image, config, ...settingsFrom([settings]) };
}

// name[:tag][@digest], lower-case repository parts (the reference grammar of distribution/reference).
const IMAGE_REF =
  /^(?:[a-zA-Z0-9.-]+(?::\d+)?\/)?[a-z0-9]+(?:[._-]+[a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-]+[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

/** The settings a workspace takes from the merged metadata entries, later entries winning. */
export function settingsFrom(
  entries: Record<string, unknown>[],
): Omit<DevcontainerBuild, 'image' | 'config'> {
  const env: Record<string, string> = {};
  const onCreate: string[] = [];
  const onStart: string[] = [];
  const ports = new Map<number, string | null>();
  const extensions = new Set<string>();
  for (const entry of entries) {
    for (const [key, value] of Object.entries(record(entry.containerEnv))) {
      if (typeof value === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) env[key] = value;
    }
    for (const hook of ['onCreateCommand', 'updateContentCommand', 'postCreateCommand']) {
      onCreate.push(...commandsOf(entry[hook]));
    }
    onStart.push(...commandsOf(entry.postStartCommand));
    const attributes = record(entry.portsAttributes);
    for (const value of Array.isArray(entry.forwardPorts) ? entry.forwardPorts : []) {
      // A number, or "localhost:3000"; another host's port is not the workspace's.
      const port =
        typeof value === 'number'
          ? value
          : Number(/^(?:localhost|127\.0\.0\.1):(\d+)$/.exec(String(value))?.[1]);
      if (!Number.isInteger(port) || port < 1 || port > 65_535) continue;
      const label = record(attributes[String(port)]).label;
      ports.set(port, typeof label === 'string' ? label : (ports.get(port) ?? null));
    }
    const vscode = record(record(entry.customizations).vscode);
    for (const id of Array.isArray(vscode.extensions) ? vscode.extensions : []) {
      if (typeof id === 'string') extensions.add(id);
    }
  }
  return {
    env,
    onCreate,
    onStart,
    forwardPorts: [...ports].map(([port, label]) => ({ port, label })),
    extensions: [...extensions],
  };
}

/** A lifecycle command as a shell command line each: a string, an argv array, or named ones. */
function commandsOf(value: unknown): string[] {
  if (typeof value === 'string') return value.trim() ? [value] : [];
  if (Array.isArray(value)) {
    return value.every((part) => typeof part === 'string') && value.length > 0
      ? [value.map((part) => shellQuote(part)).join(' ')]
      : [];
  }
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(commandsOf);
  return [];
}

export function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

export function shellQuote(text: string): string {
  return /^[A-Za-z0-9_./:=@-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
