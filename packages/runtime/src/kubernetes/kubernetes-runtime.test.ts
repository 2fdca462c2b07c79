// The Kubernetes driver against a real cluster (tier 2: API server, scheduler, controller manager,
// a kubelet and containerd), with images imported from the Docker engine at DOCKER_HOST.
import { homedir } from 'node:os';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  importFromDocker,
  k8sBinaries,
  startCluster,
  type TestCluster,
} from '../../../../test/k8s/cluster.ts';
import {
  buildContentImage,
  buildTemplateImage,
  defaultCacheDir,
  loadTemplate,
} from '../docker/images.ts';
import { runRuntimeConformance } from '../runtime.case.test.ts';
import type { RuntimeEvent, WorkspaceSpec } from '../runtime.ts';
import { KubernetesRuntime, type DaemonReach } from './kubernetes-runtime.ts';
import { LABELS, objectNames } from './manifests.ts';

const binaries = k8sBinaries('the Kubernetes driver tests', { nodes: true });
const imagesDir = fileURLToPath(new URL('../../../../images', import.meta.url));
const runtimeDir =
  process.env.STUDIO_DAEMON_RUNTIME_DIR ??
  fileURLToPath(new URL('../../../daemon/dist/runtime', import.meta.url));
const IMAGE = 'studio/base:1';
const INSTALLATION = 'test-installation';

let cluster: TestCluster;
let kubeConfig: KubeConfig;
let core: CoreV1Api;
let namespace: string;
let runtimeImage: string;

function open(reach: DaemonReach): Promise<KubernetesRuntime> {
  return KubernetesRuntime.open({
    kubeConfig,
    reach,
    placement: { namespace, installation: INSTALLATION, runtimeImage, imagePullPolicy: 'Never' },
  });
}

describe.runIf(binaries)('kubernetes driver on a tier-2 cluster', () => {
  beforeAll(async () => {
    const docker = new Docker();
    const cacheDir = defaultCacheDir(process.env, homedir());
    // Not side by side: building images starves a starting etcd of CPU on 2 cores.
    const template = await loadTemplate(imagesDir, 'base');
    await buildTemplateImage({ docker, template, imagesDir, cacheDir });
    runtimeImage = await buildContentImage({
      docker,
      imagesDir,
      cacheDir,
      folder: 'runtime',
      content: { runtime: runtimeDir },
    });
    const started = Date.now();
    cluster = await startCluster(binaries!, { nodes: true, readyTimeoutMs: 120_000 });
    console.info(`node ${cluster.node!.name} Ready ${Date.now() - started} ms after start`);
    const importing = Date.now();
    await importFromDocker(cluster.node!, [IMAGE, runtimeImage]);
    console.info(`imported ${IMAGE} and ${runtimeImage} in ${Date.now() - importing} ms`);
    kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(cluster.kubeconfigPath);
    core = kubeConfig.makeApiClient(CoreV1Api);
    namespace = `studio-${randomUUID().slice(0, 8)}`;
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    // On 1.20 a pod is refused until the controller manager made the namespace's default account.
    while (
      !(await core.readNamespacedServiceAccount({ name: 'default', namespace }).catch(() => null))
    )
      await sleep(100);
  }, 600_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 120_000);

  runRuntimeConformance({
    name: 'kubernetes (port-forward)',
    open: () => open('port-forward'),
    image: IMAGE,
    // Memory per pod; processes per pod by the node's podPidsLimit (test/k8s/cluster.ts).
    limits: true,
    // The test cluster's bridge network enforces no NetworkPolicy (that takes a CNI which does).
    networkIsolation: false,
    diskLimits: false,
  });

  describe('pods', () => {
    let runtime: KubernetesRuntime;
    const events: RuntimeEvent[] = [];
    let counter = 0;

    function spec(overrides: Partial<WorkspaceSpec> = {}): WorkspaceSpec {
      return {
        id: `k${randomUUID().slice(0, 8)}-${++counter}`,
        name: `pods-${counter}`,
        ownerId: 'owner-7',
        image: IMAGE,
        resources: { cpus: 1, memoryMiB: 256, pids: 128 },
        env: {},
        startCommands: [],
        ...overrides,
      };
    }

    beforeAll(async () => {
      runtime = await open('port-forward');
      runtime.onEvent((event) => events.push(event));
    });
    afterAll(() => runtime?.close());

    it('runs a bare pod of the workspace image, the baseline for start times', async () => {
      const created = Date.now();
      await core.createNamespacedPod({
        namespace,
        body: {
          metadata: { name: 'sleeper' },
          spec: {
            automountServiceAccountToken: false,
            containers: [
              {
                name: 'main',
                image: IMAGE,
                imagePullPolicy: 'Never',
                command: ['sh', '-c', 'echo hello from the pod && exec sleep infinity'],
              },
            ],
          },
        },
      });
      let pod: V1Pod;
      while (
        (pod = await core.readNamespacedPod({ name: 'sleeper', namespace })).status?.phase !==
        'Running'
      )
        await sleep(100);
      console.info(`bare pod Running ${Date.now() - created} ms after create`);
      expect(pod.spec?.nodeName).toBe(cluster.node!.name);
      expect(pod.status?.podIP).toMatch(/^10\.88\./);
      await core.deleteNamespacedPod({ name: 'sleeper', namespace, gracePeriodSeconds: 0 });
    }, 120_000);

    it('reaches the daemon at the pod IP, as a server inside the cluster does', async () => {
      const inside = await open('pod-ip');
      const workspace = spec();
      await inside.create(workspace);
      await inside.start(workspace.id);
      const daemon = await inside.connect(workspace.id);
      const info = await daemon.call('info', {});
      expect(info.user.uid).toBe(1000);
      daemon.close();
      await inside.remove(workspace.id);
      await inside.close();
    }, 120_000);

    it('keeps the home claim while stopped, and leaves nothing behind when removed', async () => {
      const workspace = spec();
      const names = objectNames(workspace.id);
      await runtime.create(workspace);
      await runtime.start(workspace.id);
      await runtime.stop(workspace.id);
      const claim = await core.readNamespacedPersistentVolumeClaim({ name: names.home, namespace });
      expect(claim.metadata?.labels?.[LABELS.owner]).toBe('owner-7');
      // Stopped: its pod is gone, or going with every container ended.
      const pods = await core.listNamespacedPod({
        namespace,
        labelSelector: `${LABELS.workspace}=${workspace.id}`,
      });
      for (const pod of pods.items) {
        expect(pod.metadata?.deletionTimestamp).toBeTruthy();
        expect(pod.status?.containerStatuses?.every((item) => item.state?.terminated)).toBe(true);
      }
      await runtime.remove(workspace.id);
      const selector = `${LABELS.workspace}=${workspace.id}`;
      const left = await Promise.all([
        core.listNamespacedPod({ namespace, labelSelector: selector }),
        core.listNamespacedSecret({ namespace, labelSelector: selector }),
        core.listNamespacedPersistentVolumeClaim({ namespace, labelSelector: selector }),
      ]);
      // The claim may linger a moment while its protection finalizer clears, already deleting.
      const metadata = left.flatMap((list) => list.items.map((item) => item.metadata));
      expect(metadata.filter((item) => !item?.deletionTimestamp)).toEqual([]);
    }, 120_000);

    it('reports a pod deleted behind its back as stopped, with the reason', async () => {
      const workspace = spec();
      await runtime.create(workspace);
      await runtime.start(workspace.id);
      // At once, maybe before the kubelet has said it runs: a 1.20 kubelet then loses the
      // deletion and its containers run on; the driver removes the pod once its end is overdue.
      const [pod] = (
        await core.listNamespacedPod({
          namespace,
          labelSelector: `${LABELS.workspace}=${workspace.id}`,
        })
      ).items;
      const deleted = Date.now();
      await core.deleteNamespacedPod({ name: pod!.metadata!.name!, namespace });
      for (let waited = 0; ; waited += 100) {
        const event = events.find((item) => item.id === workspace.id && item.state === 'stopped');
        if (event) {
          expect(event.reason).toMatch(/deleted outside Prometheus Studio/);
          console.info(`stopped event ${Date.now() - deleted} ms after the deletion`);
          break;
        }
        if (waited > 30_000) throw new Error(`no stopped event: ${JSON.stringify(events)}`);
        await sleep(100);
      }
      expect((await runtime.inspect(workspace.id))?.state).toBe('stopped');
      await runtime.remove(workspace.id);
    }, 60_000);

    it('says which image is missing', async () => {
      const workspace = spec({ image: 'studio/not-imported:1' });
      await runtime.create(workspace);
      await expect(runtime.start(workspace.id)).rejects.toMatchObject({
        code: 'image_missing',
        message: /studio\/not-imported:1/,
      });
      await runtime.remove(workspace.id);
    }, 60_000);

    it('moves a workspace onto the image its devcontainer.json names, its home kept', async () => {
      const workspace = spec({ env: { FROM_TEMPLATE: 'kept' } });
      await runtime.create(workspace);
      await runtime.start(workspace.id);
      // The runtime image stands in for a dev container's: another Debian, already imported.
      const config = JSON.stringify({
        image: runtimeImage,
        containerEnv: { GREETING: 'from the config' },
        postStartCommand: 'echo started > started.txt',
        forwardPorts: [8000],
      });
      let daemon = await runtime.connect(workspace.id);
      const written = await daemon.exec(
        'sh',
        [
          '-c',
          'mkdir -p repo/.devcontainer built && cat > repo/.devcontainer/devcontainer.json && echo \'{ "build": { "dockerfile": "Dockerfile" } }\' > built/.devcontainer.json',
        ],
        { stdin: config },
      );
      expect(written.code, written.stderr).toBe(0);
      daemon.close();

      expect(await runtime.buildDevcontainer(workspace.id, 'elsewhere')).toBeNull();
      await expect(runtime.buildDevcontainer(workspace.id, 'built')).rejects.toMatchObject({
        code: 'bad_request',
        message:
          /\.devcontainer\.json asks for an image to be built \("build"\), and Kubernetes workspaces/,
      });
      const build = await runtime.buildDevcontainer(workspace.id, 'repo');
      expect(build).toEqual({
        image: runtimeImage,
        config: '.devcontainer/devcontainer.json',
        env: { GREETING: 'from the config' },
        onCreate: [],
        onStart: ['echo started > started.txt'],
        forwardPorts: [{ port: 8000, label: null }],
        extensions: [],
      });

      const moved = {
        ...workspace,
        image: build!.image,
        env: { ...workspace.env, ...build!.env },
        startCommands: build!.onStart.map((command) => `cd repo && ${command}`),
      };
      expect((await runtime.recreate(moved)).state).toBe('stopped');
      await runtime.start(workspace.id);
      const pods = await core.listNamespacedPod({
        namespace,
        labelSelector: `${LABELS.workspace}=${workspace.id}`,
      });
      const live = pods.items.filter((pod) => !pod.metadata?.deletionTimestamp);
      expect(live.map((pod) => pod.spec?.containers[0]?.image)).toEqual([runtimeImage]);
      daemon = await runtime.connect(workspace.id);
      // Its start command runs in the background: give it a moment.
      const seen = await daemon.exec('sh', [
        '-c',
        'for i in $(seq 50); do [ -f repo/started.txt ] && break; sleep 0.1; done; echo "$GREETING / $FROM_TEMPLATE / $(cat repo/started.txt) / $(cat repo/.devcontainer/devcontainer.json | head -c 9)"',
      ]);
      expect(seen.stdout.trim()).toBe('from the config / kept / started / {"image":');
      daemon.close();
      await runtime.remove(workspace.id);
    }, 120_000);
  });
});
