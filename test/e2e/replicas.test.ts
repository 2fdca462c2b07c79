// Two replicas: two server processes on one PostgreSQL database. A workspace created through one
// runs, takes terminal input and changes status as seen through the other.
import { randomBytes } from 'node:crypto';
import { createTestDatabase } from '@studio/db';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { client, removeWorkspace, replicaFlow, signIn, until } from './replica-flow.ts';
import { startServer, type ServerProcess } from './server-process.ts';

const POSTGRES_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const ADMIN = { email: 'replicas@example.com', password: 'two replicas, one database' };
const NAME = 'replicated';

// CI (.ci/run exports CI=true) always has PostgreSQL, so there a missing one is a failure.
const database = await createTestDatabase(POSTGRES_URL).catch((error: Error) => {
  if (process.env.CI) throw new Error(`CI, but no PostgreSQL at ${POSTGRES_URL}: ${error.message}`);
  console.warn(`no PostgreSQL answers at ${POSTGRES_URL}: skipping the two-replica flow`);
  return null;
});

let one: ServerProcess | undefined;
let two: ServerProcess | undefined;

beforeAll(async () => {
  if (!database) return;
  const env = {
    DATABASE_URL: database.url,
    // Replicas share the secret (a Kubernetes Secret): a session started on one is good on the other.
    STUDIO_SECRET: randomBytes(32).toString('hex'),
    STUDIO_ADMIN_EMAIL: ADMIN.email,
    STUDIO_ADMIN_PASSWORD: ADMIN.password,
    STUDIO_RUNTIME: 'local',
  };
  one = await startServer(env);
  // The admin is created just after the server listens (logged at info); a second replica must
  // find it there, not race to create it too.
  await until(() => one!.output().includes('created the admin'), 'the admin on the first server');
  // Replicas on one machine share a volume. The local driver keeps a workspace in files under
  // STUDIO_DATA_DIR/workspaces/<id>: its state, the daemon's pid, and fs/run/ with the daemon's
  // socket and per-workspace secret. So the second server can reach the first one's workspaces
  // only through the same data dir (the Kubernetes driver keeps that secret in a k8s Secret).
  two = await startServer({ ...env, STUDIO_DATA_DIR: one.dataDir });
});

afterAll(async () => {
  // stop() reaps workspaces by the data dir in their command line, which an unsandboxed one (no
  // bubblewrap) lacks: so one left by a failure is deleted through the API first.
  if (one) {
    const replica = { url: one.origin, origin: one.origin };
    await signIn(replica, ADMIN)
      .then((cookie) => removeWorkspace(client(replica, cookie), NAME))
      .catch(() => {});
  }
  await two?.stop();
  await one?.stop();
  await database?.drop();
});

describe.runIf(database)('two server processes on one PostgreSQL database', () => {
  it('shows a workspace made through one server running, typing and stopping through the other', async () => {
    const replica = (server: ServerProcess) => ({ url: server.origin, origin: server.origin });
    await replicaFlow(replica(one!), replica(two!), ADMIN, NAME);
  });
});
