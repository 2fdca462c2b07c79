import {
  CoreV1Api,
  KubeConfig,
  NetworkingV1Api,
  type V1Container,
  type V1Pod,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { k8sBinaries, startCluster, type TestCluster } from '../../../../test/k8s/cluster.ts';
import type { WorkspaceSpec } from '../runtime.ts';
import {
  DAEMON_PORT,
  homeManifest,
  LABELS,
  networkPolicyManifest,
  objectNames,
  podManifest,
  secretManifest,
  type KubernetesPlacement,
} from './manifests.ts';

const spec: WorkspaceSpec = {
  id: 'a1b2c3d4e5f60718',
  name: 'My Project',
  ownerId: 'user-42',
  image: 'studio/base:1',
  resources: { cpus: 1.5, memoryMiB: 2048, pids: 512, diskMiB: 4096 },
  env: { LANG: 'C.UTF-8' },
  startCommands: ['echo hi'],
};
const placement: KubernetesPlacement = {
  namespace: 'studio',
  installation: 'inst-1',
  runtimeImage: 'studio/runtime:test',
  imagePullPolicy: 'Never',
};

/** The Pod Security Standard "restricted", as far as a container's own fields go. */
function restrictedProblems(pod: V1Pod): string[] {
  const problems: string[] = [];
  const podContext = pod.spec?.securityContext;
  if (podContext?.seccompProfile?.type !== 'RuntimeDefault') problems.push('seccomp');
  if (pod.spec?.automountServiceAccountToken !== false) problems.push('service account token');
  const containers: V1Container[] = [
    ...(pod.spec?.initContainers ?? []),
    ...(pod.spec?.containers ?? []),
  ];
  for (const container of containers) {
    const context = container.securityContext;
    if (context?.allowPrivilegeEscalation !== false) problems.push(`${container.name}: escalation`);
    if (!context?.capabilities?.drop?.includes('ALL'))
      problems.push(`${container.name}: capabilities`);
    if (context?.capabilities?.add?.length) problems.push(`${container.name}: added capabilities`);
    if (context?.runAsNonRoot !== true && podContext?.runAsNonRoot !== true)
      problems.push(`${container.name}: root`);
    if (context?.privileged) problems.push(`${container.name}: privileged`);
  }
  if (pod.spec?.hostNetwork || pod.spec?.hostPID || pod.spec?.hostIPC)
    problems.push('host namespaces');
  if (pod.spec?.volumes?.some((volume) => volume.hostPath)) problems.push('hostPath');
  return problems;
}

describe('workspace manifests', () => {
  it('make a pod that meets the restricted standard, with the template’s limits and labels', () => {
    const pod = podManifest(spec, placement);
    expect(restrictedProblems(pod)).toEqual([]);
    expect(pod.metadata?.labels).toEqual({
      [LABELS.managedBy]: 'prometheus-studio',
      [LABELS.workspace]: spec.id,
      [LABELS.owner]: 'user-42',
      [LABELS.installation]: 'inst-1',
    });
    const workspace = pod.spec!.containers[0]!;
    expect(workspace.resources).toEqual({
      requests: { cpu: '150m', memory: '2048Mi' },
      limits: { cpu: '1500m', memory: '2048Mi' },
    });
    expect(workspace.env).toContainEqual({
      name: 'STUDIO_DAEMON_LISTEN',
      value: `tcp:0.0.0.0:${DAEMON_PORT}`,
    });
    expect(pod.spec!.hostname).toBe('my-project');
    // The runtime arrives through the init container, read-only for the workspace.
    expect(workspace.volumeMounts).toContainEqual({
      name: 'runtime',
      mountPath: '/opt/studio',
      readOnly: true,
    });
    expect(homeManifest(spec, placement).spec?.resources?.requests).toEqual({ storage: '4096Mi' });
  });
});

const binaries = k8sBinaries('the workspace manifests on a real API server');

describe.runIf(binaries)('workspace manifests on a real API server', () => {
  let cluster: TestCluster;
  let core: CoreV1Api;
  let networking: NetworkingV1Api;
  const namespace = `manifests-${Date.now().toString(36)}`;
  const here = { ...placement, namespace };

  beforeAll(async () => {
    cluster = await startCluster(binaries!);
    const config = new KubeConfig();
    config.loadFromFile(cluster.kubeconfigPath);
    core = config.makeApiClient(CoreV1Api);
    networking = config.makeApiClient(NetworkingV1Api);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    // The controller manager makes each namespace's default service account; tier 1 has none.
    await core.createNamespacedServiceAccount({
      namespace,
      body: { metadata: { name: 'default' } },
    });
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it('are accepted as they are, and read back unchanged where it matters', async () => {
    const names = objectNames(spec.id);
    await core.createNamespacedSecret({
      namespace,
      body: secretManifest(spec, here, 'a-daemon-secret-of-32-characters'),
    });
    await core.createNamespacedPersistentVolumeClaim({ namespace, body: homeManifest(spec, here) });
    await networking.createNamespacedNetworkPolicy({
      namespace,
      body: networkPolicyManifest(spec, here),
    });
    const pod = await core.createNamespacedPod({ namespace, body: podManifest(spec, here) });
    // Named per start: the workspace's prefix and a suffix of the API server's.
    expect(pod.metadata?.name).toMatch(new RegExp(`^${names.pod}-[a-z0-9]{5}$`));
    expect(restrictedProblems(pod)).toEqual([]);
    expect(pod.spec?.securityContext?.runAsUser).toBe(1000);
    const secret = await core.readNamespacedSecret({ name: names.secret, namespace });
    expect(Buffer.from(secret.data!.secret!, 'base64').toString()).toBe(
      'a-daemon-secret-of-32-characters',
    );
    const policy = await networking.readNamespacedNetworkPolicy({ name: names.policy, namespace });
    expect(policy.spec?.ingress?.[0]?._from?.[0]?.podSelector?.matchLabels).toEqual({
      'app.kubernetes.io/name': 'prometheus-studio-server',
    });
    expect(policy.spec?.ingress?.[0]?.ports).toEqual([{ protocol: 'TCP', port: DAEMON_PORT }]);
    expect(policy.spec?.egress?.[0]?.to?.[0]?.ipBlock).toEqual({
      cidr: '0.0.0.0/0',
      except: ['169.254.0.0/16'],
    });

    // Every object of the workspace is found by its labels (what the driver lists and removes).
    const selector = `${LABELS.workspace}=${spec.id},${LABELS.installation}=inst-1`;
    const pods = await core.listNamespacedPod({ namespace, labelSelector: selector });
    const claims = await core.listNamespacedPersistentVolumeClaim({
      namespace,
      labelSelector: selector,
    });
    expect(pods.items.map((item) => item.metadata?.name)).toEqual([pod.metadata?.name]);
    expect(claims.items.map((item) => item.metadata?.name)).toEqual([names.home]);
  });
});
