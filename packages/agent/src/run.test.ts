import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  startScriptedLlm,
  type ScriptedLlm,
  type ScriptedTurn,
} from '../../../test/scripted-llm.ts';
import { decide } from './policy.ts';
import { languageModel } from './providers.ts';
import { redactSecrets } from './redact.ts';
import { runAgent, type AgentEvent, type RunAgentOptions, type RunCaps } from './run.ts';
import { computerTool } from './tools/computer.ts';
import { defineTool, ToolError, type AgentTool, type ToolContext } from './tools/tool.ts';

// The loop's own behaviour (caps, failures, the policy) with plain tools; the workspace tools
// are tested against a real daemon in the server's tests.
let llm: ScriptedLlm;
const apiKey = 'sk-run-test-0123456789abcdef';

beforeAll(async () => {
  llm = await startScriptedLlm({ apiKey });
});
afterAll(async () => {
  await llm?.close();
});
beforeEach(() => {
  llm.reset();
  llm.respond(() => ({ error: { status: 500, message: 'scripted LLM: nothing scripted' } }));
});

const add = defineTool({
  name: 'add',
  description: 'Add two numbers.',
  kind: 'read',
  inputSchema: z.object({ a: z.number(), b: z.number() }),
  subject: (input) => `${input.a}+${input.b}`,
  describe: async (input) => ({ summary: `add ${input.a} ${input.b}` }),
  execute: async (input) => String(input.a + input.b),
});

const slow = defineTool({
  name: 'slow',
  description: 'Takes a while.',
  kind: 'read',
  inputSchema: z.object({}),
  subject: () => 'slow',
  describe: async () => ({ summary: 'slow' }),
  execute: (_input, context) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => resolve('finally'), 10_000);
      context.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(new Error('aborted'));
      });
    }),
});

const failing = defineTool({
  name: 'failing',
  description: 'Always fails.',
  kind: 'write',
  inputSchema: z.object({}),
  subject: () => 'failing',
  describe: async () => ({ summary: 'failing' }),
  execute: async () => {
    throw new ToolError('the disk is full');
  },
});

const CAPS: RunCaps = { maxSteps: 10, maxWallMs: 30_000, maxTokens: 1_000_000, maxCostUsd: 10 };

function options(
  overrides: Partial<RunAgentOptions> = {},
): RunAgentOptions & { events: AgentEvent[] } {
  const events: AgentEvent[] = [];
  return {
    events,
    model: languageModel(
      { kind: 'openai-compatible', baseUrl: llm.openaiBaseUrl, apiKey },
      'scripted-chat',
    ),
    system: 'test',
    messages: [{ role: 'user', content: 'go' }],
    tools: [add, slow, failing] as AgentTool[],
    context: {
      daemon: {} as ToolContext['daemon'],
      identity: { name: 'T', email: 't@example.com' },
      fetchUrl: async () => {
        throw new Error('no network in this test');
      },
    },
    decide: (tool, subject) =>
      decide([], { tool: tool.name, kind: tool.kind, subject, workspace: 'w' }),
    askApproval: async () => ({ decision: 'approve' }),
    caps: CAPS,
    emit: (event) => events.push(event),
    signal: new AbortController().signal,
    redact: (text) => redactSecrets(text, [apiKey]),
    maxRetries: 0,
    ...overrides,
  };
}

const addCall = (a: number, b: number): ScriptedTurn => ({
  toolCalls: [{ name: 'add', input: { a, b } }],
});

describe('runAgent', () => {
  it('loops until the model answers without a tool', async () => {
    llm.script(addCall(2, 3), { text: 'It is 5.' });
    const run = options();
    const outcome = await runAgent(run);
    expect(outcome.code).toBe('done');
    expect(outcome.parts).toEqual([
      {
        type: 'tool',
        callId: expect.any(String),
        tool: 'add',
        input: { a: 2, b: 3 },
        status: 'done',
        output: '5',
        decision: { by: 'policy' },
      },
      { type: 'text', text: 'It is 5.' },
    ]);
    expect(outcome.usage).toMatchObject({ steps: 2, inputTokens: 24, outputTokens: 14 });
  });

  it.each([
    ['anthropic', () => llm.anthropicBaseUrl],
    ['openai', () => llm.openaiBaseUrl],
  ] as const)('runs the same loop over the %s wire format', async (kind, baseUrl) => {
    llm.script(addCall(20, 22), { text: 'It is 42.' });
    const outcome = await runAgent(
      options({ model: languageModel({ kind, baseUrl: baseUrl(), apiKey }, 'scripted-chat') }),
    );
    expect(outcome.code).toBe('done');
    expect(outcome.parts.map((part) => part.type)).toEqual(['tool', 'text']);
    expect(llm.requests.at(-1)!.api).toBe(kind);
    expect(llm.requests.at(-1)!.toolResults.at(-1)!.content).toBe('42');
  });

  it('ends at the step cap, saying so', async () => {
    llm.respond(() => addCall(1, 1));
    const outcome = await runAgent(options({ caps: { ...CAPS, maxSteps: 3 } }));
    expect(outcome.code).toBe('cap_steps');
    expect(outcome.message).toMatch(/limit of 3 steps/);
    expect(llm.requests.length).toBeGreaterThanOrEqual(3);
    expect(outcome.parts.at(-1)).toMatchObject({
      type: 'notice',
      level: 'error',
      code: 'cap_steps',
    });
  });

  it('ends at the token cap', async () => {
    llm.respond(() => ({ ...addCall(1, 1), usage: { inputTokens: 600, outputTokens: 100 } }));
    const outcome = await runAgent(options({ caps: { ...CAPS, maxTokens: 1000 } }));
    expect(outcome.code).toBe('cap_tokens');
    expect(outcome.message).toMatch(/1400 tokens, reaching its limit of 1000/);
    expect(outcome.usage.steps).toBe(2);
  });

  it('ends at the cost cap with the model’s price', async () => {
    llm.respond(() => ({
      ...addCall(1, 1),
      usage: { inputTokens: 100_000, outputTokens: 10_000 },
    }));
    const outcome = await runAgent(
      options({
        caps: { ...CAPS, maxCostUsd: 0.5 },
        price: { inputPerMTok: 2.5, outputPerMTok: 10 },
      }),
    );
    // 0.35 $ per step: the second step crosses 0.50 $.
    expect(outcome.code).toBe('cap_cost');
    expect(outcome.usage.costUsd).toBeCloseTo(0.7);
  });

  it('ends at the time cap, stopping the tool that runs', async () => {
    llm.script({ toolCalls: [{ name: 'slow', input: {} }] });
    const started = Date.now();
    const outcome = await runAgent(options({ caps: { ...CAPS, maxWallMs: 300 } }));
    expect(outcome.code).toBe('cap_time');
    expect(outcome.message).toMatch(/time limit/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('stops when the person presses Stop, also while an approval waits', async () => {
    llm.script({ toolCalls: [{ name: 'failing', input: {} }] });
    const stop = new AbortController();
    const run = options({
      signal: stop.signal,
      askApproval: () => new Promise(() => setTimeout(() => stop.abort(), 50)),
    });
    const outcome = await runAgent(run);
    expect(outcome.code).toBe('stopped');
    expect(run.events.some((event) => event.type === 'approval')).toBe(true);
  });

  it('hands tool failures and policy denials back to the model', async () => {
    llm.script({ toolCalls: [{ name: 'failing', input: {} }] }, { text: 'The disk is full.' });
    const outcome = await runAgent(options());
    expect(outcome.code).toBe('done');
    expect(llm.requests.at(-1)!.toolResults[0]!.content).toBe('Error: the disk is full');

    llm.script(addCall(1, 2), { text: 'Not allowed.' });
    const denied = await runAgent(options({ decide: () => 'deny' }));
    expect(denied.parts[0]).toMatchObject({ status: 'denied', decision: { by: 'policy' } });
    expect(llm.requests.at(-1)!.toolResults[0]!.content).toMatch(
      /^Denied: The permission policy does not allow add/,
    );
  });

  it('THREATS 20: runs a tool only once its call is stored, and never for a run it lost', async () => {
    const seen: string[] = [];
    const counted = defineTool({
      ...add,
      name: 'counted',
      execute: async () => {
        seen.push('execute');
        return 'ran';
      },
    } as Parameters<typeof defineTool>[0]);
    const call = { toolCalls: [{ name: 'counted', input: { a: 1, b: 1 } }] };
    const run = (beforeExecute: RunAgentOptions['beforeExecute'], signal?: AbortSignal) =>
      runAgent(
        options({
          tools: [counted],
          emit: (event) => seen.push(event.type),
          beforeExecute,
          ...(signal ? { signal } : {}),
        }),
      );

    llm.script(call, { text: 'ok' });
    const stored = await run(async () => {
      seen.push('stored');
      return true;
    });
    expect(stored.code).toBe('done');
    expect(seen.filter((step) => step !== 'usage' && step !== 'text')).toEqual([
      'tool-call',
      'stored',
      'execute',
      'tool-result',
    ]);

    // Another server took the run over while the call was being stored: this one lets go.
    seen.length = 0;
    llm.script(call, { text: 'ok' });
    const lost = new AbortController();
    const outcome = await run(async () => {
      lost.abort();
      return false;
    }, lost.signal);
    expect(outcome.code).toBe('stopped');
    expect(seen).not.toContain('execute');
    expect(seen).not.toContain('tool-result');
  });

  it('shows malformed tool-call JSON as a failed call the model can correct', async () => {
    llm.script({ toolCalls: [{ name: 'add', rawArguments: '{"a": 2,' }] }, addCall(2, 2), {
      text: '4',
    });
    const run = options();
    const outcome = await runAgent(run);
    expect(outcome.code).toBe('done');
    expect(outcome.parts[0]).toMatchObject({ type: 'tool', tool: 'add', status: 'error' });
    expect((outcome.parts[0] as { error: string }).error).toMatch(/Invalid input for tool add/);
    expect(outcome.parts[1]).toMatchObject({ status: 'done', output: '4' });
  });

  describe('provider failures, each a message a person can act on', () => {
    it('401: the key', async () => {
      const run = options({
        model: languageModel(
          { kind: 'openai-compatible', baseUrl: llm.openaiBaseUrl, apiKey: 'sk-wrong' },
          'x',
        ),
      });
      const outcome = await runAgent(run);
      expect(outcome.code).toBe('provider_auth');
      expect(outcome.message).toMatch(/refused the API key \(401\).*Settings → AI/);
    });

    it('429 with retry-after: waits and retries, and says so when it keeps failing', async () => {
      const limited = {
        error: {
          status: 429,
          message: 'slow down',
          headers: { 'retry-after-ms': '10', 'retry-after': '1' },
        },
      };
      llm.script(limited, { text: 'after the wait' });
      const retried = await runAgent(options({ maxRetries: 1 }));
      expect(retried.code).toBe('done');
      expect(retried.parts).toEqual([{ type: 'text', text: 'after the wait' }]);

      llm.script(limited, limited);
      const outcome = await runAgent(options({ maxRetries: 1 }));
      expect(outcome.code).toBe('provider_rate_limited');
      expect(outcome.message).toMatch(
        /rate-limiting requests \(429\) \(after 2 attempts\); it asked to wait 1 s/,
      );
    });

    it('500, a cut stream, an unreachable endpoint', async () => {
      llm.script({ error: { status: 500, message: 'overloaded GPU' } });
      expect(await runAgent(options())).toMatchObject({
        code: 'provider_error',
        message: expect.stringMatching(/\(500\).*overloaded GPU/),
      });

      llm.script({ text: ['a ', 'b ', 'c ', 'd'], cutAfterChunks: 3 });
      const cut = await runAgent(options());
      expect(cut.code).toBe('stream_cut');
      // What arrived before the cut is kept.
      expect(cut.parts[0]).toMatchObject({ type: 'text' });

      const nowhere = await runAgent(
        options({
          model: languageModel(
            { kind: 'openai-compatible', baseUrl: 'http://127.0.0.1:9/v1', apiKey: null },
            'x',
          ),
        }),
      );
      expect(nowhere.code).toBe('provider_unreachable');
      expect(nowhere.message).toMatch(
        /Could not reach the model provider at http:\/\/127\.0\.0\.1:9/,
      );
    });
  });

  it('never lets the key into what it reports', async () => {
    const leaky = defineTool({
      ...add,
      name: 'leaky',
      execute: async () => `the key is ${apiKey}`,
    } as Parameters<typeof defineTool>[0]);
    llm.script({ toolCalls: [{ name: 'leaky', input: { a: 1, b: 1 } }] }, { text: 'ok' });
    const run = options({ tools: [leaky] });
    const outcome = await runAgent(run);
    expect(JSON.stringify(outcome)).not.toContain(apiKey);
    expect(JSON.stringify(run.events)).not.toContain(apiKey);
    expect(llm.requests.at(-1)!.toolResults[0]!.content).toBe('the key is [REDACTED]');
  });
});

// A 1×1 PNG: what the model must receive as an image, and what no transcript may hold.
const PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

/** A 1920×1080 desktop that records the input it gets. */
function fakeDesktop() {
  const inputs: unknown[] = [];
  const daemon = {
    call: async (method: string, params: { x?: number; y?: number }) => {
      if (method === 'desktop.screenshot')
        return { png: PNG, width: 1280, height: 720, screenWidth: 1920, screenHeight: 1080 };
      inputs.push(params);
      return { x: params.x ?? 0, y: params.y ?? 0 };
    },
  } as unknown as ToolContext['daemon'];
  return { daemon, inputs };
}

describe('runAgent with the computer tool', () => {
  it.each([
    ['anthropic', () => llm.anthropicBaseUrl],
    ['openai', () => llm.openaiBaseUrl],
    ['openai-compatible', () => llm.openaiBaseUrl],
  ] as const)('shows the screenshot to a %s model as an image', async (kind, baseUrl) => {
    const desktop = fakeDesktop();
    llm.script(
      { toolCalls: [{ name: 'computer', input: { action: 'screenshot' } }] },
      {
        toolCalls: [{ name: 'computer', input: { action: 'left_click', coordinate: [640, 360] } }],
      },
      { text: 'Clicked.' },
    );
    const run = options({
      model: languageModel({ kind, baseUrl: baseUrl(), apiKey }, 'scripted-chat'),
      tools: [computerTool()],
      decide: () => 'allow',
      context: { ...options().context, daemon: desktop.daemon },
    });
    const outcome = await runAgent(run);

    expect(outcome.code).toBe('done');
    const [first, second, third] = llm.requests.slice(-3);
    expect(first!.images).toEqual([]);
    for (const request of [second!, third!]) {
      const callId = request.toolResults[0]!.toolCallId;
      if (kind === 'anthropic') {
        // Inside the tool result, as Anthropic's computer-use tool returns it.
        expect(request.images).toEqual([
          expect.objectContaining({ in: 'tool-result', toolCallId: callId, base64: PNG }),
        ]);
        expect(request.toolResults[0]!.content).toBe('screenshot 1280×720 (screen 1920×1080)');
      } else {
        // Chat Completions' tool messages are text: the image follows as a user message.
        const [image] = request.images;
        expect(image).toMatchObject({ in: 'user-message', mediaType: 'image/png', base64: PNG });
        expect(request.body.messages[image!.messageIndex - 1]).toMatchObject({
          role: 'tool',
          tool_call_id: callId,
        });
        expect(request.toolResults[0]!.content).toMatch(
          /^screenshot 1280×720 \(screen 1920×1080\)/,
        );
      }
      expect(request.toolResults[0]!.content).not.toContain(PNG);
    }
    expect(desktop.inputs).toEqual([{ action: 'left_click', x: 960, y: 540 }]);
    expect(outcome.parts[0]).toMatchObject({
      tool: 'computer',
      status: 'done',
      output: 'screenshot 1280×720 (screen 1920×1080)',
    });
    expect(JSON.stringify(run.events)).not.toContain(PNG);
    if (kind === 'anthropic') {
      // Claude gets the computer-use tool it was trained on, not a look-alike function.
      expect(first!.body.tools).toEqual([
        expect.objectContaining({
          type: 'computer_20250124',
          name: 'computer',
          display_width_px: 1280,
          display_height_px: 800,
        }),
      ]);
      expect(first!.headers['anthropic-beta']).toContain('computer-use-2025-01-24');
    } else {
      expect(first!.body.tools[0]).toMatchObject({
        type: 'function',
        function: { name: 'computer' },
      });
    }
  });
});

/** An inbox the test fills; the run takes what is there. */
function inbox() {
  const pending: string[] = [];
  return { pending, take: () => pending.splice(0) };
}

describe('steering a run', () => {
  it.each([
    ['anthropic', () => llm.anthropicBaseUrl],
    ['openai-compatible', () => llm.openaiBaseUrl],
  ] as const)(
    'hands a message sent during a tool call to the %s model, then keeps it',
    async (kind, baseUrl) => {
      const messages = inbox();
      // The person writes while the tool runs.
      const noting: AgentTool = {
        ...add,
        execute: async (input, context) => {
          messages.pending.push('Also check the README.');
          return add.execute(input, context);
        },
      };
      llm.script(addCall(1, 2), addCall(3, 4), { text: 'Done, README checked.' });
      const run = options({
        model: languageModel({ kind, baseUrl: baseUrl(), apiKey }, 'scripted-chat'),
        tools: [noting],
        inbox: messages,
      });
      const outcome = await runAgent(run);

      expect(outcome.code).toBe('done');
      const [first, second, third] = llm.requests.slice(-3);
      expect(first!.userTexts).toEqual(['go']);
      expect(second!.userTexts).toEqual(['go', 'Also check the README.']);
      // The second call's note (taken before the third step) joins the first, which stays.
      expect(third!.userTexts).toEqual(['go', 'Also check the README.', 'Also check the README.']);
      expect(outcome.parts.map((part) => part.type)).toEqual([
        'tool',
        'user-note',
        'tool',
        'user-note',
        'text',
      ]);
      expect(run.events).toContainEqual({ type: 'user-note', text: 'Also check the README.' });
    },
  );

  it('puts the message after the tool results it followed', async () => {
    const messages = inbox();
    llm.script(addCall(1, 2), { text: 'ok' });
    const run = options({
      inbox: messages,
      onToolCall: () => messages.pending.push('stop after this'),
    });
    await runAgent(run);
    const body = llm.requests.at(-1)!.body;
    expect(body.messages.map((message: { role: string }) => message.role)).toEqual([
      'system',
      'user',
      'assistant',
      'tool',
      'user',
    ]);
    expect(body.messages.at(-1).content).toBe('stop after this');
  });

  it('waits at the gate before each later step', async () => {
    let release = () => {};
    let gated = () => {};
    const atGate = new Promise<void>((resolve) => (gated = resolve));
    let gateCalls = 0;
    llm.script(addCall(1, 2), { text: 'ok' });
    const running = runAgent(
      options({
        gate: () => {
          gateCalls++;
          gated();
          return new Promise<void>((resolve) => (release = resolve));
        },
      }),
    );
    await atGate;
    const before = llm.requests.length;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(llm.requests.length).toBe(before);
    release();
    const outcome = await running;
    expect(outcome.code).toBe('done');
    expect(llm.requests.length).toBe(before + 1);
    expect(gateCalls).toBe(1);
  });

  it('ends as stopped when Stop comes while the gate is closed', async () => {
    const stop = new AbortController();
    llm.script(addCall(1, 2), { text: 'never asked' });
    const outcome = await runAgent(
      options({
        signal: stop.signal,
        gate: () => {
          setTimeout(() => stop.abort(), 10);
          return new Promise<void>(() => {});
        },
      }),
    );
    expect(outcome.code).toBe('stopped');
    expect(outcome.parts.map((part) => part.type)).toEqual(['tool', 'notice']);
  });
});
