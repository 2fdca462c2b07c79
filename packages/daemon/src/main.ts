import { readFileSync, unlinkSync } from 'node:fs';
import { runCredentialHelper } from './credentials.ts';
import { startDaemon } from './index.ts';

// The daemon's whole configuration is its environment (set by the driver); nothing else reads it.
function readConfig() {
  const env = process.env;
  const listen = env.STUDIO_DAEMON_LISTEN;
  const secretFile = env.STUDIO_DAEMON_SECRET_FILE;
  const root = env.STUDIO_WORKSPACE_ROOT;
  if (!listen || !secretFile || !root) {
    throw new Error(
      'STUDIO_DAEMON_LISTEN, STUDIO_DAEMON_SECRET_FILE and STUDIO_WORKSPACE_ROOT must be set',
    );
  }
  const secret = readFileSync(secretFile, 'utf8').trim();
  if (secret.length < 16)
    throw new Error(`The secret in ${secretFile} is shorter than 16 characters`);
  // The workspace's processes run as the daemon's user: once read, the secret leaves the disk
  // (drivers write it again at each start). A read-only mount (a Kubernetes Secret) stays.
  try {
    unlinkSync(secretFile);
  } catch {
    // Read-only, or already gone.
  }
  let startCommands: string[] = [];
  if (env.STUDIO_START_COMMANDS) {
    const parsed: unknown = JSON.parse(env.STUDIO_START_COMMANDS);
    if (!Array.isArray(parsed) || !parsed.every((item) => typeof item === 'string')) {
      throw new Error('STUDIO_START_COMMANDS must be a JSON array of strings');
    }
    startCommands = parsed;
  }
  const networkDevice = env.STUDIO_NETWORK_DEVICE;
  // `skip`: the workspace holds a cloned repository; the image's starter project stays out.
  const starter = env.STUDIO_STARTER !== 'skip';
  // The workspace's own NODE_OPTIONS, kept from this daemon (runtime.ts, daemonEnv).
  const nodeOptions = env.STUDIO_NODE_OPTIONS;
  // Children (terminals, commands) must not see the daemon's settings, least of all the secret file.
  for (const key of Object.keys(env)) {
    if (key.startsWith('STUDIO_')) delete env[key];
  }
  if (nodeOptions !== undefined) env.NODE_OPTIONS = nodeOptions;
  return {
    listen,
    secret,
    root,
    startCommands,
    starter,
    ...(networkDevice ? { networkDevice } : {}),
    shell: env.SHELL ?? null,
    env: { ...env },
    // git runs this same bundle with the same node as its credential helper.
    credentialHelper: { node: process.execPath, script: process.argv[1]! },
  };
}

async function main(): Promise<void> {
  const config = readConfig();
  const daemon = await startDaemon(config);
  console.log(`[daemon] listening on ${daemon.address}, root ${config.root}`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`[daemon] ${signal}: shutting down`);
    // Exit even if something hangs: the driver is waiting for the workspace to stop.
    setTimeout(() => process.exit(0), 3000).unref();
    void daemon.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // A PTY that died mid-write raises EIO on its socket; that is not a reason to take every other
  // terminal down with the daemon.
  process.on('uncaughtException', (error) => console.error('[daemon] uncaught:', error));
}

if (process.argv[2] === 'git-credential') {
  void runCredentialHelper(process.argv.slice(3), process.stdin, process.stdout);
} else {
  main().catch((error: unknown) => {
    console.error(`[daemon] ${(error as Error).message}`);
    process.exit(1);
  });
}
