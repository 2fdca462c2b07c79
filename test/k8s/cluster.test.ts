// Tier 1 smoke test: the API server the Kubernetes driver will talk to stores, watches,
// reports missing objects and enforces RBAC, as a real cluster does.
import {
  ApiException,
  CoreV1Api,
  KubeConfig,
  Watch,
  type V1ConfigMap,
} from '@kubernetes/client-node';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { k8sBinaries, startCluster, type TestCluster } from './cluster.ts';

const binaries = k8sBinaries('the tier-1 Kubernetes tests');

/** The HTTP status of a failed API call (client-node throws ApiException with it). */
async function statusOf(call: Promise<unknown>): Promise<number | 'ok'> {
  try {
    await call;
    return 'ok';
  } catch (error) {
    if (error instanceof ApiException) return error.code;
    throw error;
  }
}

describe.runIf(binaries)('a tier-1 Kubernetes cluster', () => {
  let cluster: TestCluster;
  let admin: KubeConfig;
  let core: CoreV1Api;
  let namespace: string;

  beforeAll(async () => {
    cluster = await startCluster(binaries!);
    admin = new KubeConfig();
    admin.loadFromFile(cluster.kubeconfigPath);
    core = admin.makeApiClient(CoreV1Api);
    namespace = `test-${randomUUID().slice(0, 8)}`;
    await core.createNamespace({ body: { metadata: { name: namespace } } });
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it('stores a ConfigMap and reads it back', async () => {
    await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'settings' }, data: { theme: 'dark' } },
    });
    const read = await core.readNamespacedConfigMap({ name: 'settings', namespace });
    expect(read.data).toEqual({ theme: 'dark' });
  });

  it('tells a watcher about an update', async () => {
    const updated = new Promise<V1ConfigMap>((resolve, reject) => {
      const watching = new Watch(admin).watch(
        `/api/v1/namespaces/${namespace}/configmaps`,
        {},
        (phase, object: V1ConfigMap) => {
          if (phase === 'MODIFIED' && object.metadata?.name === 'settings') resolve(object);
        },
        (error) => reject(error ?? new Error('watch ended before the update')),
      );
      // Change the object only once the watch is open, so the event cannot be missed.
      watching
        .then(async (controller) => {
          updated.finally(() => controller.abort());
          const current = await core.readNamespacedConfigMap({ name: 'settings', namespace });
          await core.replaceNamespacedConfigMap({
            name: 'settings',
            namespace,
            body: { ...current, data: { theme: 'light' } },
          });
        })
        .catch(reject);
    });
    expect((await updated).data).toEqual({ theme: 'light' });
  });

  it('answers 404 for an object that does not exist', async () => {
    expect(await statusOf(core.readNamespacedConfigMap({ name: 'missing', namespace }))).toBe(404);
  });

  it('refuses a service account that was granted nothing', async () => {
    await core.createNamespacedServiceAccount({
      namespace,
      body: { metadata: { name: 'nobody' } },
    });
    const { status } = await core.createNamespacedServiceAccountToken({
      name: 'nobody',
      namespace,
      body: { spec: { audiences: [], expirationSeconds: 600 } },
    });
    const nobody = new KubeConfig();
    nobody.loadFromClusterAndUser(
      {
        name: 'test',
        server: cluster.server,
        caFile: admin.getCurrentCluster()!.caFile,
        skipTLSVerify: false,
      },
      { name: 'nobody', token: status!.token },
    );
    const asNobody = nobody.makeApiClient(CoreV1Api);
    expect(await statusOf(asNobody.listNamespacedConfigMap({ namespace }))).toBe(403);
    // The same request as the admin goes through: the 403 is RBAC, not a broken token.
    expect(await statusOf(core.listNamespacedConfigMap({ namespace }))).toBe('ok');
  });
});
