// Quotas an admin sets on people and teams: refused before anything is created or started,
// naming the limit and the use; one winner when creates race for the last slot; what is left and
// everyone's use (now and sampled over time) in the API.
import { createTestDatabase, schema } from '@studio/db';
import type { QuotaLimits } from '@studio/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  injectAs,
  signedInUser,
  startTestServer,
  waitForWorkspace,
  type TestServer,
} from '../testing.ts';

type Person = { id: string; cookie: string };

const NONE: QuotaLimits = {
  runningWorkspaces: null,
  cpus: null,
  memoryMiB: null,
  diskMiB: null,
  aiUsdPerMonth: null,
};

async function settle(server: TestServer) {
  for (const row of await server.services.workspaces.listAll())
    await server.services.workspaces.settled(row.id);
}

/** Three people create a workspace each at the same moment against one last slot. */
async function race(server: TestServer, who: Person, names: string[]) {
  const answers = await Promise.all(
    names.map((name) => injectAs(server, who, 'POST', '/api/workspaces', { name })),
  );
  return answers.map((answer) => answer.statusCode).sort();
}

describe('quotas', () => {
  let server: TestServer;
  let root: Person;
  let alice: Person;
  let bob: Person;

  beforeAll(async () => {
    server = await startTestServer();
    root = await signedInUser(server, { email: 'root@example.com', role: 'admin' });
    alice = await signedInUser(server, { email: 'alice@example.com' });
    bob = await signedInUser(server, { email: 'bob@example.com' });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
  });

  const setQuota = (kind: 'user' | 'team', who: string, limits: Partial<QuotaLimits>) =>
    injectAs(server, root, 'PUT', `/api/admin/quotas/${kind}/${who}`, { ...NONE, ...limits });

  it('refuses a workspace over a person’s limit before creating anything, naming the limit and the use', async () => {
    expect((await setQuota('user', 'alice@example.com', { runningWorkspaces: 1 })).statusCode).toBe(
      204,
    );
    expect(
      (await injectAs(server, alice, 'POST', '/api/workspaces', { name: 'a' })).statusCode,
    ).toBe(201);
    const over = await injectAs(server, alice, 'POST', '/api/workspaces', { name: 'b' });
    expect([over.statusCode, over.json().code, over.json().message]).toEqual([
      403,
      'quota_exceeded',
      'Your running workspaces quota is 1 running workspace and you use 1 running workspace; this needs 1 running workspace more. Stop a workspace or ask an admin to raise it.',
    ]);
    expect((await injectAs(server, alice, 'GET', '/api/workspaces/b')).statusCode).toBe(404);

    const mine = (await injectAs(server, alice, 'GET', '/api/me/quota')).json();
    expect(mine.left).toEqual({ ...NONE, runningWorkspaces: 0 });
    expect(mine.subjects[0]).toMatchObject({
      kind: 'user',
      name: 'alice@example.com',
      usage: { runningWorkspaces: 1 },
    });

    // A stopped workspace frees its slot; starting it again while another runs is refused.
    await waitForWorkspace(server, alice, 'a', 'running');
    await injectAs(server, alice, 'POST', '/api/workspaces/a/stop');
    expect(
      (await injectAs(server, alice, 'POST', '/api/workspaces', { name: 'b' })).statusCode,
    ).toBe(201);
    const start = await injectAs(server, alice, 'POST', '/api/workspaces/a/start');
    expect([start.statusCode, start.json().code]).toEqual([403, 'quota_exceeded']);
    expect((await injectAs(server, alice, 'GET', '/api/workspaces/a')).json().status).not.toBe(
      'running',
    );
    await settle(server);
  }, 60_000);

  it('lets exactly one of several creates racing for the last slot win', async () => {
    await setQuota('user', 'alice@example.com', { runningWorkspaces: 2 });
    expect(await race(server, alice, ['r1', 'r2', 'r3'])).toEqual([201, 403, 403]);
    const names = (await injectAs(server, alice, 'GET', '/api/workspaces'))
      .json()
      .map((workspace: { name: string }) => workspace.name);
    expect(names.filter((name: string) => name.startsWith('r'))).toHaveLength(1);
    await settle(server);
  }, 60_000);

  it('caps a team’s people together, and says whose limit it was', async () => {
    await injectAs(server, root, 'POST', '/api/admin/teams', { name: 'core' });
    await injectAs(server, root, 'PUT', '/api/admin/teams/core/members/alice@example.com');
    await injectAs(server, root, 'PUT', '/api/admin/teams/core/members/bob@example.com');
    await setQuota('user', 'alice@example.com', {});
    // Alice runs two 2048 MiB workspaces (the base template's size) of the team's 6144.
    await setQuota('team', 'core', { memoryMiB: 6144 });
    expect(
      (await injectAs(server, bob, 'POST', '/api/workspaces', { name: 'b1' })).statusCode,
    ).toBe(201);
    const over = await injectAs(server, bob, 'POST', '/api/workspaces', { name: 'b2' });
    expect([over.statusCode, over.json().message]).toEqual([
      403,
      expect.stringMatching(
        /^Team "core"'s memory quota is 6144 MiB of memory and its people use 6144 MiB of memory; this needs 2048 MiB of memory more/,
      ),
    ]);
    const mine = (await injectAs(server, bob, 'GET', '/api/me/quota')).json();
    expect(mine.left.memoryMiB).toBe(0);
    expect(mine.subjects).toEqual([
      expect.objectContaining({
        kind: 'team',
        name: 'core',
        usage: expect.objectContaining({ memoryMiB: 6144 }),
      }),
    ]);
    await settle(server);
  }, 60_000);

  it('stops AI runs once the month’s spend reaches the limit', async () => {
    const { quotas, database } = server.services;
    await setQuota('user', 'bob@example.com', { aiUsdPerMonth: 1 });
    await expect(quotas.checkAi(bob.id)).resolves.toBeUndefined();
    await database.db.insert(schema.aiUsage).values({
      userId: bob.id,
      month: new Date().toISOString().slice(0, 7),
      costUsd: 1.25,
      runs: 3,
    });
    await expect(quotas.checkAi(bob.id)).rejects.toThrow(
      'Your AI spend quota is $1.00 of AI this month and you use $1.25 of AI this month; it renews on the 1st; an admin can raise it.',
    );
  });

  it('shows admins everyone’s limits and use, now and over time, and nobody else', async () => {
    await server.services.quotas.sample();
    await server.services.quotas.sample(); // a second sample in the same bucket adds nothing
    const report = await injectAs(server, root, 'GET', '/api/admin/usage');
    expect(report.statusCode).toBe(200);
    const core = report
      .json()
      .subjects.find((subject: { name: string }) => subject.name === 'core');
    expect(core).toMatchObject({ kind: 'team', limits: { memoryMiB: 6144 } });
    // The one sample of this bucket, then use now.
    expect(core.history).toHaveLength(2);
    expect(core.history[0]).toMatchObject({ memoryMiB: core.usage.memoryMiB });
    expect(core.history[1]).toMatchObject({ memoryMiB: core.usage.memoryMiB });
    expect((await injectAs(server, alice, 'GET', '/api/admin/usage')).statusCode).toBe(403);
    const unknown = await setQuota('team', 'nobody', { cpus: 1 });
    expect([unknown.statusCode, unknown.json().message]).toEqual([
      404,
      'There is no team named "nobody".',
    ]);
    const audit = (await injectAs(server, root, 'GET', '/api/audit?action=quota.set')).json();
    expect(JSON.stringify(audit)).toContain('"team":"core"');
  });
});

// The lock that makes one create win is PostgreSQL's: the same race on a real server.
describe.runIf(process.env.TEST_DATABASE_URL)('quotas on PostgreSQL', () => {
  it('lets exactly one of several racing creates take the last slot', async () => {
    const database = await createTestDatabase(process.env.TEST_DATABASE_URL!);
    const pg = await startTestServer({ DATABASE_URL: database.url });
    try {
      const root = await signedInUser(pg, { email: 'root@example.com', role: 'admin' });
      const ada = await signedInUser(pg, { email: 'ada@example.com' });
      await injectAs(pg, root, 'PUT', '/api/admin/quotas/user/ada@example.com', {
        ...NONE,
        runningWorkspaces: 1,
      });
      expect(await race(pg, ada, ['x', 'y', 'z'])).toEqual([201, 403, 403]);
      await settle(pg);
    } finally {
      await pg.close();
      await database.drop();
    }
  }, 60_000);
});
