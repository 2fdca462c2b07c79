import type { ChildProcess } from 'node:child_process';
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { CredentialBroker, credentialHelperEnv } from './credentials.ts';
import { killExec } from './exec.ts';
import { createDaemonState } from './methods.ts';
import { createDaemonServer, type ListenAddress } from './server.ts';
import { runStartCommands, waitForDevice } from './start-commands.ts';
import { copyStarter } from './starter.ts';

export { createArchiveGuard, DEFAULT_UPLOAD_MAX_BYTES, type ArchiveGuard } from './archive.ts';
export { DaemonFailure } from './errors.ts';
export { contentVersion, isBinary, writeFileAtomic, FileService } from './files.ts';
export { DAEMON_VERSION } from './info.ts';
export { resolveInRoot, isInside, toWorkspacePath } from './paths.ts';
export { parseProcNetTcp, listPorts } from './ports.ts';
export { ScrollbackBuffer } from './pty.ts';
export { searchText } from './search.ts';
export { OutStream } from './streams.ts';
export type { ListenAddress } from './server.ts';

/** Everything the daemon needs; `main.ts` builds this from the environment. */
export interface StartDaemonOptions {
  /** `unix:/path/daemon.sock`, `tcp:HOST:PORT`, or the parsed form. */
  listen: string | ListenAddress;
  secret: string;
  /** The workspace root: every file operation stays below it; the default cwd. */
  root: string;
  /** The environment children inherit (without the daemon's own settings). */
  env: NodeJS.ProcessEnv;
  /** Shell for terminals that name no command (`$SHELL`); `null` picks bash, else sh. */
  shell?: string | null;
  startCommands?: string[];
  /** Copy the image's starter project into a new home first (default true; not for a cloned repository). */
  starter?: boolean;
  /** A network device attached after the daemon started (`tap0`): start commands wait for it. */
  networkDevice?: string;
  /**
   * How to run this daemon as git's credential helper (`node script git-credential`). When set,
   * every terminal and command gets git configuration pointing at it; see `credentials.ts`.
   */
  credentialHelper?: { node: string; script: string };
}

/** A running daemon. */
export interface RunningDaemon {
  /** `unix:/path` or `tcp:host:port`. */
  address: string;
  /** Stop listening and kill terminals, commands and start commands. */
  close(): Promise<void>;
}

/** Parse a listen address: `unix:/path` or `tcp:HOST:PORT` (IPv6 hosts in brackets). */
export function parseListenAddress(value: string): ListenAddress {
  if (value.startsWith('unix:') && value.length > 5) return { kind: 'unix', path: value.slice(5) };
  const tcp = /^tcp:(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(value);
  if (tcp && Number(tcp[3]) <= 65_535) {
    return { kind: 'tcp', host: tcp[1] ?? tcp[2]!, port: Number(tcp[3]) };
  }
  throw new Error(`Invalid listen address "${value}": use unix:/path/daemon.sock or tcp:HOST:PORT`);
}

/** Start the workspace daemon. */
export async function startDaemon(options: StartDaemonOptions): Promise<RunningDaemon> {
  const root = await realpath(options.root);
  const listen =
    typeof options.listen === 'string' ? parseListenAddress(options.listen) : options.listen;
  const credentials = new CredentialBroker();
  let env = options.env;
  let helperSocket: { socketPath: string; close(): Promise<void> } | null = null;
  if (options.credentialHelper) {
    // Beside the daemon's own socket: a folder of the daemon's that the file API cannot reach.
    helperSocket = await credentials.listen(
      listen.kind === 'unix' ? path.dirname(listen.path) : null,
    );
    env = {
      ...env,
      ...credentialHelperEnv(env, { ...options.credentialHelper, ...helperSocket }),
    };
  }
  const state = createDaemonState(root, env, options.shell ?? null, credentials);
  const server = await createDaemonServer({ listen, secret: options.secret, state });
  const startChildren: ChildProcess[] = [];
  // The starter project first: a start command may run it. A dev server's `npm install` needs the
  // network: the device comes up just after the daemon.
  void Promise.all([
    options.starter === false
      ? null
      : copyStarter(root).catch((error: unknown) =>
          console.error(`[daemon] could not copy the starter project: ${String(error)}`),
        ),
    options.networkDevice ? waitForDevice(options.networkDevice) : null,
  ]).then(() =>
    startChildren.push(
      ...runStartCommands(options.startCommands ?? [], {
        cwd: root,
        env: options.env,
        output: { stdout: process.stdout, stderr: process.stderr },
      }),
    ),
  );
  let closing: Promise<void> | null = null;
  return {
    address: server.address,
    close: () =>
      (closing ??= (async () => {
        state.ptys.closeAll();
        state.collab.closeAll();
        for (const child of state.running) killExec(child);
        for (const child of startChildren) {
          if (child.pid !== undefined && child.exitCode === null) {
            try {
              process.kill(-child.pid, 'SIGTERM');
            } catch {
              // Already gone.
            }
          }
        }
        await server.close();
        await helperSocket?.close();
      })()),
  };
}
