import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ApiException,
  CoreV1Api,
  makeInformer,
  NetworkingV1Api,
  type Informer,
  type KubeConfig,
  type V1ContainerStatus,
  type V1Pod,
  type V1Secret,
} from '@kubernetes/client-node';
import { connectDaemon, uploadArchive } from '../daemon-client.ts';
import { DEVCONTAINER_CONFIG_PATHS, devcontainerFromImage } from '../devcontainer-config.ts';
import {
  RuntimeError,
  newDaemonSecret,
  type DaemonConnection,
  type DevcontainerBuild,
  type ProgressListener,
  type RuntimeEvent,
  type WorkspaceRuntime,
  type WorkspaceSpec,
  type WorkspaceState,
  type WorkspaceStats,
  type WorkspaceStatus,
} from '../runtime.ts';
import {
  DAEMON_PORT,
  homeAccessPodManifest,
  homeManifest,
  LABELS,
  networkPolicyManifest,
  objectNames,
  podManifest,
  secretManifest,
  type KubernetesPlacement,
} from './manifests.ts';
import { forwardOnce } from './port-forward.ts';
import { checkId as checkIdAgainst, untilDaemon } from '../kernel.ts';

/** How the server reaches a workspace's daemon. */
export type DaemonReach =
  /** At the pod's IP: the server runs in the cluster, where the network policy lets it in. */
  | 'pod-ip'
  /** Through the API server's port-forward: the server runs outside the cluster. */
  | 'port-forward';

export interface KubernetesRuntimeOptions {
  kubeConfig: KubeConfig;
  placement: KubernetesPlacement;
  reach: DaemonReach;
  /** Whether the storage class enforces a claim's size (most block-storage classes do). */
  diskLimits?: boolean;
  /** How long `start` waits for the pod and its daemon. */
  startTimeoutMs?: number;
}

// Pod and label names: DNS labels, so lower-case only; the longest object name must fit 63.
const ID_PATTERN = /^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/;
const WORKSPACE_CONTAINER = 'workspace';
// How often `start`, `stop` and `remove` look again while waiting on the cluster.
const POLL_MS = 100;
const STOP_TIMEOUT_MS = 60_000;
const CLAIM_WAIT_MS = 2_000;
const SETTLE_MS = 10_000;
// A devcontainer.json is a few hundred bytes; more than this is not one.
const MAX_CONFIG_BYTES = 1024 * 1024;
// Past a deleted pod's grace period, how long its kubelet gets before the object is removed.
const LOST_AFTER_MS = 10_000;
// Waiting reasons after which a pod will not start without a change (an image, a config).
const STUCK = new Set([
  'ErrImageNeverPull',
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'CreateContainerConfigError',
  'CreateContainerError',
  'CrashLoopBackOff',
  'RunContainerError',
]);

/**
 * Workspaces as pods. Each has a Secret (the daemon's secret and the workspace's spec; its
 * presence is the workspace's existence), a claim for the home folder that outlives the pod, a
 * NetworkPolicy letting only the platform in, and while running, a pod. Stop deletes the pod;
 * start makes it again from the spec.
 */
export class KubernetesRuntime implements WorkspaceRuntime {
  readonly kind = 'kubernetes';
  readonly isolation = 'container';
  readonly hostNetwork = false;
  readonly capabilities = { desktop: true };

  private readonly core: CoreV1Api;
  private readonly networking: NetworkingV1Api;
  private readonly namespace: string;
  private readonly selector: string;
  private readonly secrets = new Map<string, string>();
  private readonly listeners = new Set<(event: RuntimeEvent) => void>();
  private informer: Informer<V1Pod> | null = null;
  /** A folder (0700, made on first use) for the port-forwards' one-connection sockets. */
  private forwardDir: Promise<string> | null = null;
  /** The state last reported per workspace, so an event is sent only on a change. */
  private readonly reported = new Map<string, WorkspaceState>();
  /** Pods (uid) this driver deleted (stop, remove), so their end is not reported as a failure. */
  private readonly deleting = new Set<string>();
  /**
   * The pod (uid) per workspace whose daemon answered, maybe before the kubelet reported its
   * container running.
   */
  private readonly answered = new Map<string, string>();

  constructor(private readonly options: KubernetesRuntimeOptions) {
    this.core = options.kubeConfig.makeApiClient(CoreV1Api);
    this.networking = options.kubeConfig.makeApiClient(NetworkingV1Api);
    this.namespace = options.placement.namespace;
    this.selector = [
      `${LABELS.managedBy}=prometheus-studio`,
      `${LABELS.installation}=${options.placement.installation}`,
      // Pods that only give the driver a stopped workspace's home are not the workspace.
      `!${LABELS.homeAccess}`,
    ].join(',');
  }

  /** A driver whose namespace answers, or an `unavailable` error saying what is wrong. */
  static async open(options: KubernetesRuntimeOptions): Promise<KubernetesRuntime> {
    const runtime = new KubernetesRuntime(options);
    await runtime.core
      .listNamespacedPod({ namespace: runtime.namespace, limit: 1 })
      .catch((error: unknown) => {
        throw runtime.failure(error, `Listing pods in namespace ${runtime.namespace}`);
      });
    return runtime;
  }

  async diskLimits(): Promise<boolean> {
    return this.options.diskLimits ?? false;
  }

  async create(spec: WorkspaceSpec, onProgress?: ProgressListener): Promise<WorkspaceStatus> {
    checkId(spec.id);
    const progress = onProgress ?? (() => {});
    const { placement } = this.options;
    const secret = newDaemonSecret();
    progress('secret', objectNames(spec.id).secret);
    try {
      await this.core.createNamespacedSecret({
        namespace: this.namespace,
        body: secretManifest(spec, placement, secret),
      });
    } catch (error) {
      if (statusOf(error) === 409)
        throw new RuntimeError('already_exists', `Workspace ${spec.id} already exists.`);
      throw this.failure(error, `Creating workspace ${spec.id}`);
    }
    this.secrets.set(spec.id, secret);
    try {
      progress('volume', objectNames(spec.id).home);
      // Both settled before any cleanup: one still in flight would outlive the removal.
      const created = await Promise.allSettled([
        this.core.createNamespacedPersistentVolumeClaim({
          namespace: this.namespace,
          body: homeManifest(spec, placement),
        }),
        this.networking.createNamespacedNetworkPolicy({
          namespace: this.namespace,
          body: networkPolicyManifest(spec, placement),
        }),
      ]);
      const failed = created.find((result) => result.status === 'rejected');
      if (failed) throw failed.reason;
    } catch (error) {
      await this.remove(spec.id).catch(() => {});
      throw this.failure(error, `Creating workspace ${spec.id}`);
    }
    return this.statusFrom(spec, null);
  }

  /**
   * Unknown: the server's account reads its own namespace only (deploy/kubernetes), not nodes. A
   * pod larger than any node stays pending and its start says so ("Insufficient cpu").
   */
  async capacity(): Promise<null> {
    return null;
  }

  async start(id: string, onProgress?: ProgressListener): Promise<WorkspaceStatus> {
    checkId(id);
    const progress = onProgress ?? (() => {});
    const { spec } = await this.stored(id);
    const deadline = Date.now() + (this.options.startTimeoutMs ?? 120_000);
    let pod = await this.readPod(id);
    // A pod that failed (evicted, its image missing) stays failed: start again with a new one.
    if (pod && !pod.metadata?.deletionTimestamp && podState(pod).state === 'error') {
      await this.deletePod(id);
      pod = null;
    }
    if (!pod || pod.metadata?.deletionTimestamp) {
      // Each start makes a pod of its own name, so a stopped one need not be gone first (the
      // kubelet of 1.20 reports it gone up to 10 s after its containers ended); but two daemons
      // never share the home volume.
      if (pod) progress('stopping', 'waiting for the previous pod to end');
      await this.untilPodStopped(id, deadline);
      await this.untilClaimBound(id);
      progress('pod', objectNames(id).pod);
      try {
        pod = await this.core.createNamespacedPod({
          namespace: this.namespace,
          body: podManifest(spec, this.options.placement),
        });
      } catch (error) {
        throw this.failure(error, `Starting workspace ${id}`);
      }
    }
    progress('starting', 'waiting for the pod and its daemon');
    // The kubelet reports a container's start up to a second late (it relists once a second):
    // try the daemon as soon as the pod has an address rather than waiting for "Running".
    let latest: V1Pod | null = pod;
    await untilDaemon({
      id,
      timeoutMs: Math.max(deadline - Date.now(), 1_000),
      // Once the pod has an address the daemon is moments away: try again sooner.
      pollMs: () => (latest?.status?.podIP ? POLL_MS / 4 : POLL_MS),
      check: async () => {
        latest = await this.readPod(id);
        const status = this.statusFrom(spec, latest);
        if (status.state !== 'error' && status.state !== 'stopped') return;
        throw new RuntimeError(
          /ErrImage|ImagePull|InvalidImageName/.test(status.reason ?? '')
            ? 'image_missing'
            : 'unavailable',
          `Workspace ${id} stopped while starting: ${status.reason ?? 'its pod went away'}.`,
          { reason: status.reason },
        );
      },
      attempt: async () => {
        const current = latest;
        if (!current?.status?.podIP) return null;
        (await this.connectTo(id, current, 0)).close();
        this.answered.set(id, current.metadata?.uid ?? '');
        return current;
      },
      explain: async () => pendingReason(latest) ?? '',
    });
    return this.statusFrom(spec, latest);
  }

  async stop(id: string): Promise<WorkspaceStatus> {
    checkId(id);
    const { spec } = await this.stored(id);
    await this.deletePod(id);
    await this.untilPodStopped(id, Date.now() + STOP_TIMEOUT_MS);
    return this.statusFrom(spec, null);
  }

  /**
   * The dev container of the repository in `folder` (relative to the home) of a running
   * workspace: a cluster builds no images here, so it is the config's `image` as it is, with the
   * config's settings; a config that needs a build says so. Null when there is no config.
   */
  async buildDevcontainer(
    id: string,
    folder: string,
    onProgress?: ProgressListener,
  ): Promise<DevcontainerBuild | null> {
    checkId(id);
    const daemon = await this.connect(id);
    try {
      for (const config of DEVCONTAINER_CONFIG_PATHS) {
        let text: string;
        try {
          const file = await daemon.call('files.read', {
            path: `${folder}/${config}`,
            maxBytes: MAX_CONFIG_BYTES,
          });
          text = file.binary ? '' : file.content;
        } catch (error) {
          if (error instanceof RuntimeError && error.code === 'not_found') continue;
          throw error;
        }
        (onProgress ?? (() => {}))('devcontainer', `the image named in ${config}`);
        return devcontainerFromImage(text, config, 'Kubernetes');
      }
      return null;
    } finally {
      daemon.close();
    }
  }

  /**
   * Runs the workspace from `spec` from its next start (another image, env or start commands:
   * its dev container): its pod goes, its home claim stays, and the stored spec is replaced.
   */
  async recreate(spec: WorkspaceSpec, onProgress?: ProgressListener): Promise<WorkspaceStatus> {
    checkId(spec.id);
    const { secret } = await this.stored(spec.id);
    (onProgress ?? (() => {}))('pod', `${objectNames(spec.id).pod} from ${spec.image}`);
    await this.stop(spec.id);
    try {
      // With the secret's resourceVersion: a change made meanwhile elsewhere fails this one.
      await this.core.replaceNamespacedSecret({
        name: secret.metadata!.name!,
        namespace: this.namespace,
        body: {
          ...secret,
          data: { ...secret.data, spec: Buffer.from(JSON.stringify(spec)).toString('base64') },
        },
      });
    } catch (error) {
      throw this.failure(error, `Replacing workspace ${spec.id}`);
    }
    return this.statusFrom(spec, null);
  }

  async remove(id: string): Promise<void> {
    checkId(id);
    const names = objectNames(id);
    const ignoreMissing = (error: unknown) => {
      if (statusOf(error) !== 404) throw this.failure(error, `Removing workspace ${id}`);
    };
    await this.deletePod(id);
    await this.untilPodStopped(id, Date.now() + STOP_TIMEOUT_MS);
    const namespace = this.namespace;
    await this.networking
      .deleteNamespacedNetworkPolicy({ name: names.policy, namespace })
      .catch(ignoreMissing);
    await this.core
      .deleteNamespacedPersistentVolumeClaim({ name: names.home, namespace })
      .catch(ignoreMissing);
    // Last: while the secret is there, the workspace is listed and a retry can finish the job.
    await this.core.deleteNamespacedSecret({ name: names.secret, namespace }).catch(ignoreMissing);
    this.secrets.delete(id);
    this.reported.delete(id);
    this.answered.delete(id);
  }

  async inspect(id: string): Promise<WorkspaceStatus | null> {
    if (!ID_PATTERN.test(id)) return null;
    const stored = await this.stored(id).catch((error: unknown) => {
      if (error instanceof RuntimeError && error.code === 'not_found') return null;
      throw error;
    });
    if (!stored) return null;
    return this.statusFrom(stored.spec, await this.readPod(id));
  }

  async list(): Promise<WorkspaceStatus[]> {
    const [secrets, pods] = await Promise.all([
      this.core.listNamespacedSecret({ namespace: this.namespace, labelSelector: this.selector }),
      this.core.listNamespacedPod({ namespace: this.namespace, labelSelector: this.selector }),
    ]).catch((error: unknown) => {
      throw this.failure(error, 'Listing workspaces');
    });
    const podsOf = new Map<string, V1Pod[]>();
    for (const pod of pods.items) {
      const id = pod.metadata?.labels?.[LABELS.workspace] ?? '';
      podsOf.set(id, [...(podsOf.get(id) ?? []), pod]);
    }
    return secrets.items.flatMap((secret) => {
      const spec = specOf(secret);
      return spec ? [this.statusFrom(spec, newest(podsOf.get(spec.id) ?? []))] : [];
    });
  }

  async connect(id: string): Promise<DaemonConnection> {
    checkId(id);
    const { spec } = await this.stored(id);
    const pod = await this.readPod(id);
    const { state } = this.statusFrom(spec, pod);
    if (state === 'running') return this.connectTo(id, pod!, 10_000);
    // Started through another replica, whose daemon may answer before the kubelet says so.
    if (state === 'starting' && pod?.status?.podIP) {
      const daemon = await this.connectTo(id, pod, 0).catch(() => null);
      if (daemon) {
        this.answered.set(id, pod.metadata?.uid ?? '');
        return daemon;
      }
    }
    throw new RuntimeError('workspace_not_running', `Workspace ${id} is not running.`);
  }

  /** Through the daemon: the workspace's own when it runs, else one started on its claim. */
  async exportHome(id: string): Promise<Readable> {
    checkId(id);
    const { daemon, release } = await this.homeDaemon(id);
    try {
      const stream = await daemon.open('files.download', { path: '.' }, { manualAck: true });
      const out = new PassThrough();
      // Acknowledged once read on: a slow reader pauses the daemon's tar.
      stream.onData((payload) => out.write(payload, () => stream.ack(payload.byteLength)));
      stream.onEnd((error) => (error ? out.destroy(error) : out.end()));
      out.once('close', () => {
        if (!out.writableFinished) stream.cancel();
        void release();
      });
      return out;
    } catch (error) {
      await release();
      throw error;
    }
  }

  /** Unpacked by the daemon, as the workspace's user, on a pod started on its claim. */
  async importHome(id: string, archive: Readable): Promise<void> {
    checkId(id);
    const { daemon, release } = await this.homeDaemon(id);
    try {
      await uploadArchive(daemon, '.', archive, 2 ** 50);
    } finally {
      await release();
    }
  }

  /**
   * A daemon on the workspace's home: its own when it runs, else one on a pod started for this
   * (no start commands, left out of the driver's listings) and removed by `release`.
   */
  private async homeDaemon(
    id: string,
  ): Promise<{ daemon: DaemonConnection; release: () => Promise<void> }> {
    const { spec } = await this.stored(id);
    const current = await this.readPod(id);
    if (this.statusFrom(spec, current).state === 'running') {
      const daemon = await this.connectTo(id, current!, 10_000);
      return { daemon, release: async () => daemon.close() };
    }
    await this.untilClaimBound(id);
    let pod: V1Pod;
    try {
      pod = await this.core.createNamespacedPod({
        namespace: this.namespace,
        body: homeAccessPodManifest(spec, this.options.placement),
      });
    } catch (error) {
      throw this.failure(error, `Reaching the home of ${id}`);
    }
    const name = pod.metadata!.name!;
    const remove = () =>
      this.core
        .deleteNamespacedPod({ name, namespace: this.namespace, gracePeriodSeconds: 0 })
        .then(
          () => {},
          () => {},
        );
    try {
      const daemon = await untilDaemon({
        id,
        timeoutMs: this.options.startTimeoutMs ?? 120_000,
        pollMs: () => POLL_MS,
        check: async () => {
          pod = await this.core.readNamespacedPod({ name, namespace: this.namespace });
          if (pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded')
            throw new RuntimeError(
              'unavailable',
              `The pod reading the home of ${id} ended: ${pendingReason(pod) ?? pod.status.phase}.`,
            );
        },
        attempt: async () => (pod.status?.podIP ? this.connectTo(id, pod, 0) : null),
        explain: async () => pendingReason(pod) ?? '',
      });
      return {
        daemon,
        release: async () => {
          daemon.close();
          await remove();
        },
      };
    } catch (error) {
      await remove();
      throw error;
    }
  }

  async logs(id: string, tail = 200): Promise<string> {
    checkId(id);
    await this.stored(id);
    const pod = await this.readPod(id);
    if (!pod) return '';
    try {
      return await this.core.readNamespacedPodLog({
        name: pod.metadata!.name!,
        namespace: this.namespace,
        container: WORKSPACE_CONTAINER,
        tailLines: tail,
      });
    } catch (error) {
      // No pod (stopped) or no container yet: nothing logged.
      if (statusOf(error) === 404 || statusOf(error) === 400) return '';
      throw this.failure(error, `Reading the log of workspace ${id}`);
    }
  }

  /**
   * Read from the workspace's own cgroup by the daemon: the metrics API is an add-on many
   * clusters lack, and the kubelet's summary needs node rights the platform should not have.
   */
  async stats(id: string): Promise<WorkspaceStats> {
    const daemon = await this.connect(id);
    try {
      const result = await daemon.exec('sh', ['-c', STATS_SCRIPT], { timeoutMs: 10_000 });
      const [memory, limit, pids, cpuBefore, cpuAfter] = result.stdout
        .trim()
        .split(/\s+/)
        .map(Number);
      const cpuNanos = (cpuAfter ?? 0) - (cpuBefore ?? 0);
      return {
        // Over 200 ms: nanoseconds × 100 / 200e6 = percent of one core.
        cpuPercent: Math.max(0, cpuNanos / 2e6),
        memoryBytes: memory ?? 0,
        // cgroup v1 reports "no limit" as a huge number.
        memoryLimitBytes: limit && limit < 2 ** 60 ? limit : null,
        pids: pids ?? 0,
      };
    } finally {
      daemon.close();
    }
  }

  onEvent(listener: (event: RuntimeEvent) => void): () => void {
    this.listeners.add(listener);
    if (!this.informer) this.watch();
    return () => {
      this.listeners.delete(listener);
    };
  }

  async close(): Promise<void> {
    const informer = this.informer;
    this.informer = null;
    await informer?.stop();
    const dir = await this.forwardDir?.catch(() => null);
    this.forwardDir = null;
    if (dir) await rm(dir, { recursive: true, force: true });
  }

  /** Follow the installation's pods and report each workspace's changes of state. */
  private watch(): void {
    const informer = makeInformer(
      this.options.kubeConfig,
      `/api/v1/namespaces/${this.namespace}/pods`,
      () =>
        this.core.listNamespacedPod({ namespace: this.namespace, labelSelector: this.selector }),
      this.selector,
    );
    /** The newest pod per workspace: an older one ending after a restart says nothing. */
    const current = new Map<string, V1Pod>();
    /** Pods deleted outside, looked at again once their end is overdue (by uid). */
    const overdue = new Map<string, NodeJS.Timeout>();
    // Nobody's `stop` waits on a pod deleted outside: if its kubelet lost the deletion, its
    // containers run on and the workspace would show `stopping` for good. Past its grace period
    // and LOST_AFTER_MS, the object is removed, and its kubelet kills what it still runs.
    const endIfLost = (pod: V1Pod) => {
      const uid = pod.metadata!.uid!;
      const at = new Date(pod.metadata!.deletionTimestamp!).getTime() + LOST_AFTER_MS;
      const timer = setTimeout(
        async () => {
          overdue.delete(uid);
          if (this.informer !== informer) return;
          const again = await this.core
            .readNamespacedPod({ name: pod.metadata!.name!, namespace: this.namespace })
            .catch(() => null);
          if (again?.metadata?.uid === uid && lost(again))
            await this.forceDelete(again).catch(() => {});
        },
        Math.max(at - Date.now(), 0) + POLL_MS,
      );
      overdue.set(uid, timer.unref());
    };
    const changed = (pod: V1Pod, gone = false) => {
      const id = pod.metadata?.labels?.[LABELS.workspace];
      const uid = pod.metadata?.uid ?? '';
      if (!id) return;
      const known = current.get(id);
      if (known && known.metadata?.uid !== uid && newest([known, pod]) === known) return;
      current.set(id, pod);
      const { state, reason: stated } = gone
        ? { state: 'stopped' as const, reason: null }
        : podState(pod);
      const outside = (gone || pod.metadata?.deletionTimestamp) && !this.deleting.has(uid);
      const reason = outside
        ? (pod.status?.message ?? 'its pod was deleted outside Prometheus Studio')
        : stated;
      if (gone) {
        this.deleting.delete(uid);
        current.delete(id);
        clearTimeout(overdue.get(uid));
        overdue.delete(uid);
      } else if (outside && state === 'stopping' && !overdue.has(uid)) {
        endIfLost(pod);
      }
      // Steps in between are the lifecycle's to report (as with Docker): a replica not driving
      // them would otherwise leave its row at `stopping` when the final event follows.
      if (state === 'starting' || state === 'stopping') return;
      if (this.reported.get(id) === state) return;
      this.reported.set(id, state);
      for (const listener of this.listeners) listener({ id, state, reason });
    };
    informer.on('add', (pod) => changed(pod));
    informer.on('update', (pod) => changed(pod));
    informer.on('delete', (pod) => changed(pod, true));
    // The informer stops on an error (an expired watch, the API server restarting): start again.
    informer.on('error', () => {
      if (this.informer !== informer) return;
      setTimeout(() => {
        if (this.informer === informer) void informer.start().catch(() => {});
      }, 1_000).unref();
    });
    this.informer = informer;
    void informer.start().catch(() => {});
  }

  private async connectTo(id: string, pod: V1Pod, timeoutMs: number): Promise<DaemonConnection> {
    const secret = await this.secretOf(id);
    const deadline = Date.now() + timeoutMs;
    if (this.options.reach === 'pod-ip') {
      const ip = pod.status?.podIP;
      if (!ip)
        throw new RuntimeError('workspace_not_running', `Workspace ${id} has no pod IP yet.`);
      return connectDaemon({ url: `ws://${ip}:${DAEMON_PORT}`, secret, timeoutMs });
    }
    // Each try needs a forward of its own: one forward carries one connection.
    this.forwardDir ??= mkdtemp(join(tmpdir(), 'studio-k8s-forward-'));
    const dir = await this.forwardDir;
    for (;;) {
      const socketPath = await forwardOnce(
        this.options.kubeConfig,
        { namespace: this.namespace, pod: pod.metadata!.name!, port: DAEMON_PORT },
        dir,
      );
      try {
        return await connectDaemon({ socketPath, secret });
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await sleep(POLL_MS);
      }
    }
  }

  private async stored(id: string): Promise<{ spec: WorkspaceSpec; secret: V1Secret }> {
    let secret: V1Secret;
    try {
      secret = await this.core.readNamespacedSecret({
        name: objectNames(id).secret,
        namespace: this.namespace,
      });
    } catch (error) {
      if (statusOf(error) === 404)
        throw new RuntimeError('not_found', `There is no workspace ${id}.`);
      throw this.failure(error, `Reading workspace ${id}`);
    }
    const spec = specOf(secret);
    if (!spec)
      throw new RuntimeError('internal', `The secret of workspace ${id} holds no readable spec.`);
    const value = secret.data?.secret;
    if (value) this.secrets.set(id, Buffer.from(value, 'base64').toString('utf8'));
    return { spec, secret };
  }

  private async secretOf(id: string): Promise<string> {
    const cached = this.secrets.get(id);
    if (cached) return cached;
    await this.stored(id);
    const secret = this.secrets.get(id);
    if (!secret) throw new RuntimeError('internal', `Workspace ${id} has no daemon secret.`);
    return secret;
  }

  /** The workspace's pods: usually one, and for a moment after a restart an ended one too. */
  private async podsOf(id: string): Promise<V1Pod[]> {
    try {
      const list = await this.core.listNamespacedPod({
        namespace: this.namespace,
        labelSelector: `${this.selector},${LABELS.workspace}=${id}`,
      });
      return list.items;
    } catch (error) {
      throw this.failure(error, `Reading the pods of workspace ${id}`);
    }
  }

  /**
   * Remove the object of a pod whose kubelet never acted on its deletion (a node that is gone,
   * or a 1.20 kubelet that lost a deletion arriving just after the start); the kubelet, if any,
   * then kills what it still runs of a pod it no longer has.
   */
  private async forceDelete(pod: V1Pod): Promise<void> {
    await this.core
      .deleteNamespacedPod({
        name: pod.metadata!.name!,
        namespace: this.namespace,
        gracePeriodSeconds: 0,
      })
      .catch((error: unknown) => {
        if (statusOf(error) !== 404) throw this.failure(error, 'Removing a stuck pod');
      });
  }

  /** The workspace's current pod: the newest not being deleted, else the newest. */
  private async readPod(id: string): Promise<V1Pod | null> {
    return newest(await this.podsOf(id));
  }

  private async deletePod(id: string): Promise<void> {
    for (let pod of await this.podsOf(id)) {
      if (pod.metadata?.deletionTimestamp) continue;
      const name = pod.metadata!.name!;
      this.deleting.add(pod.metadata!.uid!);
      // A kubelet of 1.20 told of the deletion before it reported the pod started never stops
      // it; the daemon answers up to a second before that report.
      for (const deadline = Date.now() + SETTLE_MS; Date.now() < deadline; await sleep(POLL_MS)) {
        if (!startingByKubelet(pod)) break;
        const again = await this.core
          .readNamespacedPod({ name, namespace: this.namespace })
          .catch(() => null);
        if (!again) break;
        pod = again;
      }
      try {
        await this.core.deleteNamespacedPod({ name, namespace: this.namespace });
      } catch (error) {
        if (statusOf(error) !== 404) throw this.failure(error, `Stopping workspace ${id}`);
      }
    }
  }

  /** Wait until the workspace's pods have all been deleted and their containers ended. */
  private async untilPodStopped(id: string, deadline: number): Promise<void> {
    for (;;) {
      const pods = await this.podsOf(id);
      const ended = pods.every(
        (pod) => pod.metadata?.deletionTimestamp && podState(pod).state === 'stopped',
      );
      if (ended) return;
      if (pods.some((pod) => !pod.metadata?.deletionTimestamp)) await this.deletePod(id);
      for (const pod of pods) if (lost(pod)) await this.forceDelete(pod);
      if (Date.now() > deadline)
        throw new RuntimeError('timeout', `The pod of workspace ${id} is still terminating.`);
      await sleep(POLL_MS);
    }
  }

  /**
   * A pod whose claim is still unbound is refused by the scheduler and retried after a back-off
   * of a second or more; a claim the provisioner is about to bind is worth a short wait. Claims
   * of a class that binds on first use stay pending: go ahead after the wait.
   */
  private async untilClaimBound(id: string): Promise<void> {
    const deadline = Date.now() + CLAIM_WAIT_MS;
    while (Date.now() < deadline) {
      const claim = await this.core
        .readNamespacedPersistentVolumeClaim({
          name: objectNames(id).home,
          namespace: this.namespace,
        })
        .catch(() => null);
      if (!claim || claim.status?.phase !== 'Pending') return;
      await sleep(POLL_MS / 2);
    }
  }

  private statusFrom(spec: WorkspaceSpec, pod: V1Pod | null): WorkspaceStatus {
    const found = pod ? podState(pod) : { state: 'stopped' as const, reason: null };
    const { reason } = found;
    // The daemon answered before the kubelet reported the container running.
    const state =
      found.state === 'starting' && pod && this.answered.get(spec.id) === pod.metadata?.uid
        ? 'running'
        : found.state;
    const started = pod && (containerOf(pod)?.state?.running?.startedAt ?? pod.status?.startTime);
    return {
      id: spec.id,
      state,
      isolation: this.isolation,
      startedAt: state === 'running' && started ? new Date(started) : null,
      reason,
      labels: {
        'studio.workspace': spec.id,
        'studio.owner': spec.ownerId,
        'studio.name': spec.name,
      },
    };
  }

  /** A cluster error as a RuntimeError a user can act on. */
  private failure(error: unknown, doing: string): RuntimeError {
    if (error instanceof RuntimeError) return error;
    const status = statusOf(error);
    const message = apiMessage(error);
    if (status === 422) return new RuntimeError('bad_request', `${doing}: ${message}`);
    if (status === 401)
      return new RuntimeError(
        'engine_unavailable',
        `${doing}: the cluster did not accept the server's credentials (${message}).`,
      );
    if (status === 403 && /quota/i.test(message))
      return new RuntimeError('forbidden', `${doing}: ${message}`);
    if (status === 403)
      return new RuntimeError(
        'forbidden',
        `${doing}: the cluster refused (${message}); give the server's service account the Role in deploy/kubernetes.`,
      );
    if (status === undefined)
      return new RuntimeError(
        'engine_unavailable',
        `${doing}: the Kubernetes API server does not answer (${message}); check the kubeconfig or the in-cluster service account.`,
      );
    return new RuntimeError('internal', `${doing}: ${message}`);
  }
}

// Memory in use, its limit, processes, and CPU time before and after 200 ms, from the
// workspace's cgroup (v2 at the root of the container's view, else the v1 controllers).
const STATS_SCRIPT = `
if [ -f /sys/fs/cgroup/memory.current ]; then
  m=$(cat /sys/fs/cgroup/memory.current); l=$(cat /sys/fs/cgroup/memory.max); p=$(cat /sys/fs/cgroup/pids.current)
  cpu() { awk '/^usage_usec/ { print $2 * 1000 }' /sys/fs/cgroup/cpu.stat; }
else
  m=$(cat /sys/fs/cgroup/memory/memory.usage_in_bytes); l=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes); p=$(cat /sys/fs/cgroup/pids/pids.current)
  cpu() { cat /sys/fs/cgroup/cpuacct/cpuacct.usage 2>/dev/null || cat /sys/fs/cgroup/cpu,cpuacct/cpuacct.usage; }
fi
[ "$l" = max ] && l=0
a=$(cpu); sleep 0.2; b=$(cpu)
echo "$m $l $p $a $b"
`;

function checkId(id: string): void {
  checkIdAgainst(id, ID_PATTERN, '1–40 lower-case letters, digits or dashes (a Kubernetes name)');
}

function specOf(secret: V1Secret): WorkspaceSpec | null {
  const raw = secret.data?.spec;
  if (!raw) return null;
  try {
    return JSON.parse(Buffer.from(raw, 'base64').toString('utf8')) as WorkspaceSpec;
  } catch {
    return null;
  }
}

function containerOf(pod: V1Pod): V1ContainerStatus | undefined {
  return pod.status?.containerStatuses?.find((status) => status.name === WORKSPACE_CONTAINER);
}

/** Where a pod is, in the driver's words. */
function podState(pod: V1Pod): { state: WorkspaceState; reason: string | null } {
  if (pod.metadata?.deletionTimestamp) {
    const statuses = pod.status?.containerStatuses ?? [];
    const ended = statuses.length > 0 && statuses.every((item) => item.state?.terminated);
    return { state: ended ? 'stopped' : 'stopping', reason: null };
  }
  const phase = pod.status?.phase;
  if (phase === 'Failed' || phase === 'Succeeded') {
    const terminated = containerOf(pod)?.state?.terminated;
    return {
      state: 'error',
      reason:
        pod.status?.message ??
        (terminated ? `${terminated.reason ?? 'exited'} (code ${terminated.exitCode})` : phase),
    };
  }
  const statuses = [
    ...(pod.status?.initContainerStatuses ?? []),
    ...(pod.status?.containerStatuses ?? []),
  ];
  for (const status of statuses) {
    const waiting = status.state?.waiting;
    if (waiting?.reason && STUCK.has(waiting.reason)) {
      const last = status.lastState?.terminated;
      const why = last?.reason === 'OOMKilled' ? 'killed: out of memory' : waiting.message;
      return {
        state: 'error',
        reason: `${status.name}: ${waiting.reason}${why ? ` (${why})` : ''}`,
      };
    }
  }
  if (phase === 'Running' && containerOf(pod)?.state?.running)
    return { state: 'running', reason: null };
  return { state: 'starting', reason: null };
}

/**
 * Whether a deleted pod's containers still run well past its grace period (the deletion
 * timestamp is when it ends): its kubelet is not going to stop it.
 */
function lost(pod: V1Pod): boolean {
  const until = pod.metadata?.deletionTimestamp;
  if (!until || podState(pod).state === 'stopped') return false;
  return Date.now() > new Date(until).getTime() + LOST_AFTER_MS;
}

/** The newest pod not being deleted, else the newest. */
function newest(pods: V1Pod[]): V1Pod | null {
  const created = (pod: V1Pod) => new Date(pod.metadata?.creationTimestamp ?? 0).getTime();
  const sorted = [...pods].sort((a, b) => created(b) - created(a));
  return sorted.find((pod) => !pod.metadata?.deletionTimestamp) ?? sorted[0] ?? null;
}

/** Whether the kubelet has yet to report the pod's containers started (or failing). */
function startingByKubelet(pod: V1Pod): boolean {
  return pod.status?.phase === 'Pending' && podState(pod).state === 'starting';
}

/** Why a pod is still pending, when the cluster says (an unschedulable pod, say). */
function pendingReason(pod: V1Pod | null): string | null {
  const condition = pod?.status?.conditions?.find(
    (item) => item.type === 'PodScheduled' && item.status === 'False',
  );
  return condition?.message ?? null;
}

function statusOf(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined;
}

function apiMessage(error: unknown): string {
  if (error instanceof ApiException) {
    try {
      const body = typeof error.body === 'string' ? JSON.parse(error.body) : error.body;
      if (body?.message) return String(body.message);
    } catch {
      // not JSON
    }
    return `HTTP ${error.code}`;
  }
  return error instanceof Error ? error.message : String(error);
}
