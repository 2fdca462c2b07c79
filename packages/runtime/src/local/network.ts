import { execFile, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { RuntimeError } from '../runtime.ts';

const run = promisify(execFile);

/** The address slirp4netns gives its host's loopback inside the workspace (when allowed). */
export const HOST_LOOPBACK_ALIAS = '10.0.2.2';
/** slirp4netns's DNS forwarder inside the workspace. */
const SLIRP_DNS = '10.0.2.3';
const TAP = 'tap0';
/** Link-local: cloud metadata services (169.254.169.254) live here. */
const LINK_LOCAL = '169.254.0.0/16';
const ATTACH_TIMEOUT_MS = 10_000;
const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

let slirpProbe: boolean | undefined;
/** Whether user-mode networking (slirp4netns, from Debian) is installed and runs. */
export function slirpAvailable(): boolean {
  // Asked once per process, for the reason bwrapWorks gives.
  slirpProbe ??=
    spawnSync('slirp4netns', ['--version'], { stdio: 'ignore', timeout: 30_000 }).status === 0;
  return slirpProbe;
}

/** The resolver a sandbox with its own network uses: slirp4netns's forwarder. */
export const RESOLV_CONF = `nameserver ${SLIRP_DNS}\n`;

/**
 * A group id no account on this host has: slirp4netns runs with it, so the firewall can tell its
 * connections (the workspaces' outbound traffic) from everything else on the host.
 */
export async function pickNetworkGid(allowHostPorts: readonly number[]): Promise<number> {
  const groups = await readFile('/etc/group', 'utf8').catch(() => '');
  const taken = new Set(groups.split('\n').map((line) => Number(line.split(':')[2])));
  // Servers on one host with different open ports need rules of their own: a group each.
  const spread = allowHostPorts.length
    ? Number.parseInt(
        createHash('sha256').update(allowHostPorts.join(',')).digest('hex').slice(0, 6),
        16,
      ) % 2000
    : 0;
  for (let gid = 64_990 - spread; gid > 60_000; gid--) if (!taken.has(gid)) return gid;
  throw new RuntimeError('isolation_unavailable', 'no free group id for workspace networking');
}

/**
 * Root only, best effort: the workspaces' outbound traffic (slirp4netns, group `gid`) may not
 * reach the host's own addresses (any of them, loopback included) or link-local metadata
 * services, except DNS and the host ports an admin opened. Returns lines for the log.
 */
export async function installLocalFirewall(
  gid: number,
  allowHostPorts: readonly number[],
): Promise<string[]> {
  const iptables = (...args: string[]) => run('iptables', ['-w', '5', ...args]);
  const CHAIN = `STUDIO-NET-${gid}`;
  try {
    await iptables('-N', CHAIN).catch(() => {});
    await iptables('-F', CHAIN);
    const rules: string[][] = [
      ...['udp', 'tcp'].map((protocol) => ['-p', protocol, '--dport', '53', '-j', 'RETURN']),
      ...allowHostPorts.map((port) => [
        '-p',
        'tcp',
        '-d',
        '127.0.0.0/8',
        '--dport',
        String(port),
        '-j',
        'RETURN',
      ]),
      ['-m', 'addrtype', '--dst-type', 'LOCAL', '-j', 'REJECT'],
      ['-d', LINK_LOCAL, '-j', 'REJECT'],
    ];
    for (const rule of rules) await iptables('-A', CHAIN, ...rule);
    const jump = ['-m', 'owner', '--gid-owner', String(gid), '-j', CHAIN];
    await iptables('-C', 'OUTPUT', ...jump).catch(() => iptables('-I', 'OUTPUT', '1', ...jump));
    return [
      `firewall: local workspaces (slirp4netns, gid ${gid}) cannot open connections to this host` +
        `${allowHostPorts.length ? ` (except TCP ports ${allowHostPorts.join(', ')})` : ''} or ${LINK_LOCAL}`,
    ];
  } catch (error) {
    return [
      `firewall rules for local workspaces not installed (${(error as Error).message.split('\n')[0]}): ` +
        "they reach the internet and this host's network addresses, never its loopback",
    ];
  }
}

/**
 * The command that gives what it runs a network namespace of its own, in a user namespace
 * owned by the workspace user. bwrap then runs inside it (without `--unshare-net`): its own
 * nested user namespaces would own a namespace that slirp4netns, as that user, cannot join.
 */
export const OWN_NETWORK = ['unshare', '--user', '--map-root-user', '--net', '--'];

/**
 * The pid of the process holding the workspace's network namespace: the launcher shell's child
 * once it has become bwrap (after setpriv and unshare exec'd into it).
 */
export async function namespaceHolder(shellPid: number): Promise<number> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const children = await readFile(`/proc/${shellPid}/task/${shellPid}/children`, 'utf8').catch(
      () => null,
    );
    if (children === null) break;
    for (const child of children.trim().split(/\s+/).filter(Boolean)) {
      const cmdline = await readFile(`/proc/${child}/cmdline`, 'utf8').catch(() => '');
      if (cmdline.startsWith('bwrap\0')) return Number(child);
    }
    await sleep(5);
  }
  throw new RuntimeError('unavailable', 'The workspace sandbox did not start (no bwrap process).');
}

/** Who runs the network helper and where its output goes. */
export interface AttachOptions {
  /** The process holding the workspace's network namespace (and its user namespace). */
  pid: number;
  /** When the server is root: run slirp4netns as the workspace user with the network group. */
  credentials: { uid: number; gid: number } | null;
  /** Let the workspace reach the host's loopback at 10.0.2.2 (only ports the firewall opens). */
  hostLoopback: boolean;
  /** cgroup.procs files the helper joins (it counts against the workspace's limits). */
  procsFiles: string[];
  logFile: string;
}

/**
 * Gives the sandbox with `pid` a network: slirp4netns (user-mode TCP/IP, no privileges) behind
 * a tap device, NAT to the host's network, DNS forwarded, the host's loopback unreachable.
 * Resolves with the helper's pid once the device is configured.
 */
export async function attachNetwork(options: AttachOptions): Promise<number> {
  const argv = [
    'slirp4netns',
    '--configure',
    '--mtu=65520',
    ...(options.hostLoopback ? [] : ['--disable-host-loopback']),
    '--ready-fd=3',
    // The sandbox's network belongs to its user namespace: join that first.
    `--userns-path=/proc/${options.pid}/ns/user`,
    String(options.pid),
    TAP,
  ];
  const command = options.credentials
    ? [
        'setpriv',
        `--reuid=${options.credentials.uid}`,
        `--regid=${options.credentials.gid}`,
        '--clear-groups',
        '--',
        ...argv,
      ]
    : argv;
  const log = openSync(options.logFile, 'a');
  // Joins the workspace's cgroups before it execs, like the daemon's launcher.
  const child = spawn(
    '/bin/sh',
    [
      '-c',
      'for f in $STUDIO_CGROUP_PROCS; do echo $$ > "$f" || exit 97; done; unset STUDIO_CGROUP_PROCS; exec "$@"',
      'studio-network',
      ...command,
    ],
    {
      env: {
        PATH: SYSTEM_PATH,
        STUDIO_CGROUP_PROCS: options.procsFiles.join(' '),
      },
      stdio: ['ignore', log, log, 'pipe'],
      detached: true,
    },
  );
  closeSync(log);
  child.unref();
  const ready = child.stdio[3] as Readable;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => fail(`it did not configure ${TAP} within ${ATTACH_TIMEOUT_MS / 1000} s`),
      ATTACH_TIMEOUT_MS,
    );
    const fail = (why: string) => {
      clearTimeout(timer);
      ready.destroy();
      reject(
        new RuntimeError(
          'isolation_unavailable',
          `The workspace's network (slirp4netns) did not come up: ${why}; see ${options.logFile}.`,
        ),
      );
    };
    const exited = (code: number | null, signal: string | null) =>
      fail(`it exited with ${signal ?? `code ${code}`}`);
    ready.once('data', () => {
      clearTimeout(timer);
      child.off('exit', exited);
      ready.destroy();
      resolve();
    });
    child.once('exit', exited);
  });
  if (child.pid === undefined) throw new RuntimeError('internal', 'slirp4netns has no pid');
  return child.pid;
}
