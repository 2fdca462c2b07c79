// Kubernetes metrics for `npm run bench -- kubernetes`, on a tier-2 test cluster (test/k8s):
// a workspace from create to its daemon answering, beside a bare pod of the same image reaching
// Running in the same run; and a keystroke's echo from a terminal through the API server's
// port-forward, beside the same through the pod IP (what a server inside the cluster uses).
import { randomUUID } from 'node:crypto';
import { homedir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import {
  KubernetesRuntime,
  buildContentImage,
  buildTemplateImage,
  defaultCacheDir,
  loadTemplate,
  type DaemonConnection,
  type DaemonReach,
} from '@studio/runtime';
import Docker from 'dockerode';
import { importFromDocker, k8sBinaries, startCluster } from '../test/k8s/cluster.ts';
import { percentile } from './processes.ts';

export interface KubernetesMetric {
  value: number;
  unit: string;
  baseline?: number;
}

const IMAGES_DIR = fileURLToPath(new URL('../images', import.meta.url));
const IMAGE = 'studio/base:1';
const START_RUNS = 5;
const ECHO_RUNS = 200;
const WARMUP = 20;

export async function measureKubernetes(
  runtimeDir: string,
  log: (line: string) => void,
): Promise<Record<string, KubernetesMetric>> {
  const binaries = k8sBinaries('the Kubernetes bench', { nodes: true });
  if (!binaries) return {};
  const docker = new Docker();
  const cacheDir = defaultCacheDir(process.env, homedir());
  const template = await loadTemplate(IMAGES_DIR, 'base');
  await buildTemplateImage({ docker, template, imagesDir: IMAGES_DIR, cacheDir });
  const runtimeImage = await buildContentImage({
    docker,
    imagesDir: IMAGES_DIR,
    cacheDir,
    folder: 'runtime',
    content: { runtime: runtimeDir },
  });
  log('kubernetes: starting a tier-2 cluster');
  const cluster = await startCluster(binaries, { nodes: true, readyTimeoutMs: 120_000 });
  try {
    await importFromDocker(cluster.node!, [IMAGE, runtimeImage]);
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(cluster.kubeconfigPath);
    const core = kubeConfig.makeApiClient(CoreV1Api);
    const namespace = `bench-${randomUUID().slice(0, 8)}`;
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    while (
      !(await core.readNamespacedServiceAccount({ name: 'default', namespace }).catch(() => null))
    )
      await sleep(100);
    const open = (reach: DaemonReach) =>
      KubernetesRuntime.open({
        kubeConfig,
        reach,
        placement: { namespace, installation: 'bench', runtimeImage, imagePullPolicy: 'Never' },
      });
    const forwarded = await open('port-forward');
    const direct = await open('pod-ip');

    log('kubernetes: bare pods to Running');
    const bare: number[] = [];
    for (let i = 0; i < START_RUNS; i++) {
      const name = `bare-${i}`;
      const began = performance.now();
      await core.createNamespacedPod({
        namespace,
        body: {
          metadata: { name },
          spec: {
            automountServiceAccountToken: false,
            terminationGracePeriodSeconds: 0,
            containers: [
              {
                name: 'main',
                image: IMAGE,
                imagePullPolicy: 'Never',
                command: ['sleep', 'infinity'],
              },
            ],
          },
        },
      });
      while ((await core.readNamespacedPod({ name, namespace })).status?.phase !== 'Running')
        await sleep(20);
      bare.push(performance.now() - began);
      await core.deleteNamespacedPod({ name, namespace });
    }

    log('kubernetes: workspaces to a daemon answering');
    const workspaces: number[] = [];
    const ids: string[] = [];
    for (let i = 0; i < START_RUNS; i++) {
      const id = `bench-${i}`;
      ids.push(id);
      const began = performance.now();
      await forwarded.create({
        id,
        name: id,
        ownerId: 'bench',
        image: IMAGE,
        resources: { cpus: 1, memoryMiB: 512, pids: 256 },
        env: {},
        startCommands: [],
      });
      await forwarded.start(id);
      workspaces.push(performance.now() - began);
    }

    log('kubernetes: terminal echo');
    const echoThrough = async (runtime: KubernetesRuntime) => {
      const daemon = await runtime.connect(ids[0]!);
      try {
        return await echoTimes(daemon);
      } finally {
        daemon.close();
      }
    };
    const viaForward = await echoThrough(forwarded);
    const viaPodIp = await echoThrough(direct);

    for (const id of ids) await forwarded.remove(id);
    await forwarded.close();
    await direct.close();
    return {
      'k8s workspace create → daemon ready p50': {
        value: percentile(workspaces, 50),
        unit: 'ms',
        baseline: percentile(bare, 50),
      },
      'k8s terminal echo via port-forward p50': {
        value: percentile(viaForward, 50),
        unit: 'ms',
        baseline: percentile(viaPodIp, 50),
      },
      'k8s terminal echo via port-forward p95': {
        value: percentile(viaForward, 95),
        unit: 'ms',
        baseline: percentile(viaPodIp, 95),
      },
    };
  } finally {
    await cluster.stop();
  }
}

/** Type one character at a time into a shell and time each until its echo comes back. */
async function echoTimes(daemon: DaemonConnection): Promise<number[]> {
  const pty = await daemon.call('pty.open', { cols: 200, rows: 50 });
  const stream = await daemon.open('pty.attach', { id: pty.id });
  let waiting: { char: string; resolve: () => void } | null = null;
  stream.onData((payload) => {
    if (waiting && Buffer.from(payload).toString('utf8').includes(waiting.char)) waiting.resolve();
  });
  await sleep(500);
  const times: number[] = [];
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  for (let i = 0; i < WARMUP + ECHO_RUNS; i++) {
    // A fresh line now and then, so the line editor never redraws a long line.
    if (i % 50 === 0) {
      stream.write('\u0015');
      await sleep(50);
    }
    const char = letters[i % letters.length]!;
    const began = performance.now();
    await new Promise<void>((resolve) => {
      waiting = { char, resolve };
      stream.write(char);
    });
    waiting = null;
    if (i >= WARMUP) times.push(performance.now() - began);
  }
  stream.cancel();
  await daemon.call('pty.close', { id: pty.id });
  return times;
}
