// The platform's own manifests (deploy/kubernetes) on a real API server: the test overlay applies
// with `kubectl apply -k`, and the server's account may do what the workspace driver does in its
// namespace and nothing beyond it.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { AppsV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { k8sBinaries, startCluster, type TestCluster } from './cluster.ts';

const run = promisify(execFile);
const OVERLAY = fileURLToPath(new URL('../../deploy/kubernetes/overlays/test', import.meta.url));
const ACCOUNT = 'system:serviceaccount:studio-test:prometheus-studio-server';

const binaries = k8sBinaries('the platform manifests on a real API server');

describe.runIf(binaries)('deploy/kubernetes', () => {
  let cluster: TestCluster;
  const kubectl = (...args: string[]) =>
    run('kubectl', ['--kubeconfig', cluster.kubeconfigPath, ...args]).then(
      (result) => result.stdout.trim(),
      (error: { stdout?: string; stderr?: string }) =>
        `${error.stdout ?? ''}${error.stderr ?? ''}`.trim(),
    );
  /** `yes` or `no`: may the server's account do this? */
  const canI = async (verb: string, resource: string, namespace = 'studio-test') =>
    // The answer is the first line; kubectl may warn after it (a cluster-scoped resource, say).
    (await kubectl('auth', 'can-i', verb, resource, '--as', ACCOUNT, '-n', namespace)).split(
      '\n',
    )[0];

  beforeAll(async () => {
    cluster = await startCluster(binaries!);
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it('applies with kubectl apply -k: two replicas with probes, config from a Secret', async () => {
    await run('kubectl', ['--kubeconfig', cluster.kubeconfigPath, 'apply', '-k', OVERLAY]);
    const config = new KubeConfig();
    config.loadFromFile(cluster.kubeconfigPath);
    const deployment = await config
      .makeApiClient(AppsV1Api)
      .readNamespacedDeployment({ name: 'prometheus-studio-server', namespace: 'studio-test' });
    expect(deployment.spec?.replicas).toBe(2);
    const container = deployment.spec!.template.spec!.containers[0]!;
    expect(container.readinessProbe?.httpGet?.path).toBe('/readyz');
    expect(container.livenessProbe?.httpGet?.path).toBe('/healthz');
    expect(container.envFrom?.[0]?.secretRef?.name).toBe('prometheus-studio-config');
    expect(container.image).toBe('studio/server:test');
    expect(container.securityContext?.allowPrivilegeEscalation).toBe(false);
    // Workspaces' network policies let in pods with exactly this label.
    expect(deployment.spec?.template.metadata?.labels?.['app.kubernetes.io/name']).toBe(
      'prometheus-studio-server',
    );
  });

  it('lets the server manage workspaces in its namespace and nothing else', async () => {
    expect(await canI('create', 'pods')).toBe('yes');
    expect(await canI('create', 'pods/portforward')).toBe('yes');
    expect(await canI('delete', 'persistentvolumeclaims')).toBe('yes');
    expect(await canI('create', 'networkpolicies.networking.k8s.io')).toBe('yes');
    expect(await canI('create', 'pods', 'default')).toBe('no');
    expect(await canI('list', 'nodes')).toBe('no');
    expect(await canI('create', 'deployments.apps')).toBe('no');
    expect(await canI('create', 'rolebindings.rbac.authorization.k8s.io')).toBe('no');
  });
});
