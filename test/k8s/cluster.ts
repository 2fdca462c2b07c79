// A real Kubernetes API server for tests (tier 1): Debian's etcd and a kube-apiserver built from
// Debian's source by `.ci/k8s.sh`, with certificates made by openssl for this cluster only.
// No kubelet: objects are stored and watched, nothing runs. Give each test its own namespace.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { accessSync, constants, createWriteStream, existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The Kubernetes version `.ci/k8s.sh` builds. */
export const K8S_VERSION = '1.20.2';

/** Paths of the programs a tier-1 cluster runs. */
export interface K8sBinaries {
  kubeApiserver: string;
  etcd: string;
  openssl: string;
}

/** A running tier-1 cluster: an admin kubeconfig (system:masters) and the API server's URL. */
export interface TestCluster {
  kubeconfigPath: string;
  server: string;
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
 * The binaries tier 1 needs, or null with a warning naming `what` is skipped. Under
 * `STUDIO_REQUIRE_K8S=1` (CI) missing binaries are a failure instead.
 */
export function k8sBinaries(what: string): K8sBinaries | null {
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
  if (kubeApiserver && etcd && openssl) return { kubeApiserver, etcd, openssl };
  const missing = [
    kubeApiserver ? null : `kube-apiserver in ${binDir} (run .ci/k8s.sh)`,
    etcd ? null : 'etcd on PATH (Debian: etcd-server)',
    openssl ? null : 'openssl on PATH',
  ].filter((what) => what !== null);
  const why = `no ${missing.join(', no ')}`;
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

/** Certificates and keys for one cluster, all signed by a CA made for it. */
async function makeCertificates(openssl: string, dir: string): Promise<void> {
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
      'subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local',
    ]),
    certificate('admin', '/O=system:masters/CN=studio-admin', [
      'basicConstraints=critical,CA:FALSE',
      'extendedKeyUsage=clientAuth',
    ]),
    ssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'service-account.key'),
  ]);
  await ssl('ec', '-in', 'service-account.key', '-pubout', '-out', 'service-account.pub');
}

function kubeconfig(dir: string, server: string): string {
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
            'client-certificate': join(dir, 'admin.crt'),
            'client-key': join(dir, 'admin.key'),
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

/** GET `path` as the admin; resolves with the status code, or 0 if nothing answers. */
function adminGet(credentials: AdminCredentials, server: string, path: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(new URL(path, server), { ...credentials, timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

async function tail(path: string, lines = 30): Promise<string> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text.split('\n').slice(-lines).join('\n');
}

/**
 * Start etcd and kube-apiserver on free 127.0.0.1 ports with a fresh data directory, and resolve
 * once the API server's /readyz answers 200 (RBAC's bootstrap roles are in place by then).
 */
export async function startCluster(
  binaries: K8sBinaries,
  { readyTimeoutMs = 60_000 } = {},
): Promise<TestCluster> {
  // etcd fsyncs every write and 3.4 has no --unsafe-no-fsync; on tmpfs the fsyncs cost nothing.
  const dir = await mkdtemp(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'studio-k8s-'));
  const processes: ChildProcess[] = [];
  // A test process that dies without calling stop() must not leave a cluster running.
  const killOnExit = () => processes.forEach((child) => child.kill('SIGKILL'));
  process.once('exit', killOnExit);

  const stop = async () => {
    process.off('exit', killOnExit);
    // The API server first, so it does not spend its last seconds retrying a gone etcd.
    for (const child of [...processes].reverse()) await stopProcess(child);
    await rm(dir, { recursive: true, force: true });
  };

  try {
    const [, etcdClientPort, etcdPeerPort, apiPort] = await Promise.all([
      makeCertificates(binaries.openssl, dir),
      freePort(),
      freePort(),
      freePort(),
    ]);
    const etcdUrl = `http://127.0.0.1:${etcdClientPort}`;
    const peerUrl = `http://127.0.0.1:${etcdPeerPort}`;
    // Set when etcd or the API server ends before stop(): readiness then fails at once.
    const early: { exit?: Error } = {};
    const onExit = (error: Error) => {
      early.exit ??= error;
    };
    const etcd = startProcess(
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
      join(dir, 'etcd.log'),
      onExit,
    );
    processes.push(etcd);

    const server = `https://127.0.0.1:${apiPort}`;
    const apiserverLog = join(dir, 'kube-apiserver.log');
    const apiserver = startProcess(
      binaries.kubeApiserver,
      [
        `--etcd-servers=${etcdUrl}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
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
      ],
      apiserverLog,
      onExit,
    );
    processes.push(apiserver);

    const credentials = {
      ca: await readFile(join(dir, 'ca.crt')),
      cert: await readFile(join(dir, 'admin.crt')),
      key: await readFile(join(dir, 'admin.key')),
    };
    const deadline = Date.now() + readyTimeoutMs;
    for (;;) {
      if (early.exit || Date.now() > deadline) {
        const why = early.exit?.message ?? `kube-apiserver not ready within ${readyTimeoutMs} ms`;
        const logs = `etcd:\n${await tail(join(dir, 'etcd.log'))}\nkube-apiserver:\n${await tail(apiserverLog)}`;
        throw new Error(`${why}\n${logs}`);
      }
      if ((await adminGet(credentials, server, '/readyz')) === 200) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    const kubeconfigPath = join(dir, 'kubeconfig');
    await writeFile(kubeconfigPath, kubeconfig(dir, server));
    return { kubeconfigPath, server, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
