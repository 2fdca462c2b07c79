// The composition root: the one place that reads the environment and wires concrete services.
import { createHash } from 'node:crypto';
import { chmod, mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BackupError, verifyBackup } from '@studio/backup';
import { routeProviderWarnings } from '@studio/agent';
import { DataDirLockedError, openDatabase } from '@studio/db';
import { CodedError } from '@studio/protocol';
import pino from 'pino';
import { homedir } from 'node:os';
import {
  DockerRuntime,
  KubeConfig,
  KubernetesRuntime,
  LocalRuntime,
  RuntimeError,
  buildTemplateImage,
  defaultCacheDir,
  engineAnswers,
  isReachableByWorkspaces,
  localNetworkAvailable,
  openEngine,
  templateImageState,
  type WorkspaceRuntime,
} from '@studio/runtime';
import type { ImageBuilder } from './workspaces/workspace-service.ts';
import { createApp } from './app.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { prepareFirstRun } from './setup.ts';
import { keepSecret, readHeader, restorePeople, restoreWorkspaces } from './backup/restore.ts';
import { buildServices } from './services.ts';

/** How long in-flight requests get to finish on SIGTERM/SIGINT before the process exits anyway. */
const SHUTDOWN_GRACE_MS = 10_000;

async function main(): Promise<void> {
  let config;
  try {
    config = await loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`config error: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }

  let database;
  try {
    database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  } catch (error) {
    if (error instanceof DataDirLockedError) {
      process.stderr.write(`error: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }

  const imagesDir =
    config.workspaces.imagesDir ?? fileURLToPath(new URL('../../../images', import.meta.url));
  let picked;
  try {
    picked = await pickRuntime(config, imagesDir);
  } catch (error) {
    if (error instanceof ConfigError || error instanceof RuntimeError) {
      process.stderr.write(
        `${error instanceof ConfigError ? 'config ' : ''}error: ${error.message}\n`,
      );
      process.exit(error instanceof ConfigError ? 2 : 1);
    }
    throw error;
  }
  const { app, services } = await createApp({
    config,
    database,
    runtime: picked.runtime,
    images: picked.images,
    templatesDir: join(imagesDir, 'templates'),
  });
  app.log.info(
    { driver: picked.runtime.kind, isolation: picked.runtime.isolation, why: picked.why },
    `workspaces run on the ${picked.runtime.kind} driver`,
  );
  if (picked.runtime instanceof LocalRuntime) {
    for (const note of picked.runtime.notes) app.log.info(note);
    if (picked.runtime.hostNetwork)
      app.log.warn(
        "local workspaces share this machine's network (install slirp4netns for a network each); only you should use this server",
      );
  }
  if (picked.runtime.isolation === 'none') {
    app.log.warn(
      'workspaces run UNSANDBOXED on this machine (no bubblewrap, no container engine); only you should use this server',
    );
  }
  if (!(await picked.runtime.diskLimits())) {
    app.log.warn(
      'template disk sizes are NOT enforced here (they need root for loop-mounted workspace disks): a workspace can fill this machine’s disk',
    );
  }
  routeProviderWarnings((warning) => app.log.warn(warning, 'model provider warning'));
  await services.workspaces.startBackground();
  app.addHook('onClose', async () => database.close());
  if (config.secretGenerated)
    app.log.info(
      { dataDir: config.dataDir },
      'generated STUDIO_SECRET and stored it in the data dir',
    );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'shutting down: finishing in-flight requests');
    setTimeout(() => {
      app.log.error('shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS).unref();
    // Connections busy when close began turn idle later; Node sweeps idle ones only once, so keep sweeping.
    setInterval(() => app.server.closeIdleConnections(), 100).unref();
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        app.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));

  await app.listen({ port: config.port, host: config.host });
  app.log.info(
    { url: config.publicUrl.origin, database: database.kind },
    'Prometheus Studio is running',
  );

  const firstRun = await prepareFirstRun(services);
  if (firstRun && 'setupUrl' in firstRun) {
    app.log.info(
      { setupUrl: firstRun.setupUrl },
      'first run: open the setup link to create the first admin',
    );
    process.stderr.write(
      `\n  First run: create the first admin account at\n\n    ${firstRun.setupUrl}\n\n`,
    );
  } else if (firstRun) {
    app.log.info(
      { email: firstRun.adminCreated },
      'first run: created the admin from STUDIO_ADMIN_EMAIL',
    );
  }
}

/** The driver: `STUDIO_RUNTIME` when set, else Docker when an engine answers, else local. */
async function pickRuntime(
  config: Config,
  imagesDir: string,
): Promise<{ runtime: WorkspaceRuntime; images?: ImageBuilder; why: string }> {
  const daemonRuntimeDir =
    config.workspaces.daemonRuntimeDir ??
    fileURLToPath(new URL('../../../packages/daemon/dist/runtime', import.meta.url));
  const { driver, dockerHost } = config.workspaces;
  // Stable for this installation (replicas share the secret), different for any other.
  const installation = createHash('sha256')
    .update(`studio-installation\0${config.secret}`)
    .digest('hex')
    .slice(0, 16);
  if (driver === 'kubernetes') return pickKubernetes(config, installation);
  if (driver !== 'local') {
    const docker = await openEngine(dockerHost);
    if (await engineAnswers(docker)) {
      const runtime = new DockerRuntime({
        docker,
        runtimeDir: daemonRuntimeDir,
        stateDir: join(config.dataDir, 'docker'),
        allowHostPorts: config.workspaces.dockerHostPorts,
        installation,
      });
      const images: ImageBuilder = {
        state: (template) => templateImageState({ docker, template, imagesDir }),
        ensure: async (template, onProgress) => {
          await buildTemplateImage({
            docker,
            template,
            imagesDir,
            cacheDir: defaultCacheDir(process.env, homedir()),
            extraCaCertsFile: config.workspaces.extraCaCerts,
            onProgress,
          });
        },
      };
      const why = driver === 'docker' ? 'STUDIO_RUNTIME=docker' : 'a container engine answers';
      return { runtime, images, why };
    }
    if (driver === 'docker') {
      throw new ConfigError(
        'STUDIO_RUNTIME',
        `is docker, but no container engine answers at ${dockerHost ?? 'the default socket'}; start Docker or set DOCKER_HOST`,
      );
    }
  }
  // Local workspaces run as an unprivileged user who must pass through (never list) the data
  // dir to reach its own folder; the database and the secret inside stay owner-only.
  await chmod(config.dataDir, 0o711);
  await chmod(join(config.dataDir, 'db'), 0o700).catch(() => {});
  let dir = join(config.dataDir, 'workspaces');
  if (process.getuid?.() === 0 && !(await isReachableByWorkspaces(dir))) {
    // Root's home (0700) is the usual case: keep workspaces where the workspace user can reach.
    const key = createHash('sha256').update(config.dataDir).digest('hex').slice(0, 12);
    dir = join('/var/lib/prometheus-studio', `workspaces-${key}`);
    await mkdir(dirname(dir), { recursive: true, mode: 0o711 });
  }
  const runtime = await LocalRuntime.open({
    dir,
    runtimeDir: daemonRuntimeDir,
    sandbox: config.workspaces.localSandbox,
    network: localNetwork(config),
    allowHostPorts: config.workspaces.dockerHostPorts,
  });
  const why = driver === 'local' ? 'STUDIO_RUNTIME=local' : 'no container engine answers';
  return { runtime, why };
}

/**
 * Each local workspace gets a network of its own when bubblewrap and slirp4netns are here
 * (`auto`), so several people can share the machine; `isolated` insists, `host` shares the
 * host's network (one person, who can then reach their own machine's services from workspaces).
 */
function localNetwork(config: Config): 'isolated' | 'host' {
  const asked = config.workspaces.localNetwork;
  if (asked !== 'auto') return asked;
  return config.workspaces.localSandbox !== 'none' && localNetworkAvailable() ? 'isolated' : 'host';
}

/**
 * Workspaces as pods: the kubeconfig from KUBECONFIG or ~/.kube/config, else the pod's own
 * service account. Inside a cluster the server reaches daemons at their pod IPs.
 */
async function pickKubernetes(config: Config, installation: string) {
  const settings = config.workspaces.kubernetes;
  if (!settings.runtimeImage) {
    throw new ConfigError(
      'STUDIO_K8S_RUNTIME_IMAGE',
      'must name the daemon runtime image when STUDIO_RUNTIME=kubernetes (`npm run images:k8s` builds one; see the README, "On Kubernetes")',
    );
  }
  const kubeConfig = new KubeConfig();
  try {
    kubeConfig.loadFromDefault();
  } catch (error) {
    throw new ConfigError(
      'KUBECONFIG',
      `could not be read: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const inCluster = Boolean(process.env.KUBERNETES_SERVICE_HOST);
  const namespace =
    settings.namespace ??
    (await readFile('/var/run/secrets/kubernetes.io/serviceaccount/namespace', 'utf8')
      .then((text) => text.trim())
      .catch(() => 'default'));
  const runtime = await KubernetesRuntime.open({
    kubeConfig,
    reach: settings.reach ?? (inCluster ? 'pod-ip' : 'port-forward'),
    diskLimits: settings.diskLimits,
    placement: {
      namespace,
      installation,
      runtimeImage: settings.runtimeImage,
      imagePullPolicy: settings.imagePullPolicy,
      storageClassName: settings.storageClass,
    },
  });
  return { runtime, why: `STUDIO_RUNTIME=kubernetes, namespace ${namespace}` };
}

/**
 * `restore --from DIR`: a backup into this machine's data dir (or empty database) and driver,
 * with the server stopped. Progress goes to stderr; a failure names what was wrong.
 */
async function restoreCommand(args: string[]): Promise<void> {
  const from = args[args.indexOf('--from') + 1];
  if (!args.includes('--from') || !from) {
    process.stderr.write('usage: studio restore --from DIR\n');
    process.exit(2);
  }
  const say = (line: string) => process.stderr.write(`restore: ${line}\n`);
  const started = Date.now();
  try {
    const manifest = await verifyBackup(from, say);
    const header = await readHeader(from);
    const given = process.env.STUDIO_SECRET;
    const config = await loadConfig({ ...process.env, STUDIO_SECRET: given ?? header.secret });
    await mkdir(config.dataDir, { recursive: true });
    await keepSecret(config.dataDir, header, given);
    const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
    try {
      const imagesDir =
        config.workspaces.imagesDir ?? fileURLToPath(new URL('../../../images', import.meta.url));
      const people = await restorePeople(from, header, database, say);
      const picked = await pickRuntime(config, imagesDir);
      const services = await buildServices({
        config,
        database,
        logger: pino({ level: 'warn' }, pino.destination(2)),
        now: () => new Date(),
        runtime: picked.runtime,
        images: picked.images,
        templatesDir: join(imagesDir, 'templates'),
        leaseMs: config.leaseMs,
      });
      const restored = await restoreWorkspaces(
        from,
        manifest,
        header,
        database,
        services.workspaces,
        say,
      );
      await picked.runtime.close();
      say(
        `restored ${people} ${people === 1 ? 'person' : 'people'} and ${restored} workspace${restored === 1 ? '' : 's'} (${picked.runtime.kind} driver) from the backup of ${header.createdAt} in ${((Date.now() - started) / 1000).toFixed(1)} s. Start the server; everyone signs in again.`,
      );
    } finally {
      await database.close();
    }
  } catch (error) {
    if (
      error instanceof BackupError ||
      error instanceof CodedError ||
      error instanceof ConfigError ||
      error instanceof DataDirLockedError
    ) {
      process.stderr.write(`restore failed: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

(process.argv[2] === 'restore' ? restoreCommand(process.argv.slice(3)) : main()).catch(
  (error: unknown) => {
    process.stderr.write(
      `fatal: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
