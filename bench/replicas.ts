// Replica metrics for `npm run bench -- replicas`: two built servers on one PostgreSQL, as a
// cluster runs them. How soon what a run on one replica streams reaches a follower on the other,
// and how soon a run whose replica was killed goes on elsewhere. The model is the scripted LLM
// server (real OpenAI wire format) in this process, so its clock is the followers' clock.
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { createTestDatabase } from '@studio/db';
import type { RunEvent } from '@studio/protocol';
import { followRun } from '../test/run-events.ts';
import { startScriptedLlm } from '../test/scripted-llm.ts';
import {
  percentile,
  spawnServer,
  stopServer,
  waitForAdmin,
  waitForReady,
  type ServerProcess,
} from './processes.ts';
import { apiFor } from './workspaces.ts';

export interface ReplicaMetric {
  value: number;
  unit: string;
  baseline?: number;
  baselineUnavailable?: string;
}

const POSTGRES_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const ADMIN = { email: 'bench-replicas@example.com', password: 'bench-password-0123' };
const CHUNKS = 100;
const CHUNK_DELAY_MS = 20;
const TAKEOVERS = 3;
/** The product's default lease (STUDIO_LEASE_SECONDS). */
const LEASE_SECONDS = 6;

function log(message: string): void {
  process.stderr.write(`bench: replicas: ${message}\n`);
}

/** For each chunk the model sent, when a follower first held its text: arrival − sent. */
function chunkLatencies(arrivals: Array<{ text: string; at: number }>, sent: number[]): number[] {
  const latencies: number[] = [];
  let chunk = 0;
  for (const { text, at } of arrivals) {
    while (chunk < sent.length && text.includes(`c${chunk};`)) latencies.push(at - sent[chunk++]!);
  }
  if (chunk !== sent.length) throw new Error(`a follower saw ${chunk} of ${sent.length} chunks`);
  return latencies;
}

/** Measure with two servers on the local driver and a fresh database. */
export async function measureReplicas(
  tmp: string,
  serverMain: string,
): Promise<Record<string, ReplicaMetric>> {
  const database = await createTestDatabase(POSTGRES_URL);
  const llm = await startScriptedLlm();
  const dataDir = await mkdtemp(join(tmp, 'replicas-'));
  const env = {
    DATABASE_URL: database.url,
    STUDIO_SECRET: randomBytes(32).toString('hex'),
    STUDIO_DATA_DIR: dataDir,
    STUDIO_ADMIN_EMAIL: ADMIN.email,
    STUDIO_ADMIN_PASSWORD: ADMIN.password,
    STUDIO_RUNTIME: 'local',
    STUDIO_LEASE_SECONDS: String(LEASE_SECONDS),
  };
  const servers = [await spawnServer(serverMain, env)];
  let cookie = '';
  try {
    await waitForReady(servers[0]!);
    // The other replica must find the admin.
    await waitForAdmin(servers[0]!);
    const signedIn = await apiFor(servers[0]!.url, ADMIN);
    const { call } = signedIn;
    cookie = signedIn.cookie;
    const provider = JSON.parse(
      await call('POST', '/api/ai/providers', {
        name: 'scripted',
        kind: 'openai-compatible',
        baseUrl: llm.openaiBaseUrl,
      }),
    ) as { id: string };
    await call('PUT', '/api/ai/settings', {
      chat: { providerId: provider.id, model: 'scripted-chat' },
      agent: { providerId: provider.id, model: 'scripted-chat' },
    });
    await call('POST', '/api/workspaces', { name: 'bench-replicas' });
    servers.push(await spawnServer(serverMain, env));
    await waitForReady(servers[1]!);

    /** A request to one replica with the session (good on every replica). */
    const on = async (origin: string, method: string, path: string, body?: unknown) => {
      const response = await fetch(`${origin}${path}`, {
        method,
        headers: {
          cookie,
          origin,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      if (response.status >= 400) throw new Error(`${method} ${path}: ${response.status}`);
      return response.status === 204 ? null : ((await response.json()) as Record<string, unknown>);
    };
    for (let i = 0; i < 600; i++) {
      const workspace = await on(servers[0]!.url, 'GET', '/api/workspaces/bench-replicas');
      if (workspace?.status === 'running') break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const start = async (origin: string, text: string, mode: 'chat' | 'agent') => {
      const base = '/api/workspaces/bench-replicas/ai/conversations';
      const conversation = await on(origin, 'POST', base, {});
      const sent = await on(origin, 'POST', `${base}/${String(conversation!.id)}/messages`, {
        text,
        mode,
      });
      return String(sent!.runId);
    };
    /** Follows a run on one replica, keeping what had streamed by each event's arrival. */
    const follow = async (origin: string, runId: string, onEvent?: (event: RunEvent) => void) => {
      const arrivals: Array<{ text: string; at: number }> = [];
      let text = '';
      await followRun({
        origin,
        cookie,
        runId,
        onEvent: (event, at) => {
          if (event.type === 'text') text += event.delta;
          arrivals.push({ text, at });
          onEvent?.(event);
        },
      });
      return arrivals;
    };

    // Streaming: a chat run on one replica, followed there and on the other. The first run
    // warms both up; the second is measured.
    log(`${CHUNKS} streamed chunks, followed on the driving replica and on the other`);
    const stream = async () => {
      llm.reset();
      llm.script({
        text: Array.from({ length: CHUNKS }, (_, index) => `c${index};`),
        chunkDelayMs: CHUNK_DELAY_MS,
      });
      const from = llm.chunkTimes.length;
      const runId = await start(servers[0]!.url, 'stream', 'chat');
      const [here, there] = await Promise.all([
        follow(servers[0]!.url, runId),
        follow(servers[1]!.url, runId),
      ]);
      return {
        here: chunkLatencies(here, llm.chunkTimes.slice(from)),
        there: chunkLatencies(there, llm.chunkTimes.slice(from)),
      };
    };
    await stream();
    const { here, there } = await stream();

    // Takeover: a run waiting for an approval, its replica killed; the other resumes it.
    log(`${TAKEOVERS} takeovers after kill -9 of the driving replica (lease ${LEASE_SECONDS} s)`);
    llm.reset();
    llm.respond((request) =>
      request.toolResults.length === 0
        ? { toolCalls: [{ name: 'run_command', input: { command: 'true' } }] }
        : { text: 'done' },
    );
    const takeovers: number[] = [];
    for (let round = 0; round < TAKEOVERS; round++) {
      const [victim, survivor] = servers as [ServerProcess, ServerProcess];
      const runId = await start(victim.url, `round ${round}`, 'agent');
      let killedAt = 0;
      let resumedAt = 0;
      await follow(survivor.url, runId, (event) => {
        if (event.type === 'approval' && !killedAt) {
          killedAt = performance.now();
          victim.child.kill('SIGKILL');
        }
        if (event.type === 'notice' && event.code === 'resumed' && !resumedAt) {
          resumedAt = performance.now();
          void on(survivor.url, 'POST', `/api/ai/runs/${runId}/stop`);
        }
      });
      if (!resumedAt) throw new Error('the run ended without being resumed');
      takeovers.push(resumedAt - killedAt);
      // The killed replica comes back as the other one for the next round.
      servers.shift();
      servers.push(await spawnServer(serverMain, env));
      await waitForReady(servers[1]!);
    }

    return {
      replicas_follow_other_p50_ms: {
        value: percentile(there, 50),
        unit: 'ms',
        baseline: percentile(here, 50),
      },
      replicas_follow_other_p99_ms: {
        value: percentile(there, 99),
        unit: 'ms',
        baseline: percentile(here, 99),
      },
      replicas_takeover_max_ms: {
        value: Math.max(...takeovers),
        unit: 'ms',
        baseline: LEASE_SECONDS * 1000,
      },
    };
  } finally {
    // Local workspaces outlive their servers; this one must not outlive the bench.
    const live = servers.find((server) => server.child.exitCode === null && !server.child.killed);
    if (live && cookie) await deleteWorkspace(live.url, cookie).catch(() => {});
    for (const server of servers) await stopServer(server.child);
    await llm.close();
    await database.drop();
  }
}

async function deleteWorkspace(origin: string, cookie: string): Promise<void> {
  const url = `${origin}/api/workspaces/bench-replicas`;
  await fetch(url, { method: 'DELETE', headers: { cookie, origin } });
  for (let i = 0; i < 600; i++) {
    if ((await fetch(url, { headers: { cookie } })).status === 404) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
