// Assistant metrics for `npm run bench`: what the platform adds to each agent tool call, and how
// soon a streamed token reaches the client after the model's server sends it. The model is the
// scripted LLM server (real OpenAI wire format) in this process, so its clock is the client's.
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { RunEvent } from '@studio/protocol';
import { startScriptedLlm, type RecordedRequest } from '../test/scripted-llm.ts';
import { percentile, spawnServer, stopServer, waitForReady } from './processes.ts';
import { apiFor } from './workspaces.ts';

export interface AgentMetric {
  value: number;
  unit: string;
  baseline?: number;
}

const ADMIN = { email: 'bench-agent@example.com', password: 'bench-password-0123' };
const TOOL_CALLS = 200;
const TOKEN_RUNS = 30;

function log(message: string): void {
  process.stderr.write(`bench: agent: ${message}\n`);
}

const FOLLOWER = fileURLToPath(new URL('follower.ts', import.meta.url));

/**
 * Sends `text` to a new conversation from another process, which follows the run it starts: its
 * events with their arrival in ms since the epoch (this process serves the model; its work must
 * not delay what is timed).
 */
async function sendAndFollowElsewhere(
  origin: string,
  cookie: string,
  conversationId: string,
  body: { text: string; mode: 'chat' | 'agent' },
): Promise<Array<{ at: number; event: RunEvent }>> {
  const path = `/api/workspaces/bench-agent/ai/conversations/${conversationId}/messages`;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', FOLLOWER, origin, path, JSON.stringify(body)],
    { env: { ...process.env, STUDIO_BENCH_COOKIE: cookie }, maxBuffer: 64 * 1024 * 1024 },
  );
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { at: number; event: RunEvent });
}

/** This process's performance.now() as ms since the epoch, comparable with another process's. */
const epoch = (at: number) => performance.timeOrigin + at;

/** Measure through the built server on the local driver. */
export async function measureAgent(
  tmp: string,
  serverMain: string,
): Promise<Record<string, AgentMetric>> {
  const llm = await startScriptedLlm();
  const server = await spawnServer(serverMain, {
    STUDIO_DATA_DIR: await mkdtemp(join(tmp, 'agent-')),
    STUDIO_ADMIN_EMAIL: ADMIN.email,
    STUDIO_ADMIN_PASSWORD: ADMIN.password,
    STUDIO_RUNTIME: 'local',
    STUDIO_AI_MAX_STEPS: String(TOOL_CALLS + 10),
  });
  try {
    await waitForReady(server);
    const api = await apiFor(server.url, ADMIN);
    await api.createAndWait('bench-agent');
    await api.call('PUT', '/api/workspaces/bench-agent/files/content', {
      path: 'README.md',
      content: 'a small file the agent reads\n'.repeat(40),
    });
    const provider = JSON.parse(
      await api.call('POST', '/api/ai/providers', {
        name: 'scripted',
        kind: 'openai-compatible',
        baseUrl: llm.openaiBaseUrl,
      }),
    ) as { id: string };
    await api.call('PUT', '/api/ai/settings', {
      chat: { providerId: provider.id, model: 'scripted-chat' },
      agent: { providerId: provider.id, model: 'scripted-chat' },
    });
    const conversation = async () =>
      (
        JSON.parse(await api.call('POST', '/api/workspaces/bench-agent/ai/conversations', {})) as {
          id: string;
        }
      ).id;

    // Tool calls: the model asks for read_file over and over; the platform's share of each call
    // is from the end of the model's answer asking for it to its result at a follower.
    log(`${TOOL_CALLS} read_file calls in one agent run`);
    llm.respond((request: RecordedRequest) =>
      request.toolResults.length < TOOL_CALLS
        ? { toolCalls: [{ name: 'read_file', input: { path: 'README.md' } }] }
        : { text: 'done' },
    );
    const asked = llm.endTimes.length;
    const followed = await sendAndFollowElsewhere(server.url, api.cookie, await conversation(), {
      text: 'read it many times',
      mode: 'agent',
    });
    // The model's answer asking for call i ended at endTimes[asked + i]; its result is the i-th.
    const results = followed.filter(({ event }) => event.type === 'tool-result');
    const toolTimes = results.map(({ at }, call) => at - epoch(llm.endTimes[asked + call]!));
    // The same daemon read through the files API: the round trip any IDE request pays.
    const fileTimes: number[] = [];
    for (let run = 0; run < TOOL_CALLS; run++) {
      const began = performance.now();
      await api.call('GET', '/api/workspaces/bench-agent/files/content?path=README.md');
      fileTimes.push(performance.now() - began);
    }

    log(`first streamed token, ${TOKEN_RUNS} chat runs`);
    llm.reset();
    const tokenTimes: number[] = [];
    for (let run = 0; run < TOKEN_RUNS; run++) {
      llm.script({ text: ['first', ' second', ' third'], chunkDelayMs: 20 });
      const sentAt = llm.chunkTimes.length;
      const events = await sendAndFollowElsewhere(server.url, api.cookie, await conversation(), {
        text: 'hello',
        mode: 'chat',
      });
      const firstAt = events.find(({ event }) => event.type === 'text')!.at;
      tokenTimes.push(firstAt - epoch(llm.chunkTimes[sentAt]!));
    }

    // Local workspaces outlive the server; this one must not outlive the bench.
    await api.call('DELETE', '/api/workspaces/bench-agent');
    await api.waitGone(['bench-agent']);

    const warm = toolTimes.slice(10);
    return {
      agent_tool_call_overhead_p50_ms: {
        value: percentile(warm, 50),
        unit: 'ms',
        baseline: percentile(fileTimes.slice(10), 50),
      },
      agent_tool_call_overhead_p99_ms: {
        value: percentile(warm, 99),
        unit: 'ms',
        baseline: percentile(fileTimes.slice(10), 99),
      },
      agent_first_token_p50_ms: { value: percentile(tokenTimes.slice(3), 50), unit: 'ms' },
      agent_first_token_p99_ms: { value: percentile(tokenTimes.slice(3), 99), unit: 'ms' },
    };
  } finally {
    await stopServer(server.child);
    await llm.close();
  }
}
