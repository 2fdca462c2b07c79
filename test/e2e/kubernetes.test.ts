// The platform on a cluster: deploy/kubernetes applied to a tier-2 test cluster with the images
// `npm run images:k8s` builds. Two server pods become ready, and a workspace created through one
// runs as a pod (reached at its pod IP), types in its terminal and stops, as seen through the other.
// In the e2e phase because it needs the built server; files here run one at a time, so the
// cluster's network changes never meet a browser test's page loads.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, connect, type Server } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { createTestDatabase, type TestDatabase } from '@studio/db';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPlatformImages } from '../../scripts/k8s-images.ts';
import { importFromDocker, k8sBinaries, startCluster, type TestCluster } from '../k8s/cluster.ts';
import { replicaFlow, type Replica } from './replica-flow.ts';

const run = promisify(execFile);
const binaries = k8sBinaries('the platform-on-a-cluster test', { nodes: true });
const OVERLAY = fileURLToPath(new URL('../../deploy/kubernetes/overlays/test', import.meta.url));
const NAMESPACE = 'studio-test';
const POSTGRES_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const ADMIN = { email: 'cluster@example.com', password: 'two pods, one database' };
const PUBLIC_URL = 'http://prometheus-studio.studio-test';

let cluster: TestCluster;
let database: TestDatabase;
let postgresProxy: Server;
let core: CoreV1Api;

/** Pods reach this machine at the node's address; PostgreSQL listens on loopback only. */
async function proxyTo(port: number, host: string): Promise<Server> {
  const server = createServer((socket) => {
    const upstream = connect(port, '127.0.0.1');
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return server;
}

describe.runIf(binaries)('the platform on a Kubernetes cluster', () => {
  beforeAll(async () => {
    // Not side by side: hashing and building starve a starting etcd of CPU on 2 cores.
    const { server, runtime } = await buildPlatformImages(new Docker());
    cluster = await startCluster(binaries!, { nodes: true, readyTimeoutMs: 120_000 });
    const docker = new Docker();
    // The overlay names `studio/server:test`.
    await docker.getImage(server).tag({ repo: 'studio/server', tag: 'test' });
    await importFromDocker(cluster.node!, ['studio/server:test', runtime, 'studio/base:1']);

    database = await createTestDatabase(POSTGRES_URL);
    const node = cluster.node!.address;
    postgresProxy = await proxyTo(Number(new URL(database.url).port || 5432), node);
    const databaseUrl = new URL(database.url);
    databaseUrl.hostname = node;
    databaseUrl.port = String((postgresProxy.address() as { port: number }).port);

    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(cluster.kubeconfigPath);
    core = kubeConfig.makeApiClient(CoreV1Api);
    await run('kubectl', ['--kubeconfig', cluster.kubeconfigPath, 'apply', '-k', OVERLAY]);
    // The overlay's config Secret is a placeholder; this cluster's values replace it, and the
    // server pods started with the placeholder are replaced in turn.
    await core.replaceNamespacedSecret({
      name: 'prometheus-studio-config',
      namespace: NAMESPACE,
      body: {
        metadata: { name: 'prometheus-studio-config', namespace: NAMESPACE },
        stringData: {
          DATABASE_URL: databaseUrl.toString(),
          STUDIO_SECRET: randomBytes(32).toString('hex'),
          STUDIO_PUBLIC_URL: PUBLIC_URL,
          STUDIO_ADMIN_EMAIL: ADMIN.email,
          STUDIO_ADMIN_PASSWORD: ADMIN.password,
          STUDIO_RUNTIME: 'kubernetes',
          STUDIO_K8S_RUNTIME_IMAGE: runtime,
          STUDIO_K8S_IMAGE_PULL_POLICY: 'Never',
          // No kube-proxy here to make the `kubernetes` Service work: the API server directly.
          KUBERNETES_SERVICE_HOST: node,
          KUBERNETES_SERVICE_PORT: new URL(cluster.server).port,
        },
      },
    });
    await core.deleteCollectionNamespacedPod({
      namespace: NAMESPACE,
      labelSelector: 'app.kubernetes.io/name=prometheus-studio-server',
    });
  }, 600_000);

  afterAll(async () => {
    await cluster?.stop();
    postgresProxy?.close();
    await database?.drop();
  }, 120_000);

  it('runs two ready server replicas that share workspaces', async () => {
    const apps = (() => {
      const kubeConfig = new KubeConfig();
      kubeConfig.loadFromFile(cluster.kubeconfigPath);
      return kubeConfig.makeApiClient(AppsV1Api);
    })();
    const started = Date.now();
    for (;;) {
      const deployment = await apps.readNamespacedDeployment({
        name: 'prometheus-studio-server',
        namespace: NAMESPACE,
      });
      if (deployment.status?.readyReplicas === 2 && deployment.status.updatedReplicas === 2) break;
      if (Date.now() - started > 180_000) {
        const pods = await core.listNamespacedPod({ namespace: NAMESPACE });
        const logs = await Promise.all(
          pods.items.map((pod) =>
            core
              .readNamespacedPodLog({
                name: pod.metadata!.name!,
                namespace: NAMESPACE,
                tailLines: 20,
              })
              .catch((error: Error) => error.message),
          ),
        );
        throw new Error(
          `server pods not ready: ${JSON.stringify(deployment.status)}\n${logs.join('\n')}`,
        );
      }
      await sleep(500);
    }
    console.info(
      `2 server replicas ready ${Date.now() - started} ms after the config was in place`,
    );

    const pods = await core.listNamespacedPod({
      namespace: NAMESPACE,
      labelSelector: 'app.kubernetes.io/name=prometheus-studio-server',
    });
    const replicas: Replica[] = pods.items
      .filter((pod) => !pod.metadata?.deletionTimestamp && pod.status?.podIP)
      .map((pod) => ({ url: `http://${pod.status!.podIP}:3000`, origin: PUBLIC_URL }));
    expect(replicas).toHaveLength(2);
    // Both first replicas may race to create the admin; one of them made it.
    await replicaFlow(replicas[0]!, replicas[1]!, ADMIN, 'on-a-cluster');
  }, 300_000);
});
