// Assistant metrics for `npm run bench`: what the platform adds to each agent tool call, and how
// soon a streamed token reaches the client after the model's server sends it. The model is the
// scripted LLM server (real OpenAI wire format) in this process, so its clock is the client's.
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunEvent } from '@studio/protocol';
import { followRun } from '../test/run-events.ts';
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
    const send = async (id: string, text: string, mode: 'chat' | 'agent') =>
      (
        JSON.parse(
          await api.call('POST', `/api/workspaces/bench-agent/ai/conversations/${id}/messages`, {
            text,
            mode,
          }),
        ) as { runId: string }
      ).runId;

    // Tool calls: the model asks for read_file over and over; the platform's share of each call
    // is from the tool-call event to its result at the client (the model is not involved).
    log(`${TOOL_CALLS} read_file calls in one agent run`);
    llm.respond((request: RecordedRequest) =>
      request.toolResults.length < TOOL_CALLS
        ? { toolCalls: [{ name: 'read_file', input: { path: 'README.md' } }] }
        : { text: 'done' },
    );
    const started = new Map<string, number>();
    const toolTimes: number[] = [];
    const runId = await send(await conversation(), 'read it many times', 'agent');
    await followRun({
      origin: server.url,
      cookie: api.cookie,
      runId,
      onEvent: (event: RunEvent, at: number) => {
        if (event.type === 'tool-call') started.set(event.callId, at);
        if (event.type === 'tool-result') toolTimes.push(at - started.get(event.callId)!);
      },
    });
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
      let firstAt = 0;
      const id = await send(await conversation(), 'hello', 'chat');
      await followRun({
        origin: server.url,
        cookie: api.cookie,
        runId: id,
        onEvent: (event, at) => {
          if (event.type === 'text' && firstAt === 0) firstAt = at;
        },
      });
      tokenTimes.push(firstAt - llm.chunkTimes[sentAt]!);
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
