import { z } from 'zod';
import { oneLine } from './text.ts';

/** A template or port name: lower-case letters, digits and dashes, starting with a letter. */
const slug = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z][a-z0-9-]*$/, 'use lower-case letters, digits and dashes, starting with a letter');

/** Environment variable names as POSIX shells accept them. */
const envName = z
  .string()
  .max(256)
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'not a valid environment variable name');

/**
 * An image reference such as `studio/base:1` or `registry.example.com:5000/team/img:tag`. Kept
 * loose on purpose: the engine is the authority; this only rejects what can never be a reference.
 */
const imageRef = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[a-z0-9][a-z0-9._\-/:@]*$/, 'not a valid image reference');

/** Where a template's image comes from. */
export const templateImageSchema = z.strictObject({
  /** Folder under `images/` holding a Dockerfile; absent for images that only come from a registry. */
  build: slug.optional(),
  /** The image tag the workspace runs, e.g. `studio/base:1`. */
  ref: imageRef,
});

/** Hard limits a workspace of this template runs under. */
export const templateResourcesSchema = z.strictObject({
  /** CPU cores; fractions allowed. */
  cpus: z.number().min(0.1).max(64).default(2),
  /** Memory (and memory + swap) limit. 256 MiB is about the least a shell plus the daemon needs. */
  memoryMiB: z.number().int().min(256).max(262_144).default(2048),
  /** Processes and threads; fork bombs stop here. The daemon alone needs a few dozen. */
  pids: z.number().int().min(32).max(65_536).default(512),
  /** Disk quota for the home volume, where the driver can enforce one. */
  diskMiB: z.number().int().min(256).max(4_194_304).optional(),
});

/** A port the template's start commands listen on, shown as a named preview. */
export const templatePortSchema = z.strictObject({
  port: z.number().int().min(1).max(65_535),
  name: slug,
  /** What people read in the Ports view, when not the name (a dev container's port label). */
  label: oneLine(1, 100).optional(),
});

/**
 * A tool a template's image ships, and its version as the image has it. `check` is a shell command
 * whose output contains `version`: the template tests run it in a real workspace, so a template
 * never claims a version it does not have.
 */
export const templateToolSchema = z.strictObject({
  name: oneLine(1, 60),
  version: oneLine(1, 40),
  check: z.string().min(1).max(500),
});

/** A workspace template: which image, which limits, what runs at start. */
export const templateSchema = z.strictObject({
  name: slug,
  title: oneLine(1, 100),
  description: z.string().max(2000).default(''),
  image: templateImageSchema,
  /** What the image has, with versions; shown when picking a template. */
  tools: z.array(templateToolSchema).max(32).default([]),
  resources: templateResourcesSchema.default({ cpus: 2, memoryMiB: 2048, pids: 512 }),
  env: z
    .record(envName, z.string().max(32_768))
    .refine((env) => Object.keys(env).length <= 256, 'at most 256 environment variables')
    .default({}),
  /** Shell commands run in order, in the background, each time a workspace starts. */
  startCommands: z.array(z.string().min(1).max(4096)).max(32).default([]),
  /**
   * How its workspaces are kept apart from the machine: `container` (namespaces and cgroups, the
   * host's kernel) or `sandboxed-kernel` (Docker with gVisor: workspace code never talks to the
   * host's kernel directly).
   */
  isolation: z.enum(['container', 'sandboxed-kernel']).default('container'),
  /** The start commands run a desktop on display :1 with VNC on 127.0.0.1:5900 inside. */
  desktop: z.boolean().default(false),
  /**
   * A start command serves VS Code's own workbench (code-server) on this port inside: the IDE
   * opens it through the preview proxy, behind the platform's sign-in.
   */
  vscode: z.strictObject({ port: z.number().int().min(1).max(65_535) }).optional(),
  ports: z
    .array(templatePortSchema)
    .max(32)
    .refine(
      (ports) => new Set(ports.map((entry) => entry.port)).size === ports.length,
      'each port may be listed once',
    )
    .default([]),
  /**
   * Started workspaces kept waiting for people (Docker): a create takes one and is ready at once.
   * An admin can change it without editing the file.
   */
  warmPool: z.number().int().min(0).max(50).default(0),
  /**
   * Set by the server on a workspace that runs its repository's dev container: the config's path
   * in the home and the VS Code extensions it recommends.
   */
  devcontainer: z
    .strictObject({
      config: z.string().min(1).max(1000),
      extensions: z.array(z.string().min(1).max(200)).max(100),
    })
    .optional(),
  /** Stop a workspace nobody used for this long; 0 never stops it. */
  idleTimeoutMinutes: z
    .number()
    .int()
    .min(0)
    .max(7 * 24 * 60)
    .default(60),
  /** Stop a workspace this long after it started, used or not; 0 means no limit. */
  maxLifetimeHours: z
    .number()
    .int()
    .min(0)
    .max(30 * 24)
    .default(24),
});

/** A workspace template after defaults were applied. */
export type Template = z.infer<typeof templateSchema>;
/** A template as written in a file, before defaults. */
export type TemplateInput = z.input<typeof templateSchema>;

/** `PUT /api/admin/templates/:name`: a template, and the team that owns it (none: everyone's). */
export const putTemplateBodySchema = templateSchema.extend({
  team: z.string().min(1).max(64).nullable().optional(),
});
export type PutTemplateBody = z.input<typeof putTemplateBodySchema>;

/** `GET /api/templates`: a template the caller may use, with the team that owns it, if any. */
export const listedTemplateSchema = templateSchema.extend({ team: z.string().nullable() });
export type ListedTemplate = z.infer<typeof listedTemplateSchema>;

/** `GET /api/admin/warm-pools`: one template's warm pool, its size and what it holds now. */
export const warmPoolStateSchema = z.object({
  template: z.string(),
  size: z.number().int(),
  /** Started and waiting for a create. */
  ready: z.number().int(),
  /** Being created or started. */
  warming: z.number().int(),
});
export type WarmPoolState = z.infer<typeof warmPoolStateSchema>;

/**
 * `GET /api/admin/images`: each built template's image (Docker). `outdated`: its recipe changed
 * since it was built; the server builds such images again in the background (`building`, its
 * latest step in `detail`), or says why it could not (`failed`). `missing` ones are built at
 * their first create.
 */
export const templateImageStateSchema = z.object({
  template: z.string(),
  ref: z.string(),
  state: z.enum(['ready', 'missing', 'outdated', 'building', 'failed']),
  detail: z.string().nullable(),
});
export type TemplateImageStatus = z.infer<typeof templateImageStateSchema>;

/** `PUT /api/admin/templates/:name/warm-pool`: how many to keep warm; null: the template's own. */
export const putWarmPoolBodySchema = z.strictObject({
  size: z.number().int().min(0).max(50).nullable(),
});
export type PutWarmPoolBody = z.infer<typeof putWarmPoolBodySchema>;

/** `POST /api/admin/workspaces/:id/template`: a new template from a workspace's home. */
export const saveAsTemplateBodySchema = z.strictObject({ name: slug, title: oneLine(1, 100) });
export type SaveAsTemplateBody = z.infer<typeof saveAsTemplateBodySchema>;

/** `POST /api/admin/templates/dockerfile`: a new template whose image an admin writes. */
export const dockerfileTemplateBodySchema = templateSchema
  .pick({
    name: true,
    title: true,
    description: true,
    resources: true,
    startCommands: true,
    ports: true,
  })
  .extend({
    /** Built with no context (nothing to COPY from), FROM an image this server has. */
    dockerfile: z.string().trim().min(1, 'write a Dockerfile').max(65_536),
  });
export type DockerfileTemplateBody = z.input<typeof dockerfileTemplateBodySchema>;

/** One line of that request's NDJSON answer: the build's output, then the template or why not. */
export const dockerfileTemplateEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('log'), line: z.string() }),
  z.object({
    type: z.literal('done'),
    template: templateSchema.extend({ team: z.string().nullable() }),
  }),
  z.object({ type: z.literal('error'), code: z.string(), message: z.string() }),
]);
export type DockerfileTemplateEvent = z.infer<typeof dockerfileTemplateEventSchema>;
