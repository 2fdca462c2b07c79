// Agent runs in the database: two servers on one PostgreSQL serve the same run, and when the
// server driving a run stops, the other takes it over from its last completed step.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aiRuns, createTestDatabase, type TestDatabase } from '@studio/db';
import type { RunEvent } from '@studio/protocol';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { followRun } from '../../../../test/run-events.ts';
import { startScriptedLlm, type ScriptedLlm } from '../../../../test/scripted-llm.ts';
import {
  injectAs,
  signIn,
  signedInUser,
  startTestServer,
  useScriptedProvider,
  waitForWorkspace,
  type TestServer,
} from '../testing.ts';

const POSTGRES_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
// Short enough to keep the test quick, long enough that a loaded 2-core machine still renews in time.
const LEASE_MS = 2_000;

let database: TestDatabase;
let llm: ScriptedLlm;
let dataDir: string;
let env: Record<string, string>;
const servers: TestServer[] = [];
let alice: { id: string; cookie: string; password: string };

async function server(): Promise<TestServer> {
  const started = await startTestServer(env, { dataDir, runLeaseMs: LEASE_MS });
  servers.push(started);
  return started;
}

beforeAll(async () => {
  database = await createTestDatabase(POSTGRES_URL);
  dataDir = await mkdtemp(join(tmpdir(), 'studio-runs-'));
  // Replicas share the secret and, for local workspaces, the data dir.
  env = { DATABASE_URL: database.url, STUDIO_SECRET: randomBytes(32).toString('hex') };
  llm = await startScriptedLlm();
  const first = await server();
  alice = await signedInUser(first, { email: 'alice@example.com', role: 'admin' });
  await useScriptedProvider(first, alice, llm.openaiBaseUrl);
  await injectAs(first, alice, 'POST', '/api/workspaces', { name: 'runs' });
  await waitForWorkspace(first, alice, 'runs', 'running');
}, 90_000);

afterAll(async () => {
  for (const running of servers) await running.close().catch(() => {});
  const cleanup = await startTestServer(env, { dataDir });
  for (const workspace of await cleanup.services.workspaces.listAll())
    await cleanup.services.workspaces.removeRow(workspace);
  for (const workspace of await cleanup.services.workspaces.listAll())
    await cleanup.services.workspaces.settled(workspace.id);
  await cleanup.close();
  await rm(dataDir, { recursive: true, force: true });
  await database?.drop();
  await llm?.close();
}, 90_000);

async function send(on: TestServer, text: string): Promise<string> {
  const conversation = await injectAs(
    on,
    alice,
    'POST',
    '/api/workspaces/runs/ai/conversations',
    {},
  );
  const sent = await injectAs(
    on,
    alice,
    'POST',
    `/api/workspaces/runs/ai/conversations/${conversation.json().id}/messages`,
    { text, mode: 'agent' },
  );
  expect(sent.statusCode, sent.body).toBe(202);
  return sent.json().runId as string;
}

/** The run's events as `on` reads them from the database, once `until` holds. */
async function eventsUntil(on: TestServer, runId: string, until: (events: RunEvent[]) => boolean) {
  let seen: RunEvent[] = [];
  for (let i = 0; i < 400; i++) {
    seen = await on.services.runs.events(runId, -1);
    if (until(seen)) return seen;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`the run never got there: ${JSON.stringify(seen.map((event) => event.type))}`);
}

const seqsOf = (events: RunEvent[]) => events.map((event) => event.seq);

describe('runs on two servers', () => {
  it('waits for approval on one, is approved and followed through the other, and stopped through the first', async () => {
    const one = servers[0]!;
    const two = await server();
    llm.reset();
    llm.respond((request) =>
      request.toolResults.length === 0
        ? { toolCalls: [{ name: 'run_command', input: { command: 'echo approved-$((6*7))' } }] }
        : { toolCalls: [{ name: 'run_command', input: { command: 'sleep 30' } }] },
    );
    const runId = await send(one, 'run it');
    const onTwo = { cookie: await signIn(two, 'alice@example.com', alice.password) };
    // Follow through the second server from the start.
    const following = followRun({
      origin: two.origin,
      cookie: onTwo.cookie,
      runId,
      answer: async (event) => {
        if (!event.input || JSON.stringify(event.input).includes('sleep')) return;
        // A note said on the second server reaches the model's next step on the first.
        const said = await injectAs(two, onTwo, 'POST', `/api/ai/runs/${runId}/messages`, {
          text: 'a note through two',
        });
        expect(said.statusCode, said.body).toBe(202);
        const answered = await injectAs(
          two,
          onTwo,
          'POST',
          `/api/ai/runs/${runId}/approvals/${event.callId}`,
          { decision: 'approve' },
        );
        expect(answered.statusCode, answered.body).toBe(204);
      },
    });
    // The second card (sleep) waits; stop the run through the first server.
    await eventsUntil(
      two,
      runId,
      (events) => events.filter((event) => event.type === 'approval').length === 2,
    );
    expect((await injectAs(one, alice, 'POST', `/api/ai/runs/${runId}/stop`)).statusCode).toBe(204);
    const events = await following;
    expect(JSON.stringify(events)).toContain('approved-42');
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'user-note', text: 'a note through two' }),
    );
    expect(llm.requests.at(-1)?.userTexts).toContain('a note through two');
    expect(events.at(-1)).toMatchObject({ type: 'end', code: 'stopped' });
    // Every event once, in order.
    expect(seqsOf(events)).toEqual(events.map((_, index) => index));
  });

  it('THREATS 20: resumes on the other server when the one driving it stops, keeping a waiting approval and reporting a running tool as interrupted', async () => {
    // Exactly two servers: the one driving the run, and the one that takes it over.
    const first = servers.shift()!;
    await first.close();
    const driver = await server();
    const standby = servers[0]!;
    llm.reset();
    llm.respond((request) => {
      const results = request.toolResults.map((result) => result.content).join('\n');
      if (request.toolResults.length === 0)
        return { toolCalls: [{ name: 'run_command', input: { command: 'echo first-step' } }] };
      if (request.toolResults.length === 1)
        return {
          toolCalls: [{ name: 'run_command', input: { command: 'echo ran >> ~/count; sleep 20' } }],
        };
      return { text: `done after: ${results.includes('Interrupted') ? 'interrupted' : 'other'}` };
    });
    await injectAs(driver, alice, 'PUT', '/api/ai/policy', {
      rules: [{ tool: 'run_command', pattern: 'echo ran*', decision: 'allow' }],
    });
    const runId = await send(driver, 'two steps');
    // The first call waits for approval on the driver…
    await eventsUntil(standby, runId, (events) =>
      events.some((event) => event.type === 'approval'),
    );
    const stoppedAt = Date.now();
    await driver.close();
    servers.splice(servers.indexOf(driver), 1);
    // …and is answered through the other server, which took the run over.
    const onStandby = { cookie: await signIn(standby, 'alice@example.com', alice.password) };
    const card = (
      await eventsUntil(standby, runId, (events) =>
        events.some((event) => event.type === 'approval'),
      )
    ).find((event) => event.type === 'approval') as Extract<RunEvent, { type: 'approval' }>;
    for (let i = 0; i < 100; i++) {
      const answered = await injectAs(
        standby,
        onStandby,
        'POST',
        `/api/ai/runs/${runId}/approvals/${card.callId}`,
        { decision: 'approve' },
      );
      if (answered.statusCode === 204) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const resumed = await eventsUntil(standby, runId, (events) =>
      events.some((event) => event.type === 'tool-result' && event.output?.includes('first-step')),
    );
    expect(resumed.some((event) => event.type === 'notice' && event.code === 'resumed')).toBe(true);
    expect(Date.now() - stoppedAt).toBeLessThan(2 * LEASE_MS + 10_000);
    // The second call is running on the standby now: it stops too, and a third server resumes.
    await eventsUntil(standby, runId, (events) =>
      events.some((event) => event.type === 'tool-call' && JSON.stringify(event).includes('count')),
    );
    const third = await server();
    await standby.close();
    servers.splice(servers.indexOf(standby), 1);
    const events = await eventsUntil(third, runId, (all) => all.at(-1)?.type === 'end');
    expect(events.at(-1)).toMatchObject({ type: 'end', code: 'done' });
    // The model's answer streams as several text deltas.
    const answer = events.map((event) => (event.type === 'text' ? event.delta : '')).join('');
    expect(answer, JSON.stringify(events, null, 1)).toBe('done after: interrupted');
    expect(seqsOf(events)).toEqual(events.map((_, index) => index));
    // Never run twice.
    const row = await third.services.workspaces.get(alice.id, 'runs');
    const daemon = await third.services.workspaces.connect(row);
    const count = await daemon.exec('sh', ['-c', 'cat ~/count 2>/dev/null | wc -l']);
    expect(Number(count.stdout.trim())).toBeLessThanOrEqual(1);
    // The conversation has the whole answer, once.
    const conversationId = (await third.services.runs.get(alice.id, runId)).conversationId;
    const detail = await injectAs(
      third,
      { cookie: await signIn(third, 'alice@example.com', alice.password) },
      'GET',
      `/api/workspaces/runs/ai/conversations/${conversationId}`,
    );
    const assistant = (detail.json().messages as Array<{ role: string }>).filter(
      (message) => message.role === 'assistant',
    );
    expect(assistant).toHaveLength(1);
  }, 90_000);

  it('THREATS 20: a server that lost the run while the model answered does not run the tool call it got', async () => {
    const driver = servers[0]!;
    const other = await server();
    await injectAs(driver, alice, 'PUT', '/api/ai/policy', {
      rules: [{ tool: 'write_file', decision: 'allow' }],
    });
    let started!: (runId: string) => void;
    const runIdOf = new Promise<string>((resolve) => (started = resolve));
    let taken = false;
    llm.reset();
    llm.respond(async (request) => {
      if (request.toolResults.length > 0) return { text: 'written' };
      const path = taken ? 'lost/after-takeover.txt' : 'lost/before-takeover.txt';
      if (!taken) {
        taken = true;
        // Its lease lapsed while it was starved (a loaded machine) and another server took the
        // run: the driver does not know yet when the model's tool call reaches it. (That server
        // then stops too; its lease lapses and one of the two servers here resumes the run.)
        await driver.services.database.db
          .update(aiRuns)
          .set({ holder: 'another-replica', leaseUntil: new Date(Date.now() + 1500) })
          .where(eq(aiRuns.id, await runIdOf));
      }
      return { toolCalls: [{ name: 'write_file', input: { path, content: 'once' } }] };
    });
    const runId = await send(driver, 'write it');
    started(runId);
    // The server that takes the run over (either) asks the model again, and writes once.
    const events = await eventsUntil(other, runId, (all) => all.at(-1)?.type === 'end');
    expect(events.at(-1), JSON.stringify(events)).toMatchObject({ type: 'end', code: 'done' });
    expect(seqsOf(events)).toEqual(events.map((_, index) => index));
    const daemon = await other.services.workspaces.connect(
      await other.services.workspaces.get(alice.id, 'runs'),
    );
    const written = await daemon.exec('sh', ['-c', 'ls ~/lost']);
    expect(written.stdout.split('\n').filter(Boolean)).toEqual(['after-takeover.txt']);
  }, 60_000);
});

describe('a single server on the embedded database', () => {
  it('THREATS 20: restarted mid-run, resumes the run where it stopped', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'studio-restart-'));
    const secret = { STUDIO_SECRET: randomBytes(32).toString('hex') };
    let running = await startTestServer(secret, { dataDir: dir, runLeaseMs: LEASE_MS });
    try {
      const person = await signedInUser(running, { email: 'solo@example.com', role: 'admin' });
      await useScriptedProvider(running, person, llm.openaiBaseUrl);
      llm.reset();
      llm.respond((request) =>
        request.toolResults.length === 0
          ? { toolCalls: [{ name: 'run_command', input: { command: 'echo after-restart' } }] }
          : { text: 'finished' },
      );
      await injectAs(running, person, 'POST', '/api/workspaces', { name: 'solo' });
      await waitForWorkspace(running, person, 'solo', 'running');
      const conversation = await injectAs(
        running,
        person,
        'POST',
        '/api/workspaces/solo/ai/conversations',
        {},
      );
      const sent = await injectAs(
        running,
        person,
        'POST',
        `/api/workspaces/solo/ai/conversations/${conversation.json().id}/messages`,
        { text: 'go', mode: 'agent' },
      );
      const runId = sent.json().runId as string;
      await eventsUntil(running, runId, (events) => events.some((e) => e.type === 'approval'));
      // The command waits for approval; the server restarts on the same data.
      await running.close();
      running = await startTestServer(secret, { dataDir: dir, runLeaseMs: LEASE_MS });
      const cookie = await signIn(running, 'solo@example.com', person.password);
      const card = (
        await eventsUntil(running, runId, (events) => events.some((e) => e.type === 'notice'))
      ).find((event) => event.type === 'approval') as Extract<RunEvent, { type: 'approval' }>;
      expect(
        (
          await injectAs(
            running,
            { cookie },
            'POST',
            `/api/ai/runs/${runId}/approvals/${card.callId}`,
            {
              decision: 'approve',
            },
          )
        ).statusCode,
      ).toBe(204);
      const events = await eventsUntil(running, runId, (all) => all.at(-1)?.type === 'end');
      expect(events.at(-1)).toMatchObject({ type: 'end', code: 'done' });
      expect(JSON.stringify(events)).toContain('finished');
    } finally {
      for (const workspace of await running.services.workspaces.listAll()) {
        await running.services.workspaces.removeRow(workspace);
        await running.services.workspaces.settled(workspace.id);
      }
      await running.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
