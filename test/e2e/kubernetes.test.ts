// The platform on a cluster: deploy/kubernetes applied to a tier-2 test cluster with the images
// `npm run images:k8s` builds. Two server pods become ready, and a workspace created through one
// runs as a pod (reached at its pod IP), types in its terminal and stops, as seen through the other.
// Then a desktop mission deploys as a pod, shows its live desktop and its worker (a scripted model)
// types into the desktop's terminal, as seed 001's prototype on Kubernetes does.
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
import { buildPlatformImages, buildTemplateImages } from '../../scripts/k8s-images.ts';
import WebSocket from 'ws';
import { importFromDocker, k8sBinaries, startCluster, type TestCluster } from '../k8s/cluster.ts';
import { startScriptedLlm, type ScriptedLlm, type ScriptedTurn } from '../scripted-llm.ts';
import { client, replicaFlow, signIn, type Replica } from './replica-flow.ts';

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
let llm: ScriptedLlm;
let llmProxy: Server;
let replicas: Replica[] = [];

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
    // The desktop template's image, which the mission test deploys (cold: minutes, on base).
    await buildTemplateImages(new Docker(), ['desktop']);
    cluster = await startCluster(binaries!, { nodes: true, readyTimeoutMs: 120_000 });
    const docker = new Docker();
    // The overlay names `studio/server:test`.
    await docker.getImage(server).tag({ repo: 'studio/server', tag: 'test' });
    await importFromDocker(cluster.node!, [
      'studio/server:test',
      runtime,
      'studio/base:1',
      'studio/desktop:1',
    ]);
    llm = await startScriptedLlm();
    llmProxy = await proxyTo(Number(new URL(llm.openaiBaseUrl).port), cluster.node!.address);

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
    llmProxy?.close();
    await llm?.close();
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
        // Each pod's state, restarts and why, and the logs of this and the last container.
        const pods = await core.listNamespacedPod({ namespace: NAMESPACE });
        const log = (name: string, previous: boolean) =>
          core
            .readNamespacedPodLog({ name, namespace: NAMESPACE, tailLines: 20, previous })
            .catch(
              (error: Error) => `(${previous ? 'no previous log' : 'no log'}: ${error.message})`,
            );
        const logs = await Promise.all(
          pods.items.map(async (pod) => {
            const name = pod.metadata!.name!;
            const state = JSON.stringify(pod.status?.containerStatuses ?? pod.status?.conditions);
            return `--- ${name}: ${state}\n${await log(name, true)}\n--- now:\n${await log(name, false)}`;
          }),
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
    replicas = pods.items
      .filter((pod) => !pod.metadata?.deletionTimestamp && pod.status?.podIP)
      .map((pod) => ({ url: `http://${pod.status!.podIP}:3000`, origin: PUBLIC_URL }));
    expect(replicas).toHaveLength(2);
    // Both first replicas may race to create the admin; one of them made it.
    await replicaFlow(replicas[0]!, replicas[1]!, ADMIN, 'on-a-cluster');
  }, 300_000);

  it(
    'deploys a desktop mission as a pod: its desktop answers over VNC and its worker types into it',
    async () => {
      expect(replicas).toHaveLength(2);
      const [one, two] = replicas as [Replica, Replica];
      const cookie = await signIn(one, ADMIN);
      const api = client(one, cookie);
      // The server pods reach the scripted model at the node's address (an admin may name it).
      const port = (llmProxy.address() as { port: number }).port;
      const provider = await api('POST', '/api/ai/providers', {
        name: 'Scripted (cluster)',
        kind: 'openai-compatible',
        baseUrl: `http://${cluster.node!.address}:${port}/v1`,
      });
      expect(provider.status).toBe(201);
      expect(
        (
          await api('PUT', '/api/ai/settings', {
            agent: { providerId: provider.body.id, model: 'scripted-coder' },
          })
        ).status,
      ).toBe(200);
      // The screen is 1280×800; the session's xterm sits at +40+40.
      const worker: ScriptedTurn[] = [
        { toolCalls: [{ name: 'computer', input: { action: 'screenshot' } }] },
        {
          toolCalls: [
            { name: 'computer', input: { action: 'left_click', coordinate: [300, 200] } },
          ],
        },
        {
          toolCalls: [
            { name: 'computer', input: { action: 'type', text: 'echo done > ~/result.txt' } },
          ],
        },
        { toolCalls: [{ name: 'computer', input: { action: 'key', text: 'Return' } }] },
        { text: 'Done: ~/result.txt holds "done".' },
      ];
      llm.reset();
      llm.respond(() => worker.shift() ?? { text: 'Nothing more.' });

      const deployed = await api('POST', '/api/missions', {
        template: 'desktop',
        requirement: 'In the terminal on the desktop, run: echo done > ~/result.txt',
        ttlMinutes: 30,
        // The test node has the machine's 2 cores, shared with two server pods.
        resources: { cpus: 1, memoryMiB: 1536 },
      });
      expect(deployed.status).toBe(202);
      const id = deployed.body.id;
      // Followed through the other replica: any replica serves any request.
      const other = client(two, await signIn(two, ADMIN));
      const seen = new Set<string>();
      let mission = deployed.body as unknown as {
        status: string;
        statusReason: string | null;
        workspace: string;
        worker: { state: string; reason: string | null } | null;
      };
      for (
        const deadline = Date.now() + 10 * 60_000;
        mission.status !== 'ready';
        await sleep(250)
      ) {
        mission = (await other('GET', `/api/missions/${id}`)).body as unknown as typeof mission;
        seen.add(mission.status);
        if (mission.status === 'failed' || Date.now() > deadline)
          throw new Error(`mission ${mission.status}: ${mission.statusReason}`);
      }
      expect([...seen].some((status) => ['queued', 'starting'].includes(status))).toBe(true);
      const workspaceId = (await api('GET', `/api/workspaces/${mission.workspace}`)).body.id;
      const podsOf = async () =>
        (await core.listNamespacedPod({ namespace: NAMESPACE })).items.filter((pod) =>
          pod.metadata?.name?.startsWith(`studio-ws-${workspaceId}-`),
        );
      expect((await podsOf()).map((pod) => pod.status?.phase)).toEqual(['Running']);

      // The live desktop: its VNC server greets through the platform's WebSocket.
      const vnc = new WebSocket(
        `${two.url.replace('http', 'ws')}/api/workspaces/${mission.workspace}/desktop/vnc`,
        { headers: { cookie, origin: PUBLIC_URL } },
      );
      const greeting = await new Promise<string>((resolve, reject) => {
        vnc.once('message', (data: Buffer) => resolve(data.toString('latin1')));
        vnc.once('error', reject);
        vnc.once('close', (code, reason) => reject(new Error(`closed ${code}: ${reason}`)));
      });
      vnc.close();
      expect(greeting).toMatch(/^RFB 003\.00\d/);

      // The worker's keystrokes reached the desktop's terminal: the file is in the workspace.
      let content: string | null = null;
      for (const deadline = Date.now() + 90_000; content !== 'done\n'; await sleep(500)) {
        const file = await api(
          'GET',
          `/api/workspaces/${mission.workspace}/files/content?path=result.txt`,
        );
        content =
          file.status === 200 ? (file.body as unknown as { content: string }).content : null;
        if (Date.now() > deadline) throw new Error(`result.txt holds ${JSON.stringify(content)}`);
      }
      // Its first screenshot reached the model as an image, and the mission says the worker is done.
      expect(llm.requests[1]!.images[0]!.mediaType).toBe('image/png');
      for (
        const deadline = Date.now() + 60_000;
        mission.worker?.state !== 'done';
        await sleep(250)
      ) {
        mission = (await api('GET', `/api/missions/${id}`)).body as unknown as typeof mission;
        if (Date.now() > deadline) throw new Error(`worker ${JSON.stringify(mission.worker)}`);
      }

      expect((await other('DELETE', `/api/missions/${id}`)).status).toBe(204);
      for (const deadline = Date.now() + 120_000; ; await sleep(500)) {
        if ((await podsOf()).length === 0) break;
        if (Date.now() > deadline) throw new Error("the mission's pod outlived its removal");
      }
    },
    25 * 60_000,
  );
});
