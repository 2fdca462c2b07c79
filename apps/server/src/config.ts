import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Cron } from 'croner';
import { z } from 'zod';

/** A configuration value that is not allowed; `main` prints it as one line and exits with code 2. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

/** The server's whole configuration, validated; nothing else reads the environment. */
export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | undefined;
  publicUrl: URL;
  secret: string;
  /** True when the secret was generated and stored in the data dir on this start. */
  secretGenerated: boolean;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  trustProxy: boolean;
  /** Host names besides the public URL's that browsers may use (`Host` is checked: DNS rebinding). */
  allowedHosts: string[];
  /**
   * Subdomain previews (`STUDIO_PREVIEW_DOMAIN`): each preview on a host of its own under this
   * domain (`p<port>-<workspace id>.<domain>`), for apps that need the root path; null: path mode.
   */
  previewDomain: string | null;
  /** Who may read `/metrics` and the API docs without signing in as an admin. */
  publicMetrics: boolean;
  publicApiDocs: boolean;
  admin: { email: string; password: string } | undefined;
  github: { clientId: string; clientSecret: string } | undefined;
  oidc: { issuer: string; clientId: string; clientSecret: string; name: string } | undefined;
  workspaces: {
    /** The driver asked for; `undefined` means Docker when reachable, else local. */
    driver: 'local' | 'docker' | 'kubernetes' | undefined;
    /** With the kubernetes driver: where workspaces go and how the server reaches them. */
    kubernetes: {
      /** `undefined`: the service account's own namespace in a cluster, else `default`. */
      namespace: string | undefined;
      /** The daemon runtime image (`studio images build-runtime` makes one). */
      runtimeImage: string | undefined;
      /** `undefined`: the pod IP inside a cluster, the API server's port-forward outside. */
      reach: 'pod-ip' | 'port-forward' | undefined;
      imagePullPolicy: 'Always' | 'IfNotPresent' | 'Never' | undefined;
      storageClass: string | undefined;
      /** The storage class enforces a claim's size. */
      diskLimits: boolean;
    };
    dockerHost: string | undefined;
    /** Images whose recipe changed are built again in the background at start (Docker). */
    rebuildOutdatedImages: boolean;
    /**
     * Host TCP ports workspaces may reach through the firewall (a git server here): Docker
     * workspaces at their bridge's gateway, local ones at 10.0.2.2.
     */
    dockerHostPorts: number[];
    localSandbox: 'auto' | 'bwrap' | 'none';
    /** `isolated`: each local workspace has its own network (slirp4netns); `auto` when it can. */
    localNetwork: 'auto' | 'isolated' | 'host';
    /** The daemon runtime folder (`bin/node`, `daemon.mjs`); `undefined` means the built one. */
    daemonRuntimeDir: string | undefined;
    /** Image recipes and template files; `undefined` means the repository's `images/`. */
    imagesDir: string | undefined;
    /** PEM file of extra CA certificates baked into every image and workspace. */
    extraCaCerts: string | undefined;
  };
  ai: {
    /** Limits of one agent run; reaching one ends the run with a message saying which. */
    maxSteps: number;
    maxRunSeconds: number;
    maxRunTokens: number;
    maxRunCostUsd: number;
    /** Runs a person may start per hour. */
    runsPerHour: number;
    /** US dollars a person may spend per calendar month; 0 means no budget. */
    monthlyBudgetUsd: number;
    /** "ip:port" pairs `fetch_url` may reach although private (an internal docs server). */
    fetchAllow: string[];
  };
  /**
   * Backups the server writes itself: when (`STUDIO_BACKUP_CRON`; none without it, only those an
   * admin asks for), into which folder, how many are kept.
   */
  backups: { cron: string | undefined; dir: string; keep: number };
  /** How often mission environments past their time-to-live are looked for. */
  missionSweepMs: number;
  /**
   * How long a replica's hold on a run or a job lasts without renewal: a replica that dies hands
   * its work to another within about this long.
   */
  leaseMs: number;
}

const nonEmpty = z.string().trim().min(1);
const httpUrl = z
  .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
  .transform((value) => new URL(value));

/** Each variable, its parser and what it allows (the message a person sees when it is wrong). */
const variables = {
  PORT: z.coerce
    .number({ error: 'must be an integer from 1 to 65535' })
    .int('must be an integer from 1 to 65535')
    .min(1, 'must be an integer from 1 to 65535')
    .max(65535, 'must be an integer from 1 to 65535')
    .default(3000),
  HOST: nonEmpty.default('127.0.0.1'),
  STUDIO_DATA_DIR: nonEmpty.default('./.studio'),
  DATABASE_URL: z
    .url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// or postgresql:// URL' })
    .optional(),
  STUDIO_PUBLIC_URL: httpUrl.optional(),
  STUDIO_SECRET: z
    .string()
    .min(32, 'must be at least 32 characters (e.g. `openssl rand -hex 32`)')
    .optional(),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'must be one of fatal, error, warn, info, debug, trace, silent',
    })
    .default('info'),
  STUDIO_TRUST_PROXY: z
    .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
    .default('false')
    .transform((value) => value === 'true' || value === '1'),
  STUDIO_ALLOWED_HOSTS: z
    .string()
    .default('')
    .refine(
      (value) =>
        value.trim() === '' ||
        value.split(',').every((item) => /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/i.test(item.trim())),
      'must be a comma-separated list of host names, like studio.internal,studio',
    )
    .transform((value) =>
      value.trim() === '' ? [] : value.split(',').map((item) => item.trim().toLowerCase()),
    ),
  STUDIO_PREVIEW_DOMAIN: z
    .string()
    .regex(
      /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i,
      'must be a domain name whose subdomains reach this server, like preview.example.com',
    )
    .transform((value) => value.toLowerCase())
    .optional(),
  STUDIO_PUBLIC_METRICS: flag(),
  STUDIO_PUBLIC_API_DOCS: flag(),
  STUDIO_ADMIN_EMAIL: z.email('must be an email address').optional(),
  STUDIO_ADMIN_PASSWORD: z.string().min(10, 'must be at least 10 characters').max(128).optional(),
  STUDIO_GITHUB_CLIENT_ID: nonEmpty.optional(),
  STUDIO_GITHUB_CLIENT_SECRET: nonEmpty.optional(),
  STUDIO_OIDC_ISSUER: httpUrl.optional(),
  STUDIO_OIDC_CLIENT_ID: nonEmpty.optional(),
  STUDIO_OIDC_CLIENT_SECRET: nonEmpty.optional(),
  STUDIO_OIDC_NAME: nonEmpty.default('Single sign-on'),
  STUDIO_RUNTIME: z
    .enum(['local', 'docker', 'kubernetes'], { error: 'must be local, docker or kubernetes' })
    .optional(),
  STUDIO_K8S_NAMESPACE: z
    .string()
    .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'must be a Kubernetes namespace name')
    .optional(),
  STUDIO_K8S_RUNTIME_IMAGE: nonEmpty.optional(),
  STUDIO_K8S_REACH: z
    .enum(['pod-ip', 'port-forward'], { error: 'must be pod-ip or port-forward' })
    .optional(),
  STUDIO_K8S_IMAGE_PULL_POLICY: z
    .enum(['Always', 'IfNotPresent', 'Never'], { error: 'must be Always, IfNotPresent or Never' })
    .optional(),
  STUDIO_K8S_STORAGE_CLASS: nonEmpty.optional(),
  STUDIO_K8S_DISK_LIMITS: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .default('false')
    .transform((value) => value === 'true'),
  DOCKER_HOST: nonEmpty.optional(),
  STUDIO_REBUILD_OUTDATED_IMAGES: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .default('true')
    .transform((value) => value === 'true'),
  STUDIO_HOST_PORTS: portList(),
  STUDIO_DOCKER_HOST_PORTS: portList(),
  STUDIO_LOCAL_NETWORK: z
    .enum(['auto', 'isolated', 'host'], { error: 'must be auto, isolated or host' })
    .default('auto'),
  STUDIO_NETWORK_ALLOW: addressList(),
  STUDIO_AI_FETCH_ALLOW: addressList(),
  STUDIO_LOCAL_SANDBOX: z
    .enum(['auto', 'bwrap', 'none'], { error: 'must be auto, bwrap or none' })
    .default('auto'),
  STUDIO_DAEMON_RUNTIME_DIR: nonEmpty.optional(),
  STUDIO_IMAGES_DIR: nonEmpty.optional(),
  STUDIO_EXTRA_CA_CERTS: nonEmpty.optional(),
  STUDIO_AI_MAX_STEPS: positive('an integer', true).default(40),
  STUDIO_MISSION_SWEEP_SECONDS: positive('an integer', true).default(30),
  STUDIO_LEASE_SECONDS: positive('a number', false).default(6),
  STUDIO_AI_MAX_RUN_SECONDS: positive('an integer', true).default(900),
  STUDIO_AI_MAX_RUN_TOKENS: positive('an integer', true).default(2_000_000),
  STUDIO_AI_MAX_RUN_COST_USD: positive('a number', false).default(5),
  STUDIO_AI_RUNS_PER_HOUR: positive('an integer', true).default(120),
  STUDIO_BACKUP_CRON: nonEmpty
    .refine((value) => {
      try {
        new Cron(value, { paused: true });
        return true;
      } catch {
        return false;
      }
    }, 'must be a cron expression (minute hour day-of-month month day-of-week, in the server\'s time zone), like "0 3 * * *" for 03:00 every day')
    .optional(),
  STUDIO_BACKUP_DIR: nonEmpty.optional(),
  STUDIO_BACKUP_KEEP: positive('an integer', true).default(7),
  STUDIO_AI_MONTHLY_BUDGET_USD: z.coerce
    .number({ error: 'must be a number of US dollars (0 for no budget)' })
    .min(0, 'must be a number of US dollars (0 for no budget)')
    .default(0),
};

function portList() {
  return z
    .string()
    .default('')
    .refine(
      (value) =>
        value.trim() === '' ||
        value
          .split(',')
          .every(
            (item) => /^\d{1,5}$/.test(item.trim()) && Number(item) <= 65_535 && Number(item) > 0,
          ),
      'must be a comma-separated list of TCP ports from 1 to 65535, like 3000,8443',
    )
    .transform((value) =>
      value.trim() === '' ? [] : value.split(',').map((item) => Number(item.trim())),
    );
}

function addressList() {
  return z
    .string()
    .default('')
    .refine(
      (value) =>
        value.trim() === '' ||
        value.split(',').every((item) => /^(\[[0-9a-f:.]+\]|[0-9.]+):\d{1,5}$/i.test(item.trim())),
      'must be a comma-separated list of ip:port pairs, like 10.0.0.5:8080,[fd00::1]:80',
    )
    .transform((value) =>
      value.trim() === ''
        ? []
        : value.split(',').map((item) => item.trim().replace(/^\[(.*)\]:/, '$1:')),
    );
}

function flag() {
  return z
    .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
    .default('false')
    .transform((value) => value === 'true' || value === '1');
}

function positive(kind: 'an integer' | 'a number', integer: boolean) {
  const message = `must be ${kind} above 0`;
  const number = z.coerce.number({ error: message }).positive(message);
  return integer ? number.int(message) : number;
}

type Parsed = { [K in keyof typeof variables]: z.output<(typeof variables)[K]> };

/** Reads and validates the environment; generates and keeps `STUDIO_SECRET` in the data dir when not given. */
export async function loadConfig(env: NodeJS.ProcessEnv, cwd = process.cwd()): Promise<Config> {
  const values = {} as Record<string, unknown>;
  for (const [name, schema] of Object.entries(variables)) {
    const raw = env[name] === '' ? undefined : env[name];
    const result = schema.safeParse(raw);
    if (!result.success) {
      const shown = name.includes('SECRET') || name.includes('PASSWORD') ? '' : ` (got "${raw}")`;
      throw new ConfigError(name, `${result.error.issues[0]?.message ?? 'is not valid'}${shown}`);
    }
    values[name] = result.data;
  }
  const parsed = values as Parsed;
  requireTogether(parsed, ['STUDIO_ADMIN_EMAIL', 'STUDIO_ADMIN_PASSWORD']);
  requireTogether(parsed, ['STUDIO_GITHUB_CLIENT_ID', 'STUDIO_GITHUB_CLIENT_SECRET']);
  requireTogether(parsed, [
    'STUDIO_OIDC_ISSUER',
    'STUDIO_OIDC_CLIENT_ID',
    'STUDIO_OIDC_CLIENT_SECRET',
  ]);

  const dataDir = resolve(cwd, parsed.STUDIO_DATA_DIR);
  const { secret, generated } = await resolveSecret(dataDir, parsed.STUDIO_SECRET);
  // Wildcard and loopback binds are reached in a browser as localhost.
  const browserHost = ['0.0.0.0', '::', '127.0.0.1', '::1'].includes(parsed.HOST)
    ? 'localhost'
    : parsed.HOST;
  return {
    port: parsed.PORT,
    host: parsed.HOST,
    dataDir,
    databaseUrl: parsed.DATABASE_URL,
    publicUrl: parsed.STUDIO_PUBLIC_URL ?? new URL(`http://${browserHost}:${parsed.PORT}`),
    secret,
    secretGenerated: generated,
    logLevel: parsed.LOG_LEVEL,
    ai: {
      maxSteps: parsed.STUDIO_AI_MAX_STEPS,
      maxRunSeconds: parsed.STUDIO_AI_MAX_RUN_SECONDS,
      maxRunTokens: parsed.STUDIO_AI_MAX_RUN_TOKENS,
      maxRunCostUsd: parsed.STUDIO_AI_MAX_RUN_COST_USD,
      runsPerHour: parsed.STUDIO_AI_RUNS_PER_HOUR,
      monthlyBudgetUsd: parsed.STUDIO_AI_MONTHLY_BUDGET_USD,
      // One list for every address rule (fetch_url, git imports); the old name still works.
      fetchAllow: [...new Set([...parsed.STUDIO_NETWORK_ALLOW, ...parsed.STUDIO_AI_FETCH_ALLOW])],
    },
    backups: {
      cron: parsed.STUDIO_BACKUP_CRON,
      dir: resolve(cwd, parsed.STUDIO_BACKUP_DIR ?? join(dataDir, 'backups')),
      keep: parsed.STUDIO_BACKUP_KEEP,
    },
    missionSweepMs: parsed.STUDIO_MISSION_SWEEP_SECONDS * 1000,
    leaseMs: Math.round(parsed.STUDIO_LEASE_SECONDS * 1000),
    trustProxy: parsed.STUDIO_TRUST_PROXY,
    allowedHosts: parsed.STUDIO_ALLOWED_HOSTS,
    previewDomain: parsed.STUDIO_PREVIEW_DOMAIN ?? null,
    publicMetrics: parsed.STUDIO_PUBLIC_METRICS,
    publicApiDocs: parsed.STUDIO_PUBLIC_API_DOCS,
    admin:
      parsed.STUDIO_ADMIN_EMAIL && parsed.STUDIO_ADMIN_PASSWORD
        ? { email: parsed.STUDIO_ADMIN_EMAIL.toLowerCase(), password: parsed.STUDIO_ADMIN_PASSWORD }
        : undefined,
    github:
      parsed.STUDIO_GITHUB_CLIENT_ID && parsed.STUDIO_GITHUB_CLIENT_SECRET
        ? {
            clientId: parsed.STUDIO_GITHUB_CLIENT_ID,
            clientSecret: parsed.STUDIO_GITHUB_CLIENT_SECRET,
          }
        : undefined,
    workspaces: {
      driver: parsed.STUDIO_RUNTIME,
      kubernetes: {
        namespace: parsed.STUDIO_K8S_NAMESPACE,
        runtimeImage: parsed.STUDIO_K8S_RUNTIME_IMAGE,
        reach: parsed.STUDIO_K8S_REACH,
        imagePullPolicy: parsed.STUDIO_K8S_IMAGE_PULL_POLICY,
        storageClass: parsed.STUDIO_K8S_STORAGE_CLASS,
        diskLimits: parsed.STUDIO_K8S_DISK_LIMITS,
      },
      dockerHost: parsed.DOCKER_HOST,
      rebuildOutdatedImages: parsed.STUDIO_REBUILD_OUTDATED_IMAGES,
      dockerHostPorts: [
        ...new Set([...parsed.STUDIO_HOST_PORTS, ...parsed.STUDIO_DOCKER_HOST_PORTS]),
      ],
      localSandbox: parsed.STUDIO_LOCAL_SANDBOX,
      localNetwork: parsed.STUDIO_LOCAL_NETWORK,
      daemonRuntimeDir:
        parsed.STUDIO_DAEMON_RUNTIME_DIR && resolve(cwd, parsed.STUDIO_DAEMON_RUNTIME_DIR),
      imagesDir: parsed.STUDIO_IMAGES_DIR && resolve(cwd, parsed.STUDIO_IMAGES_DIR),
      extraCaCerts: parsed.STUDIO_EXTRA_CA_CERTS && resolve(cwd, parsed.STUDIO_EXTRA_CA_CERTS),
    },
    oidc:
      parsed.STUDIO_OIDC_ISSUER && parsed.STUDIO_OIDC_CLIENT_ID && parsed.STUDIO_OIDC_CLIENT_SECRET
        ? {
            issuer: parsed.STUDIO_OIDC_ISSUER.toString().replace(/\/$/, ''),
            clientId: parsed.STUDIO_OIDC_CLIENT_ID,
            clientSecret: parsed.STUDIO_OIDC_CLIENT_SECRET,
            name: parsed.STUDIO_OIDC_NAME,
          }
        : undefined,
  };
}

function requireTogether(parsed: Parsed, names: Array<keyof Parsed>): void {
  const given = names.filter((name) => parsed[name] !== undefined);
  if (given.length > 0 && given.length < names.length) {
    const missing = names.find((name) => parsed[name] === undefined)!;
    throw new ConfigError(missing, `must be set together with ${given.join(' and ')}`);
  }
}

async function resolveSecret(
  dataDir: string,
  given: string | undefined,
): Promise<{ secret: string; generated: boolean }> {
  if (given) return { secret: given, generated: false };
  const file = join(dataDir, 'secret');
  try {
    const stored = (await readFile(file, 'utf8')).trim();
    if (stored.length >= 32) return { secret: stored, generated: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const secret = randomBytes(32).toString('hex');
  // 'wx' so two servers starting at once cannot overwrite each other's secret.
  try {
    await writeFile(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    return { secret, generated: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return { secret: (await readFile(file, 'utf8')).trim(), generated: false };
  }
}
