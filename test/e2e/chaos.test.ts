// THREATS 20 between replicas: two server processes on one PostgreSQL, and `kill -9` of the one
// driving the work, at a random moment, in the middle of an agent run, a mission that is being
// built and a workspace being created or stopped. The other replica finishes or cleanly fails
// each one within its lease: no run stuck running, no event lost or repeated for a follower,
// no tool run twice, no workspace orphaned or duplicated.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestDatabase } from '@studio/db';
import type { RunEvent } from '@studio/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScriptedLlm, type ScriptedLlm } from '../scripted-llm.ts';
import { followRun } from '../run-events.ts';
import { client, signIn, until } from './replica-flow.ts';
import { startServer, type ServerProcess } from './server-process.ts';

const POSTGRES_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const ADMIN = { email: 'chaos@example.com', password: 'kill it and carry on' };
const ROUNDS = Number(process.env.CHAOS_ROUNDS ?? 20);
const LEASE_SECONDS = 1.5;

const database = await createTestDatabase(POSTGRES_URL).catch((error: Error) => {
  if (process.env.CI) throw new Error(`CI, but no PostgreSQL at ${POSTGRES_URL}: ${error.message}`);
  console.warn(`no PostgreSQL answers at ${POSTGRES_URL}: skipping the chaos test`);
  return null;
});

let llm: ScriptedLlm;
let env: Record<string, string>;
let victim: ServerProcess;
let survivor: ServerProcess;
let dataDir: string;

/** A replica as the flow helpers take it. */
const replica = (server: ServerProcess) => ({ url: server.origin, origin: server.origin });

/** One sign-in for the whole test: a session is good on every replica (sign-ins are limited). */
let cookie: string | null = null;

async function call(server: ServerProcess) {
  cookie ??= await signIn(replica(server), ADMIN);
  return client(replica(server), cookie);
}

beforeAll(async () => {
  if (!database) return;
  llm = await startScriptedLlm();
  env = {
    DATABASE_URL: database.url,
    STUDIO_SECRET: randomBytes(32).toString('hex'),
    STUDIO_ADMIN_EMAIL: ADMIN.email,
    STUDIO_ADMIN_PASSWORD: ADMIN.password,
    STUDIO_RUNTIME: 'local',
    STUDIO_LEASE_SECONDS: String(LEASE_SECONDS),
  };
  survivor = await startServer(env);
  // The admin is created just after the server listens: the second replica must find it there.
  await until(() => survivor.output().includes('created the admin'), 'the admin', 30_000);
  dataDir = survivor.dataDir;
  victim = await startServer({ ...env, STUDIO_DATA_DIR: dataDir });
  const admin = await call(survivor);
  const provider = await admin('POST', '/api/ai/providers', {
    name: 'Scripted',
    kind: 'openai-compatible',
    baseUrl: llm.openaiBaseUrl,
  });
  expect(provider.status).toBe(201);
  await admin('PUT', '/api/ai/settings', {
    agent: { providerId: provider.body.id, model: 'scripted-coder' },
  });
  await admin('PUT', '/api/ai/policy', { rules: [{ tool: 'run_command', decision: 'allow' }] });
  expect((await admin('POST', '/api/workspaces', { name: 'chaos' })).status).toBe(201);
  await untilStatus(admin, 'chaos', 'running');
  // The model: each run writes a line per step into its own file, then answers.
  llm.respond((request) => {
    const round = /round (\d+)/.exec(request.lastUserText ?? request.userTexts.join(' '))?.[1];
    const done = request.toolResults.length;
    if (done === 0)
      return {
        toolCalls: [
          { name: 'run_command', input: { command: `echo one >> ~/chaos-${round}; sleep 0.4` } },
        ],
      };
    if (done === 1)
      return {
        toolCalls: [{ name: 'run_command', input: { command: `echo two >> ~/chaos-${round}` } }],
      };
    return { text: `round ${round} done` };
  });
}, 300_000);

afterAll(async () => {
  if (!database) return;
  const admin = await call(survivor).catch(() => null);
  if (admin) {
    const listed = await admin('GET', '/api/admin/workspaces');
    for (const workspace of (listed.body as unknown as Array<{ id: string }>) ?? [])
      await admin('DELETE', `/api/admin/workspaces/${workspace.id}`);
    for (let i = 0; i < 300; i++) {
      const left = (await admin('GET', '/api/admin/workspaces')).body as unknown as unknown[];
      if (!left?.length) break;
      await sleep(100);
    }
  }
  await victim?.stop();
  await survivor?.stop();
  await llm?.close();
  await database.drop();
}, 300_000);

async function untilStatus(
  admin: Awaited<ReturnType<typeof call>>,
  name: string,
  ...statuses: string[]
): Promise<string> {
  for (let i = 0; i < 600; i++) {
    const { status, body } = await admin('GET', `/api/workspaces/${name}`);
    if (status === 200 && statuses.includes(body.status)) return body.status;
    await sleep(100);
  }
  throw new Error(`workspace ${name} never became ${statuses.join(' or ')}`);
}

/** Kills the victim with SIGKILL after `ms`, and starts a new one on the same data. */
async function killVictim(ms: number): Promise<void> {
  await sleep(ms);
  victim.child.kill('SIGKILL');
  await victim.exited;
}

async function restartVictim(): Promise<void> {
  victim = await startServer({ ...env, STUDIO_DATA_DIR: dataDir });
}

/** Runs `request` on the victim while it is killed; answers its result, or null if it died first. */
async function whileKilled<T>(request: () => Promise<T>, killAfterMs: number): Promise<T | null> {
  const [result] = await Promise.all([request().catch(() => null), killVictim(killAfterMs)]);
  return result;
}

async function agentRound(round: number, killAfterMs: number) {
  const onVictim = await call(victim);
  const conversation = await onVictim('POST', '/api/workspaces/chaos/ai/conversations', {});
  const sent = await whileKilled(
    () =>
      onVictim('POST', `/api/workspaces/chaos/ai/conversations/${conversation.body.id}/messages`, {
        text: `round ${round}`,
        mode: 'agent',
      }),
    killAfterMs,
  );
  const runId = (sent?.body as unknown as { runId?: string } | null)?.runId;
  if (!runId) return 'killed before it began';
  // Followed through the survivor, from the start: every event once, in order, to its end.
  const events: RunEvent[] = await followRun({
    origin: survivor.origin,
    cookie: cookie!,
    runId,
  });
  expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index));
  const end = events.at(-1) as Extract<RunEvent, { type: 'end' }>;
  expect(['done', 'internal', 'stopped']).toContain(end.code);
  // No tool ran twice: each line at most once.
  const written = await (
    await fetch(`${survivor.origin}/api/workspaces/chaos/exec`, {
      method: 'POST',
      headers: {
        cookie: cookie!,
        origin: survivor.origin,
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        command: 'sh',
        args: ['-c', `cat ~/chaos-${round} 2>/dev/null || true`],
      }),
    })
  ).text();
  expect((written.match(/one/g) ?? []).length).toBeLessThanOrEqual(1);
  expect((written.match(/two/g) ?? []).length).toBeLessThanOrEqual(1);
  return end.code;
}

async function missionRound(round: number, killAfterMs: number) {
  const onVictim = await call(victim);
  const created = await whileKilled(
    () =>
      onVictim('POST', '/api/missions', {
        requirement: `chaos ${round}`,
        template: 'base',
        startWorker: false,
      }),
    killAfterMs,
  );
  const admin = await call(survivor);
  const missions = (await admin('GET', '/api/missions')).body as unknown as {
    missions: Array<{ id: string; requirement: string; status: string; statusReason: string }>;
  };
  const mission = missions.missions.find((item) => item.requirement === `chaos ${round}`);
  if (!mission) return created ? 'lost' : 'killed before it began';
  let status = mission.status;
  for (let i = 0; i < 600 && !['ready', 'failed', 'stopped'].includes(status); i++) {
    await sleep(100);
    status = (await admin('GET', `/api/missions/${mission.id}`)).body.status;
  }
  expect(status).toBe('ready');
  const removed = await admin('DELETE', `/api/missions/${mission.id}`);
  expect(removed.status).toBe(204);
  return status;
}

async function workspaceRound(round: number, killAfterMs: number) {
  const name = `chaos-${round}`;
  const onVictim = await call(victim);
  const created = await whileKilled(
    () => onVictim('POST', '/api/workspaces', { name }),
    killAfterMs,
  );
  const admin = await call(survivor);
  if ((await admin('GET', `/api/workspaces/${name}`)).status === 404)
    return created ? 'lost' : 'killed before it began';
  expect(await untilStatus(admin, name, 'running', 'error')).toBe('running');
  // And a stop, killed in the middle too.
  await restartVictim();
  const again = await call(victim);
  await whileKilled(() => again('POST', `/api/workspaces/${name}/stop`), killAfterMs / 2);
  const stopped = await untilStatus(admin, name, 'stopped', 'running');
  // Killed before the stop was asked for: ask the survivor.
  if (stopped === 'running') await admin('POST', `/api/workspaces/${name}/stop`);
  expect(await untilStatus(admin, name, 'stopped')).toBe('stopped');
  await admin('DELETE', `/api/workspaces/${name}`);
  return 'stopped';
}

describe.runIf(database)('THREATS 20: kill -9 of the replica doing the work', () => {
  it(
    `finishes or cleanly fails runs, missions and workspace steps over ${ROUNDS} rounds, with nothing orphaned or doubled`,
    async () => {
      const outcomes: string[] = [];
      for (let round = 1; round <= ROUNDS; round++) {
        const killAfterMs = Math.floor(Math.random() * 1500);
        const scenario = (['agent', 'mission', 'workspace'] as const)[round % 3]!;
        const began = Date.now();
        const outcome =
          scenario === 'agent'
            ? await agentRound(round, killAfterMs)
            : scenario === 'mission'
              ? await missionRound(round, killAfterMs)
              : await workspaceRound(round, killAfterMs);
        outcomes.push(
          `${round} ${scenario} killed at ${killAfterMs} ms: ${outcome} in ${Date.now() - began} ms`,
        );
        expect(outcome).not.toBe('lost');
        await restartVictim().catch(() => {});
      }
      console.log(`[chaos]\n${outcomes.join('\n')}`);
      // Nothing is left over: every workspace folder of the local driver has its row, and the
      // other way round; no run is still running.
      const admin = await call(survivor);
      for (let i = 0; i < 300; i++) {
        const listed = (await admin('GET', '/api/admin/workspaces')).body as unknown as Array<{
          id: string;
          status: string;
        }>;
        if (listed.every((workspace) => workspace.status !== 'deleting')) break;
        await sleep(100);
      }
      const rows = (
        (await admin('GET', '/api/admin/workspaces')).body as unknown as Array<{ id: string }>
      )
        .map((workspace) => workspace.id)
        .sort();
      // A data dir workspaces cannot enter (a 0700 temp folder) keeps them under /var/lib instead.
      const key = createHash('sha256').update(dataDir).digest('hex').slice(0, 12);
      const workspacesDir = existsSync(join(dataDir, 'workspaces'))
        ? join(dataDir, 'workspaces')
        : `/var/lib/prometheus-studio/workspaces-${key}`;
      const folders = (await readdir(workspacesDir).catch(() => [] as string[]))
        .filter((name) => !name.startsWith('.'))
        .sort();
      expect(folders).toEqual(rows);
    },
    30 * 60_000,
  );
});
