import type {
  V1NetworkPolicy,
  V1PersistentVolumeClaim,
  V1Pod,
  V1Secret,
} from '@kubernetes/client-node';
import { hostnameOf } from '../hostname.ts';
import { daemonEnv, type WorkspaceSpec } from '../runtime.ts';

/** The workspace user, as in every image (see images/README.md). */
const WORKSPACE_UID = 1000;
const HOME = '/home/user';
/** Where the daemon listens inside the pod; only the platform's pods may reach it. */
export const DAEMON_PORT = 7070;
const SECRET_DIR = '/run/studio-secret';
const RUNTIME_DIR = '/opt/studio';
/** The home volume when the template names no disk size. */
const DEFAULT_DISK_MIB = 10_240;

/** Labels every object of a workspace carries: who owns it, which workspace, which installation. */
export const LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  workspace: 'studio.dev/workspace',
  owner: 'studio.dev/owner',
  installation: 'studio.dev/installation',
  /**
   * On a pod started only to read or fill a stopped workspace's home (backups, imports): the
   * driver's own listings leave it out, so the workspace never looks started because of it.
   */
  homeAccess: 'studio.dev/home-access',
} as const;
/** The label the platform's own pods carry; the network policy lets only them in. */
export const SERVER_SELECTOR = { 'app.kubernetes.io/name': 'prometheus-studio-server' };

/** How this installation runs workspaces on the cluster. */
export interface KubernetesPlacement {
  namespace: string;
  /** Tells this installation's objects from another's in the same namespace. */
  installation: string;
  /** The image holding the daemon runtime at /opt/studio, copied in by the init container. */
  runtimeImage: string;
  /** `Never` on clusters whose images are imported by hand (the tests), else `IfNotPresent`. */
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  storageClassName?: string;
}

/** The names of a workspace's objects, all derived from its id. */
export function objectNames(id: string) {
  const base = `studio-ws-${id}`;
  return { pod: base, home: `${base}-home`, secret: `${base}-daemon`, policy: base };
}

/** Name, namespace and the labels that find every object of the workspace. */
function metadataOf(spec: WorkspaceSpec, placement: KubernetesPlacement, name: string) {
  return {
    name,
    namespace: placement.namespace,
    labels: {
      [LABELS.managedBy]: 'prometheus-studio',
      [LABELS.workspace]: spec.id,
      [LABELS.owner]: spec.ownerId,
      [LABELS.installation]: placement.installation,
    },
  };
}

/**
 * The daemon's secret, which the pod mounts read-only, and the workspace's spec, from which each
 * start makes the pod again. Replicas read both from here.
 */
export function secretManifest(
  spec: WorkspaceSpec,
  placement: KubernetesPlacement,
  secret: string,
): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: metadataOf(spec, placement, objectNames(spec.id).secret),
    type: 'Opaque',
    stringData: { secret, spec: JSON.stringify(spec) },
  };
}

/** The home folder: it survives stop and start (the pod goes, the claim stays). */
export function homeManifest(
  spec: WorkspaceSpec,
  placement: KubernetesPlacement,
): V1PersistentVolumeClaim {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: metadataOf(spec, placement, objectNames(spec.id).home),
    spec: {
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: `${spec.resources.diskMiB ?? DEFAULT_DISK_MIB}Mi` } },
      ...(placement.storageClassName ? { storageClassName: placement.storageClassName } : {}),
    },
  };
}

/** Only the platform's pods reach a workspace, and only on the daemon's port. */
export function networkPolicyManifest(
  spec: WorkspaceSpec,
  placement: KubernetesPlacement,
): V1NetworkPolicy {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: metadataOf(spec, placement, objectNames(spec.id).policy),
    spec: {
      podSelector: { matchLabels: { [LABELS.workspace]: spec.id } },
      policyTypes: ['Ingress', 'Egress'],
      // Out anywhere but link-local: no cloud metadata service (169.254.169.254), as with Docker.
      egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['169.254.0.0/16'] } }] }],
      ingress: [
        {
          // client-node's name for `from` (a reserved word); it writes `from` on the wire.
          _from: [{ podSelector: { matchLabels: SERVER_SELECTOR } }],
          ports: [{ protocol: 'TCP', port: DAEMON_PORT }],
        },
      ],
    },
  };
}

/**
 * The workspace's pod, meeting the Pod Security Standard "restricted": non-root, no privilege
 * escalation, every capability dropped, seccomp RuntimeDefault, no service-account token. An
 * init container copies the daemon runtime into a shared emptyDir at /opt/studio (the Docker
 * driver's layout), so user images need no change.
 */
export function podManifest(spec: WorkspaceSpec, placement: KubernetesPlacement): V1Pod {
  const names = objectNames(spec.id);
  const pullPolicy = placement.imagePullPolicy ?? 'IfNotPresent';
  const memory = `${spec.resources.memoryMiB}Mi`;
  const cpu = `${Math.round(spec.resources.cpus * 1000)}m`;
  // Workspaces idle most of the time: the scheduler reserves a tenth of the CPU limit, so a node
  // holds many; memory, which cannot be taken back, is reserved in full.
  const cpuRequest = `${Math.max(10, Math.round(spec.resources.cpus * 100))}m`;
  const restricted = {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
  };
  // tmpfs pages count against the memory limit: a quarter, as in the Docker driver.
  const tmpLimit = `${Math.floor(spec.resources.memoryMiB / 4)}Mi`;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    // A name of its own per start: a restart need not wait for the last pod's object to go.
    metadata: {
      ...metadataOf(spec, placement, ''),
      name: undefined,
      generateName: `${names.pod}-`,
    },
    spec: {
      hostname: hostnameOf(spec.name),
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 5,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: WORKSPACE_UID,
        runAsGroup: WORKSPACE_UID,
        fsGroup: WORKSPACE_UID,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      initContainers: [
        {
          name: 'runtime',
          image: placement.runtimeImage,
          imagePullPolicy: pullPolicy,
          // Not -a: the emptyDir's root is not the workspace user's to set times on.
          command: ['cp', '-R', `${RUNTIME_DIR}/.`, '/runtime/'],
          securityContext: restricted,
          // A pod reserves the most of any init container and the sum of the others: keep the
          // copy's reservation below the workspace's own.
          resources: {
            requests: { cpu: '10m', memory: '32Mi' },
            limits: { cpu: '500m', memory: '128Mi' },
          },
          volumeMounts: [{ name: 'runtime', mountPath: '/runtime' }],
        },
      ],
      containers: [
        {
          name: 'workspace',
          image: spec.image,
          imagePullPolicy: pullPolicy,
          command: [`${RUNTIME_DIR}/bin/node`, `${RUNTIME_DIR}/daemon.mjs`],
          workingDir: HOME,
          env: Object.entries(
            daemonEnv(spec.env, {
              HOME,
              USER: 'user',
              STUDIO_DAEMON_LISTEN: `tcp:0.0.0.0:${DAEMON_PORT}`,
              STUDIO_DAEMON_SECRET_FILE: `${SECRET_DIR}/secret`,
              STUDIO_WORKSPACE_ROOT: HOME,
              STUDIO_START_COMMANDS: JSON.stringify(spec.startCommands),
            }),
          ).map(([name, value]) => ({ name, value })),
          ports: [{ name: 'daemon', containerPort: DAEMON_PORT, protocol: 'TCP' }],
          resources: { requests: { cpu: cpuRequest, memory }, limits: { cpu, memory } },
          securityContext: restricted,
          volumeMounts: [
            { name: 'home', mountPath: HOME },
            { name: 'runtime', mountPath: RUNTIME_DIR, readOnly: true },
            { name: 'secret', mountPath: SECRET_DIR, readOnly: true },
            { name: 'tmp', mountPath: '/tmp' },
            { name: 'var-tmp', mountPath: '/var/tmp' },
          ],
        },
      ],
      volumes: [
        { name: 'home', persistentVolumeClaim: { claimName: names.home } },
        { name: 'runtime', emptyDir: {} },
        // 0440 with fsGroup: the workspace user reads it, nobody writes it.
        {
          name: 'secret',
          secret: {
            secretName: names.secret,
            items: [{ key: 'secret', path: 'secret' }],
            defaultMode: 0o440,
          },
        },
        { name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: tmpLimit } },
        { name: 'var-tmp', emptyDir: { medium: 'Memory', sizeLimit: tmpLimit } },
      ],
    },
  };
}

/**
 * A pod that runs only the daemon on a stopped workspace's home (no start commands), for the
 * driver to read or fill it: the workspace pod's isolation and network policy, its own name.
 */
export function homeAccessPodManifest(spec: WorkspaceSpec, placement: KubernetesPlacement): V1Pod {
  const pod = podManifest({ ...spec, startCommands: [] }, placement);
  return {
    ...pod,
    metadata: {
      ...pod.metadata,
      generateName: `${objectNames(spec.id).pod}-home-access-`,
      labels: { ...pod.metadata!.labels, [LABELS.homeAccess]: 'true' },
    },
    // Ended by the cluster if the server that started it died before removing it.
    spec: { ...pod.spec!, restartPolicy: 'Never', activeDeadlineSeconds: 6 * 3600 },
  };
}
