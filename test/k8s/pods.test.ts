// Tier 2: a cluster with one node runs a pod from a local image, as the Kubernetes driver's
// workspaces will run.
import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { k8sBinaries, startCluster, type TestCluster } from './cluster.ts';

const binaries = k8sBinaries('the tier-2 Kubernetes tests', { nodes: true });
const image = 'studio/base:1';

/** `docker save` of `name` from the engine at DOCKER_HOST, into the node's containerd. */
async function importFromDocker(cluster: TestCluster, name: string): Promise<void> {
  const save = spawn('docker', ['save', name], { stdio: ['ignore', 'pipe', 'inherit'] });
  const saved = new Promise<void>((resolve, reject) => {
    save.once('error', reject);
    save.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`docker save ${name} exited (${code})`)),
    );
  });
  await Promise.all([cluster.node!.importImages(save.stdout), saved]);
}

async function waitForPhase(
  core: CoreV1Api,
  name: string,
  namespace: string,
  phase: string,
): Promise<V1Pod> {
  for (;;) {
    const pod = await core.readNamespacedPod({ name, namespace });
    if (pod.status?.phase === phase) return pod;
    if (pod.status?.phase === 'Failed')
      throw new Error(`pod ${name} failed: ${JSON.stringify(pod.status)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe.runIf(binaries)('a tier-2 Kubernetes cluster', () => {
  let cluster: TestCluster;
  let core: CoreV1Api;
  let namespace: string;

  beforeAll(async () => {
    const started = Date.now();
    cluster = await startCluster(binaries!, { nodes: true, readyTimeoutMs: 120_000 });
    console.info(`node ${cluster.node!.name} Ready ${Date.now() - started} ms after start`);
    const importing = Date.now();
    await importFromDocker(cluster, image);
    console.info(`imported ${image} in ${Date.now() - importing} ms`);
    const admin = new KubeConfig();
    admin.loadFromFile(cluster.kubeconfigPath);
    core = admin.makeApiClient(CoreV1Api);
    namespace = `test-${randomUUID().slice(0, 8)}`;
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    // The controller manager creates the namespace's default service account a moment later;
    // a pod created before it is refused.
    for (;;) {
      const account = await core
        .readNamespacedServiceAccount({ name: 'default', namespace })
        .catch(() => null);
      if (account) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }, 300_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 120_000);

  it('runs a pod from a local image and serves its logs', async () => {
    const created = Date.now();
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: 'sleeper' },
        spec: {
          // As workspace pods: no token (and so no wait for the token controller to mint one).
          automountServiceAccountToken: false,
          containers: [
            {
              name: 'main',
              image,
              imagePullPolicy: 'Never',
              command: ['sh', '-c', 'echo hello from the pod && exec sleep infinity'],
            },
          ],
        },
      },
    });
    const pod = await waitForPhase(core, 'sleeper', namespace, 'Running');
    console.info(`pod Running ${Date.now() - created} ms after create`);
    expect(pod.spec?.nodeName).toBe(cluster.node!.name);
    expect(pod.status?.podIP).toMatch(/^10\.88\./);
    // Through the API server to the kubelet and containerd's log file.
    for (;;) {
      const log = await core.readNamespacedPodLog({
        name: 'sleeper',
        namespace,
        container: 'main',
      });
      if (log.includes('hello from the pod')) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }, 120_000);
});
