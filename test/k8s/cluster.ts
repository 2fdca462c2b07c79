// A real Kubernetes cluster for tests. Tier 1: Debian's etcd and a kube-apiserver built from
// Debian's source by `.ci/k8s.sh`, with certificates made by openssl for this cluster only; no
// kubelet, so objects are stored and watched and nothing runs. Tier 2 (`{ nodes: true }`) adds
// kube-controller-manager, kube-scheduler, a containerd of its own and one kubelet, so pods run.
// Give each test its own namespace.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, createWriteStream, existsSync, statfsSync } from 'node:fs';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { connect, createServer } from 'node:net';
import { homedir, networkInterfaces, tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The Kubernetes version `.ci/k8s.sh` builds. */
export const K8S_VERSION = '1.20.2';

/** Paths of the programs a tier-1 cluster runs, and with `nodes` those a tier-2 cluster adds. */
export interface K8sBinaries {
  kubeApiserver: string;
  etcd: string;
  openssl: string;
  nodes?: NodeBinaries;
}

/** Paths of what a tier-2 cluster adds: the other control-plane parts and one node. */
export interface NodeBinaries {
  kubeControllerManager: string;
  kubeScheduler: string;
  kubelet: string;
  containerd: string;
  ctr: string;
  unshare: string;
  nsenter: string;
  ip: string;
  cniDir: string;
  /** The sandbox image as a `docker save` archive, built by `.ci/k8s.sh`. */
  pauseArchive: string;
}

/** The node of a tier-2 cluster. */
export interface TestNode {
  name: string;
  /** The node's IP: pods reach this machine, and the API server, there. */
  address: string;
  /** Import a `docker save` archive into the node's containerd; pods use `imagePullPolicy: Never`. */
  importImages(archive: Readable): Promise<void>;
}

/** A running cluster: an admin kubeconfig (system:masters), the API server's URL, and its node. */
export interface TestCluster {
  kubeconfigPath: string;
  server: string;
  /** Only in a cluster started with `{ nodes: true }`. */
  node?: TestNode;
  stop(): Promise<void>;
}

function onPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const path = join(dir, name);
    if (isExecutable(path)) return path;
  }
  return null;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The binaries tier 1 (with `nodes`, tier 2) needs, or null with a warning naming `what` is
 * skipped. Under `STUDIO_REQUIRE_K8S=1` (CI) missing binaries are a failure instead.
 */
export function k8sBinaries(what: string, { nodes = false } = {}): K8sBinaries | null {
  // Where `.ci/k8s.sh` caches its build (it exports STUDIO_K8S_BIN when sourced).
  const binDir =
    process.env.STUDIO_K8S_BIN ??
    join(
      process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'),
      'prometheus-studio',
      'k8s',
      `v${K8S_VERSION}`,
      'bin',
    );
  const kubeApiserver = isExecutable(join(binDir, 'kube-apiserver'))
    ? join(binDir, 'kube-apiserver')
    : null;
  const etcd = onPath('etcd');
  const openssl = onPath('openssl');
  const missing = [
    kubeApiserver ? null : `kube-apiserver in ${binDir} (run .ci/k8s.sh)`,
    etcd ? null : 'etcd on PATH (Debian: etcd-server)',
    openssl ? null : 'openssl on PATH',
  ];
  let nodeBinaries: NodeBinaries | undefined;
  if (nodes) {
    const inBin = (name: string) => (isExecutable(join(binDir, name)) ? join(binDir, name) : null);
    const found = {
      kubeControllerManager: inBin('kube-controller-manager'),
      kubeScheduler: inBin('kube-scheduler'),
      kubelet: inBin('kubelet'),
      containerd: onPath('containerd'),
      ctr: onPath('ctr'),
      unshare: onPath('unshare'),
      nsenter: onPath('nsenter'),
      ip: onPath('ip') ?? (isExecutable('/usr/sbin/ip') ? '/usr/sbin/ip' : null),
      cniDir: isExecutable('/usr/lib/cni/bridge') ? '/usr/lib/cni' : null,
      // `.ci/k8s.sh` builds it next to bin/.
      pauseArchive: existsSync(join(dirname(binDir), 'pause.tar'))
        ? join(dirname(binDir), 'pause.tar')
        : null,
    };
    const absent = Object.entries(found)
      .filter(([, path]) => path === null)
      .map(([name]) => name);
    // The node's images come from a Docker Engine (importFromDocker); its socket must be there.
    const dockerHost = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
    const engine = !dockerHost.startsWith('unix://') || existsSync(dockerHost.slice(7));
    if (absent.length > 0) missing.push(`${absent.join(', ')} (run .ci/k8s.sh)`);
    else if (!engine) missing.push(`Docker Engine at ${dockerHost}, whose images a node imports`);
    // Mounts, cgroups and network interfaces: a node needs root.
    else if (process.getuid?.() !== 0) missing.push('root, which a test node needs');
    else nodeBinaries = found as NodeBinaries;
  }
  if (kubeApiserver && etcd && openssl && missing.every((what) => what === null))
    return { kubeApiserver, etcd, openssl, ...(nodeBinaries ? { nodes: nodeBinaries } : {}) };
  const why = `no ${missing.filter((what) => what !== null).join(', no ')}`;
  if (process.env.STUDIO_REQUIRE_K8S === '1') throw new Error(`STUDIO_REQUIRE_K8S=1 but ${why}`);
  console.warn(`${why}: skipping ${what}`);
  return null;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

/**
 * The address the node registers and its kubelet listens on. Not 127.0.0.1: the kubelet refuses
 * a loopback node IP, and the API server reaches kubelets (logs, exec) at their node IP.
 */
async function nodeAddress(ip: string): Promise<string> {
  // The source address of the default route; a lookup only, nothing is sent.
  const route = await run(ip, ['-o', '-4', 'route', 'get', '1.1.1.1']).catch(() => null);
  const source = route?.stdout.match(/\bsrc (\d+\.\d+\.\d+\.\d+)/)?.[1];
  if (source) return source;
  const any = Object.values(networkInterfaces())
    .flat()
    .find((address) => address && address.family === 'IPv4' && !address.internal);
  if (!any) throw new Error('no IPv4 address other than loopback for the test node');
  return any.address;
}

/**
 * Certificates and keys for one cluster, all signed by a CA made for it; with `node`, also
 * those of the tier-2 parts.
 */
async function makeCertificates(
  openssl: string,
  dir: string,
  node?: { name: string; address: string },
): Promise<void> {
  const ssl = (...args: string[]) => run(openssl, args, { cwd: dir });
  /** `name`.key and `name`.crt, signed by the CA unless `selfSigned`, valid for two days. */
  const certificate = (name: string, subject: string, extensions: string[], selfSigned = false) =>
    ssl(
      'req',
      '-x509',
      // P-256: generated in milliseconds, and Go accepts it for TLS and service-account tokens.
      ...['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
      ...['-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', subject],
      ...(selfSigned ? [] : ['-CA', 'ca.crt', '-CAkey', 'ca.key']),
      ...extensions.flatMap((extension) => ['-addext', extension]),
    );
  await certificate(
    'ca',
    '/CN=studio-test-ca',
    ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign'],
    true,
  );
  await Promise.all([
    // 10.96.0.1 and the kubernetes.default names: how pods reach this server once kubelets join.
    certificate('apiserver', '/CN=kube-apiserver', [
      'basicConstraints=critical,CA:FALSE',
      'extendedKeyUsage=serverAuth',
      `subjectAltName=IP:127.0.0.1,IP:10.96.0.1,${node ? `IP:${node.address},` : ''}DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local`,
    ]),
    certificate('admin', '/O=system:masters/CN=studio-admin', [
      'basicConstraints=critical,CA:FALSE',
      'extendedKeyUsage=clientAuth',
    ]),
    ssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'service-account.key'),
  ]);
  if (node) {
    const client = ['basicConstraints=critical,CA:FALSE', 'extendedKeyUsage=clientAuth'];
    await Promise.all([
      // The names RBAC's bootstrap bindings and the Node authorizer expect.
      certificate('controller-manager', '/CN=system:kube-controller-manager', client),
      certificate('scheduler', '/CN=system:kube-scheduler', client),
      certificate('node', `/O=system:nodes/CN=system:node:${node.name}`, client),
      // How the API server proves itself to the kubelet for logs and exec.
      certificate('apiserver-kubelet-client', '/CN=kube-apiserver-kubelet-client', client),
      certificate('kubelet', `/CN=${node.name}`, [
        'basicConstraints=critical,CA:FALSE',
        'extendedKeyUsage=serverAuth',
        `subjectAltName=IP:${node.address},DNS:${node.name}`,
      ]),
    ]);
  }
  await ssl('ec', '-in', 'service-account.key', '-pubout', '-out', 'service-account.pub');
}

function kubeconfig(dir: string, server: string, user = 'admin'): string {
  // JSON is YAML: kubectl and @kubernetes/client-node both read this.
  return JSON.stringify(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        { name: 'studio-test', cluster: { server, 'certificate-authority': join(dir, 'ca.crt') } },
      ],
      users: [
        {
          name: 'studio-admin',
          user: {
            'client-certificate': join(dir, `${user}.crt`),
            'client-key': join(dir, `${user}.key`),
          },
        },
      ],
      contexts: [
        { name: 'studio-test', context: { cluster: 'studio-test', user: 'studio-admin' } },
      ],
      'current-context': 'studio-test',
    },
    null,
    2,
  );
}

/** Start a process with its output in `logPath`; `onExit` hears of its end, expected or not. */
function startProcess(
  command: string,
  args: string[],
  logPath: string,
  onExit: (error: Error) => void,
): ChildProcess {
  const log = createWriteStream(logPath);
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  child.once('error', onExit);
  child.once('exit', (code, signal) =>
    onExit(new Error(`${command} exited (${signal ?? code}); log: ${logPath}`)),
  );
  return child;
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const killLater = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await gone;
  clearTimeout(killLater);
}

interface AdminCredentials {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

/** GET `path` as the admin; resolves with the status and body, or status 0 if nothing answers. */
function adminGet(
  credentials: AdminCredentials,
  server: string,
  path: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = request(new URL(path, server), { ...credentials, timeout: 2_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', () => resolve({ status: 0, body: '' }));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve({ status: 0, body: '' }));
    req.end();
  });
}

async function tail(path: string, lines = 30): Promise<string> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text.split('\n').slice(-lines).join('\n');
}

/** Whether something accepts connections on the unix socket at `path`. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** `docker save` of `images` from the engine at DOCKER_HOST, into the node's containerd. */
export async function importFromDocker(node: TestNode, images: string[]): Promise<void> {
  const save = spawn('docker', ['save', ...images], { stdio: ['ignore', 'pipe', 'inherit'] });
  const saved = new Promise<void>((resolve, reject) => {
    save.once('error', reject);
    save.once('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`docker save ${images.join(' ')} exited (${code})`)),
    );
  });
  await Promise.all([node.importImages(save.stdout), saved]);
}

/** Undo steps, run last first by `stop()`; each one must be safe to run after a failed start. */
type Cleanup = () => Promise<void>;

/**
 * Start etcd and kube-apiserver on free 127.0.0.1 ports with a fresh data directory, and resolve
 * once the API server's /readyz answers 200 (RBAC's bootstrap roles are in place by then). With
 * `nodes` (binaries from `k8sBinaries(what, { nodes: true })`), also start the rest of a cluster
 * and one node, and resolve once the node is Ready. Tier 2 needs root.
 */
export async function startCluster(
  binaries: K8sBinaries,
  { readyTimeoutMs = 60_000, nodes = false } = {},
): Promise<TestCluster> {
  if (nodes && !binaries.nodes)
    throw new Error('startCluster({ nodes: true }) needs k8sBinaries(what, { nodes: true })');
  // etcd fsyncs every write and 3.4 has no --unsafe-no-fsync; on tmpfs the fsyncs cost nothing.
  const dir = await mkdtemp(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'studio-k8s-'));
  const processes: ChildProcess[] = [];
  const cleanups: Cleanup[] = [];
  // A test process that dies without calling stop() must not leave a cluster running.
  const killOnExit = () => processes.forEach((child) => child.kill('SIGKILL'));
  process.once('exit', killOnExit);

  const stop = async () => {
    process.off('exit', killOnExit);
    // Last started first: the kubelet before its containerd, the API server before etcd (so it
    // does not spend its last seconds retrying a gone etcd).
    for (const cleanup of cleanups.splice(0).reverse()) {
      await cleanup().catch((error: unknown) => console.warn('stopping the test cluster:', error));
    }
    await rm(dir, { recursive: true, force: true });
  };

  // Set when a process ends before stop(): readiness then fails at once.
  let earlyExit: Error | undefined;
  const exited = () => earlyExit;
  const launch = (command: string, args: string[], logName: string) => {
    const child = startProcess(command, args, join(dir, logName), (error) => {
      earlyExit ??= error;
    });
    processes.push(child);
    cleanups.push(() => stopProcess(child));
    return child;
  };
  const logsOf = async (names: string[]) =>
    (await Promise.all(names.map(async (name) => `${name}:\n${await tail(join(dir, name))}`))).join(
      '\n',
    );

  try {
    const suffix = randomBytes(3).toString('hex');
    const node = nodes
      ? { name: `studio-node-${suffix}`, address: await nodeAddress(binaries.nodes!.ip) }
      : undefined;
    const [, etcdClientPort, etcdPeerPort, apiPort] = await Promise.all([
      makeCertificates(binaries.openssl, dir, node),
      freePort(),
      freePort(),
      freePort(),
    ]);
    const etcdUrl = `http://127.0.0.1:${etcdClientPort}`;
    const peerUrl = `http://127.0.0.1:${etcdPeerPort}`;
    launch(
      binaries.etcd,
      [
        '--name=studio-test',
        `--data-dir=${join(dir, 'etcd')}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=studio-test=${peerUrl}`,
        '--logger=zap',
        '--log-level=warn',
      ],
      'etcd.log',
    );

    const server = `https://127.0.0.1:${apiPort}`;
    launch(
      binaries.kubeApiserver,
      [
        `--etcd-servers=${etcdUrl}`,
        // With a node, pods (the platform's own server) reach this server at the node's address.
        `--bind-address=${node ? '0.0.0.0' : '127.0.0.1'}`,
        `--advertise-address=${node?.address ?? '127.0.0.1'}`,
        `--secure-port=${apiPort}`,
        // 1.20 still serves an unauthenticated port on 127.0.0.1:8080 unless told not to; two
        // clusters would collide on it.
        '--insecure-port=0',
        `--cert-dir=${dir}`,
        `--tls-cert-file=${join(dir, 'apiserver.crt')}`,
        `--tls-private-key-file=${join(dir, 'apiserver.key')}`,
        `--client-ca-file=${join(dir, 'ca.crt')}`,
        '--authorization-mode=Node,RBAC',
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${join(dir, 'service-account.pub')}`,
        `--service-account-signing-key-file=${join(dir, 'service-account.key')}`,
        '--service-cluster-ip-range=10.96.0.0/12',
        // Added to 1.20's defaults (which include NamespaceLifecycle and ServiceAccount):
        // NodeRestriction keeps a kubelet to its own node once kubelets join.
        '--enable-admission-plugins=NodeRestriction',
        '--allow-privileged=true',
        '--profiling=false',
        ...(nodes
          ? [
              `--kubelet-client-certificate=${join(dir, 'apiserver-kubelet-client.crt')}`,
              `--kubelet-client-key=${join(dir, 'apiserver-kubelet-client.key')}`,
              `--kubelet-certificate-authority=${join(dir, 'ca.crt')}`,
              // The node's host name resolves nowhere.
              '--kubelet-preferred-address-types=InternalIP',
            ]
          : []),
      ],
      'kube-apiserver.log',
    );

    const credentials = {
      ca: await readFile(join(dir, 'ca.crt')),
      cert: await readFile(join(dir, 'admin.crt')),
      key: await readFile(join(dir, 'admin.key')),
    };
    const deadline = Date.now() + readyTimeoutMs;
    for (;;) {
      if (exited() || Date.now() > deadline) {
        const why = exited()?.message ?? `kube-apiserver not ready within ${readyTimeoutMs} ms`;
        throw new Error(`${why}\n${await logsOf(['etcd.log', 'kube-apiserver.log'])}`);
      }
      if ((await adminGet(credentials, server, '/readyz')).status === 200) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    const kubeconfigPath = join(dir, 'kubeconfig');
    await writeFile(kubeconfigPath, kubeconfig(dir, server));
    if (!nodes) return { kubeconfigPath, server, stop };

    const testNode = await startNode({
      binaries: binaries.nodes!,
      dir,
      server,
      node: node!,
      suffix,
      launch,
      cleanups,
    });
    const nodeLogs = [
      'containerd.log',
      'kubelet.log',
      'kube-controller-manager.log',
      'kube-scheduler.log',
    ];
    for (;;) {
      if (exited() || Date.now() > deadline) {
        const why = exited()?.message ?? `node ${node!.name} not Ready within ${readyTimeoutMs} ms`;
        throw new Error(`${why}\n${await logsOf(nodeLogs)}`);
      }
      const { status, body } = await adminGet(credentials, server, `/api/v1/nodes/${node!.name}`);
      if (status === 200) {
        const conditions: { type: string; status: string }[] =
          JSON.parse(body).status?.conditions ?? [];
        if (conditions.some(({ type, status }) => type === 'Ready' && status === 'True')) break;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    return { kubeconfigPath, server, node: testNode, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

interface NodeContext {
  binaries: NodeBinaries;
  /** The cluster's directory: certificates, logs, and the node's configuration and state. */
  dir: string;
  server: string;
  node: { name: string; address: string };
  /** Makes this cluster's host-wide names (bridge, cgroup) unique. */
  suffix: string;
  launch(command: string, args: string[], logName: string): ChildProcess;
  cleanups: Cleanup[];
}

/**
 * The cgroup hierarchies the kubelet's cgroup root must exist in: every v1 hierarchy (and the
 * hybrid mode's v2 one, where runc also places containers), or the v2 root.
 */
async function cgroupHierarchies(): Promise<string[]> {
  const root = '/sys/fs/cgroup';
  // CGROUP2_SUPER_MAGIC: a unified (v2 only) machine.
  if (statfsSync(root).type === 0x63677270) return [root];
  const entries = await readdir(root, { withFileTypes: true });
  return entries.filter((entry) => entry.isDirectory()).map((entry) => join(root, entry.name));
}

/** Remove the cgroup at `path` and those below it (cgroupfs removes a directory with rmdir). */
async function removeCgroup(path: string): Promise<void> {
  const entries = await readdir(path, { withFileTypes: true }).catch(() => null);
  if (!entries) return;
  for (const entry of entries) {
    if (entry.isDirectory()) await removeCgroup(join(path, entry.name));
  }
  // runc removes a container's cgroup a moment after its task is deleted.
  for (let attempt = 0; ; attempt++) {
    try {
      await rmdir(path);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      if (attempt >= 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/**
 * containerd, kube-controller-manager, kube-scheduler and a kubelet, contained:
 * - containerd and the kubelet share one private mount namespace (the kubelet mounts pods'
 *   volumes that containerd must see) with tmpfs over /run and /var/log, where both write fixed
 *   paths, and files bound over the three kernel sysctls the kubelet would otherwise set for the
 *   whole machine. Their own files (sockets, root, state, certificates) are in `dir`, which both
 *   namespaces see.
 * - Pods' cgroups go under a cgroup root of this cluster's own, removed on stop.
 * - The CNI bridge and its subnet are this cluster's own; no NAT rules: the kubelet makes no
 *   iptables chains and the bridge masquerades nothing. One FORWARD rule lets pods on the bridge
 *   reach each other; it goes at stop.
 * - Claims are bound to host folders by a provisioner in this process (no storage class here).
 */
async function startNode(context: NodeContext): Promise<TestNode> {
  const { binaries, dir, server, node, suffix, launch, cleanups } = context;
  const nodeDir = join(dir, 'node');
  // Image layers are large: on disk, not in memory like the rest of `dir`.
  const containerdRoot = await mkdtemp(join(tmpdir(), 'studio-k8s-containerd-'));
  cleanups.push(() => rm(containerdRoot, { recursive: true, force: true }));
  const socket = join(nodeDir, 'containerd.sock');
  const bridge = `studio${suffix}`;
  // Interface names are at most 15 characters.
  if (bridge.length > 15) throw new Error(`bridge name ${bridge} is too long`);
  // A /24 of 10.88.0.0/16 each, so two clusters on one machine rarely share routes.
  const subnet = `10.88.${randomBytes(1)[0]}.0/24`;
  const cgroupRoot = `/studio-k8s-${suffix}`;

  await Promise.all(
    ['cni/net.d', 'cni/ipam', 'sysctl', 'kubelet', 'opt'].map((path) =>
      mkdir(join(nodeDir, path), { recursive: true }),
    ),
  );

  // The kubelet's cgroup root must exist; cleaned up after containerd has stopped (registered
  // before it starts, so it runs after).
  const hierarchies = await cgroupHierarchies();
  cleanups.push(async () => {
    for (const hierarchy of hierarchies) await removeCgroup(join(hierarchy, cgroupRoot));
  });
  for (const hierarchy of hierarchies) {
    const path = join(hierarchy, cgroupRoot);
    await mkdir(path);
    // A new v1 cpuset starts with no CPUs and no memory nodes; its children copy from it.
    if (hierarchy.endsWith('/cpuset')) {
      for (const file of ['cpuset.cpus', 'cpuset.mems'])
        await writeFile(join(path, file), await readFile(join(hierarchy, file)));
    }
  }
  // The bridge plugin creates the bridge on the first pod; deleting it also drops its route.
  cleanups.push(async () => {
    await run(binaries.ip, ['link', 'delete', bridge]).catch(() => undefined);
  });
  // Pod to pod (the platform's server to a workspace) crosses the bridge, and bridged packets go
  // through the machine's FORWARD chain, whose policy a Docker Engine sets to DROP.
  const iptables =
    onPath('iptables') ?? (isExecutable('/usr/sbin/iptables') ? '/usr/sbin/iptables' : null);
  if (iptables) {
    const rule = ['FORWARD', '-i', bridge, '-o', bridge, '-j', 'ACCEPT'];
    await run(iptables, ['-w', '-I', ...rule]);
    cleanups.push(async () => {
      await run(iptables, ['-w', '-D', ...rule]).catch(() => undefined);
    });
  }

  await writeFile(
    join(nodeDir, 'cni/net.d/10-studio.conflist'),
    JSON.stringify({
      cniVersion: '0.4.0',
      name: 'studio-pods',
      plugins: [
        {
          type: 'bridge',
          bridge,
          isGateway: true,
          // Pods need no way out through NAT here, and rules would land in the host's tables.
          ipMasq: false,
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            ranges: [[{ subnet }]],
            routes: [{ dst: '0.0.0.0/0' }],
            dataDir: join(nodeDir, 'cni/ipam'),
          },
        },
        // Adds rules only for pods with hostPort.
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    }),
  );

  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  await writeFile(
    join(nodeDir, 'containerd.toml'),
    [
      'version = 2',
      `root = ${JSON.stringify(join(containerdRoot, 'root'))}`,
      `state = ${JSON.stringify(join(nodeDir, 'containerd-state'))}`,
      `disabled_plugins = ${JSON.stringify([
        'io.containerd.snapshotter.v1.aufs',
        'io.containerd.snapshotter.v1.btrfs',
        'io.containerd.snapshotter.v1.devmapper',
        'io.containerd.snapshotter.v1.zfs',
      ])}`,
      '[grpc]',
      `address = ${JSON.stringify(socket)}`,
      '[ttrpc]',
      `address = ${JSON.stringify(`${socket}.ttrpc`)}`,
      '[plugins."io.containerd.internal.v1.opt"]',
      `path = ${JSON.stringify(join(nodeDir, 'opt'))}`,
      `[${cri}]`,
      `sandbox_image = "studio-test/pause:1"`,
      // The sandbox may lack CAP_SYS_RESOURCE, which lowering an oom_score_adj needs.
      'restrict_oom_score_adj = true',
      // Pods' network namespaces are mounted under `state`, not /run/netns.
      'netns_mounts_under_state_dir = true',
      'stream_server_address = "127.0.0.1"',
      'stream_server_port = "0"',
      `[${cri}.containerd]`,
      'snapshotter = "overlayfs"',
      'default_runtime_name = "runc"',
      `[${cri}.containerd.runtimes.runc]`,
      'runtime_type = "io.containerd.runc.v2"',
      `[${cri}.containerd.runtimes.runc.options]`,
      `Root = ${JSON.stringify(join(nodeDir, 'runc'))}`,
      // cgroupfs: no systemd in a CI container; the kubelet is told the same.
      'SystemdCgroup = false',
      `[${cri}.cni]`,
      `bin_dir = ${JSON.stringify(binaries.cniDir)}`,
      `conf_dir = ${JSON.stringify(join(nodeDir, 'cni/net.d'))}`,
      '',
    ].join('\n'),
  );

  // The values the kubelet wants (it checks, then writes if they differ); bound over /proc/sys
  // in the private namespace, the machine's own values stay as they are.
  const sysctls = {
    'vm/overcommit_memory': '1',
    'kernel/panic': '10',
    'kernel/panic_on_oops': '1',
  };
  for (const [name, value] of Object.entries(sysctls))
    await writeFile(join(nodeDir, 'sysctl', name.replace('/', '.')), `${value}\n`);
  const namespaceSetup = [
    'set -e',
    'mount -t tmpfs -o mode=0755 studio-k8s /run',
    'mount -t tmpfs -o mode=0755 studio-k8s /var/log',
    ...Object.keys(sysctls).map(
      (name) => `mount --bind "$1/sysctl/${name.replace('/', '.')}" /proc/sys/${name}`,
    ),
    'shift',
    'exec "$@"',
  ].join('\n');
  const containerd = launch(
    binaries.unshare,
    [
      '--mount',
      '--propagation',
      'private',
      '--',
      'sh',
      '-c',
      namespaceSetup,
      'sh',
      nodeDir,
      binaries.containerd,
      '--config',
      join(nodeDir, 'containerd.toml'),
    ],
    'containerd.log',
  );
  // Pods' processes outlive the kubelet and containerd; killed through containerd first.
  cleanups.push(async () => {
    if (containerd.exitCode !== null || containerd.signalCode !== null) return;
    const ctr = (...args: string[]) => run(binaries.ctr, ['-a', socket, '-n', 'k8s.io', ...args]);
    const tasks = (await ctr('tasks', 'ls', '-q')).stdout.split('\n').filter(Boolean);
    for (const task of tasks) await ctr('tasks', 'rm', '-f', task).catch(() => undefined);
  });

  for (let waited = 0; !(await answers(socket)); waited += 100) {
    if (containerd.exitCode !== null || waited > 30_000)
      throw new Error(
        `containerd did not answer on ${socket}\n${await tail(join(dir, 'containerd.log'))}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const importImages = async (archive: Readable) => {
    const child = spawn(binaries.ctr, ['-a', socket, '-n', 'k8s.io', 'images', 'import', '-'], {
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    archive.pipe(child.stdin);
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      archive.once('error', reject);
      child.once('exit', resolve);
    });
    if (code !== 0) throw new Error(`ctr images import exited (${code}): ${stderr}`);
  };
  await run(binaries.ctr, [
    '-a',
    socket,
    '-n',
    'k8s.io',
    'images',
    'import',
    binaries.pauseArchive,
  ]);

  for (const user of ['controller-manager', 'scheduler', 'node'])
    await writeFile(join(nodeDir, `${user}.kubeconfig`), kubeconfig(dir, server, user));
  launch(
    binaries.kubeControllerManager,
    [
      `--kubeconfig=${join(nodeDir, 'controller-manager.kubeconfig')}`,
      // No ports of its own: two clusters on one machine would collide on 10252/10257.
      '--port=0',
      '--secure-port=0',
      '--leader-elect=false',
      // As kubeadm runs it: each controller with its service account's rights.
      '--use-service-account-credentials=true',
      `--service-account-private-key-file=${join(dir, 'service-account.key')}`,
      `--root-ca-file=${join(dir, 'ca.crt')}`,
    ],
    'kube-controller-manager.log',
  );
  launch(
    binaries.kubeScheduler,
    [
      `--kubeconfig=${join(nodeDir, 'scheduler.kubeconfig')}`,
      '--port=0',
      '--secure-port=0',
      '--leader-elect=false',
    ],
    'kube-scheduler.log',
  );

  await writeFile(join(nodeDir, 'resolv.conf'), 'nameserver 127.0.0.1\n');
  await writeFile(
    join(nodeDir, 'kubelet.yaml'),
    JSON.stringify({
      apiVersion: 'kubelet.config.k8s.io/v1beta1',
      kind: 'KubeletConfiguration',
      address: node.address,
      port: await freePort(),
      readOnlyPort: 0,
      healthzPort: 0,
      tlsCertFile: join(dir, 'kubelet.crt'),
      tlsPrivateKeyFile: join(dir, 'kubelet.key'),
      authentication: {
        anonymous: { enabled: false },
        webhook: { enabled: false },
        x509: { clientCAFile: join(dir, 'ca.crt') },
      },
      // Only holders of this cluster's certificates get past authentication.
      authorization: { mode: 'AlwaysAllow' },
      cgroupDriver: 'cgroupfs',
      cgroupRoot,
      failSwapOn: false,
      // Its chains would go into the machine's iptables; nothing here uses them.
      makeIPTablesUtilChains: false,
      resolvConf: join(nodeDir, 'resolv.conf'),
      clusterDomain: 'cluster.local',
      // The defaults (15% disk free) would evict pods on a busy CI disk.
      evictionHard: {
        'memory.available': '50Mi',
        'nodefs.available': '1%',
        'imagefs.available': '1%',
        'nodefs.inodesFree': '1%',
      },
      imageGCHighThresholdPercent: 100,
      imageGCLowThresholdPercent: 99,
      // Ready is reported within seconds, not the default 10 s.
      nodeStatusUpdateFrequency: '2s',
      // A process limit per pod: on Kubernetes it is the node's setting, not the pod's.
      podPidsLimit: POD_PIDS_LIMIT,
      // A memory-backed emptyDir's tmpfs gets its sizeLimit as its size (beta and on by default
      // from 1.22): filling /tmp ends in ENOSPC, not in an eviction.
      featureGates: { SizeMemoryBackedVolumes: true },
    }),
  );
  launch(
    binaries.nsenter,
    [
      `--target=${containerd.pid}`,
      '--mount',
      '--',
      binaries.kubelet,
      `--config=${join(nodeDir, 'kubelet.yaml')}`,
      `--kubeconfig=${join(nodeDir, 'node.kubeconfig')}`,
      `--hostname-override=${node.name}`,
      `--node-ip=${node.address}`,
      '--container-runtime=remote',
      `--container-runtime-endpoint=unix://${socket}`,
      // Keeps the sandbox image from image garbage collection.
      '--pod-infra-container-image=studio-test/pause:1',
      `--root-dir=${join(nodeDir, 'kubelet')}`,
      `--volume-plugin-dir=${join(nodeDir, 'kubelet/volume-plugins')}`,
      '--v=1',
    ],
    'kubelet.log',
  );

  const volumes = join(containerdRoot, 'volumes');
  await mkdir(volumes);
  const admin = new KubeConfig();
  admin.loadFromFile(join(dir, 'kubeconfig'));
  const provisioner = provisionVolumes(admin.makeApiClient(CoreV1Api), volumes);
  cleanups.push(provisioner.stop);

  return { name: node.name, address: node.address, importImages };
}

/** Each pod's process limit in a tier-2 cluster. */
export const POD_PIDS_LIMIT = 256;

const PROVISIONED = 'studio-test/provisioned';

/**
 * What a storage class's provisioner does, for a cluster with none: every pending claim gets a
 * host folder of its own as a volume bound to it, and a released volume goes with its folder.
 * The folders are world-writable, as a fresh filesystem's root is to its pod's fsGroup; sizes are
 * not enforced.
 */
function provisionVolumes(core: CoreV1Api, root: string): { stop: () => Promise<void> } {
  let stopped = false;
  const pass = async () => {
    const claims = await core.listPersistentVolumeClaimForAllNamespaces();
    for (const claim of claims.items) {
      const { name, namespace, uid } = claim.metadata ?? {};
      if (claim.status?.phase !== 'Pending' || claim.spec?.volumeName || !name || !uid) continue;
      const path = join(root, uid);
      await mkdir(path, { recursive: true });
      await chmod(path, 0o777);
      await core
        .createPersistentVolume({
          body: {
            metadata: { name: `studio-pv-${uid}`, labels: { [PROVISIONED]: 'true' } },
            spec: {
              capacity: { storage: claim.spec?.resources?.requests?.storage ?? '1Gi' },
              accessModes: claim.spec?.accessModes ?? ['ReadWriteOnce'],
              persistentVolumeReclaimPolicy: 'Retain',
              storageClassName: claim.spec?.storageClassName ?? '',
              claimRef: { namespace, name, uid },
              hostPath: { path },
            },
          },
        })
        .catch((error: unknown) => {
          // Made on an earlier pass, not bound yet.
          if ((error as { code?: number }).code !== 409) throw error;
        });
    }
    const volumes = await core.listPersistentVolume({ labelSelector: `${PROVISIONED}=true` });
    for (const volume of volumes.items) {
      if (volume.status?.phase !== 'Released' || !volume.spec?.hostPath) continue;
      await core.deletePersistentVolume({ name: volume.metadata!.name! });
      await rm(volume.spec.hostPath.path, { recursive: true, force: true });
    }
  };
  const loop = (async () => {
    while (!stopped) {
      await pass().catch((error: unknown) => {
        if (!stopped) console.warn('test volume provisioner:', error);
      });
      // As often as a watch-based provisioner would notice a new claim.
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}
