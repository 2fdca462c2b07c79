// The scripted LLM fixture, driven through the real AI SDK providers: if these pass, the fixture's
// wire formats are what the SDK really parses, and the failure modes below are what agent code sees.
import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import {
  APICallError,
  generateText,
  InvalidToolInputError,
  JSONParseError,
  type LanguageModel,
  stepCountIs,
  streamText,
  type TextStreamPart,
  tool,
} from 'ai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startScriptedLlm, type ScriptedLlm } from '../../../test/scripted-llm.ts';

const apiKey = 'sk-scripted-test';
let llm: ScriptedLlm;

beforeAll(async () => {
  // Anthropic warns on every call that it does not know the model "scripted-chat"; that is noise here.
  globalThis.AI_SDK_LOG_WARNINGS = false;
  llm = await startScriptedLlm({ apiKey });
});
afterAll(() => llm.close());
beforeEach(() => {
  llm.requests.length = 0;
});

interface Vendor {
  name: string;
  model(key?: string): LanguageModel;
}

const vendors: Vendor[] = [
  {
    name: 'openai',
    model: (key = apiKey) =>
      createOpenAI({ baseURL: llm.openaiBaseUrl, apiKey: key }).chat('scripted-chat'),
  },
  {
    name: 'openai-compatible',
    model: (key = apiKey) =>
      createOpenAICompatible({
        name: 'local',
        baseURL: llm.openaiBaseUrl,
        apiKey: key,
        // Without it the provider sends no `stream_options` and streamed usage stays undefined.
        includeUsage: true,
      })('scripted-chat'),
  },
  {
    name: 'anthropic',
    model: (key = apiKey) =>
      createAnthropic({ baseURL: llm.anthropicBaseUrl, apiKey: key })('scripted-chat'),
  },
];

const add = tool({
  description: 'Add two numbers',
  inputSchema: z.object({ a: z.number(), b: z.number() }),
  execute: async ({ a, b }) => a + b,
});

describe.each(vendors)('$name through the AI SDK', (vendor) => {
  it('streams text in the scripted chunks and reports usage', async () => {
    llm.script({ text: ['Hel', 'lo, ', 'world'], usage: { inputTokens: 21, outputTokens: 3 } });
    const timesBefore = llm.chunkTimes.length;
    const result = streamText({ model: vendor.model(), prompt: 'Say hello', maxRetries: 0 });
    const chunks: string[] = [];
    for await (const chunk of result.textStream) chunks.push(chunk);
    expect(chunks).toEqual(['Hel', 'lo, ', 'world']);
    expect(await result.usage).toMatchObject({ inputTokens: 21, outputTokens: 3, totalTokens: 24 });
    expect(await result.finishReason).toBe('stop');
    expect(llm.requests).toHaveLength(1);
    expect(llm.requests[0]?.lastUserText).toBe('Say hello');
    expect(llm.requests[0]?.body.stream).toBe(true);
    expect(llm.chunkTimes.length - timesBefore).toBe(3);
  });

  it('answers without streaming too', async () => {
    llm.script({ text: 'Plain answer.' });
    const result = await generateText({ model: vendor.model(), prompt: 'Hi', maxRetries: 0 });
    expect(result.text).toBe('Plain answer.');
    expect(result.usage.inputTokens).toBeGreaterThan(0);
    expect(result.usage.outputTokens).toBeGreaterThan(0);
  });

  it('runs a tool call and sends its result back in the next request', async () => {
    llm.script(
      { toolCalls: [{ id: 'call_add_1', name: 'add', input: { a: 2, b: 3 } }] },
      { text: 'The sum is 5.' },
    );
    const result = streamText({
      model: vendor.model(),
      prompt: 'What is 2 + 3?',
      tools: { add },
      stopWhen: stepCountIs(3),
      maxRetries: 0,
    });
    expect(await result.text).toBe('The sum is 5.');
    const steps = await result.steps;
    expect(steps).toHaveLength(2);
    expect(steps[0]?.toolCalls[0]).toMatchObject({ toolName: 'add', input: { a: 2, b: 3 } });
    expect(steps[0]?.finishReason).toBe('tool-calls');
    expect(llm.requests).toHaveLength(2);
    expect(llm.requests[1]?.toolResults).toEqual([{ toolCallId: 'call_add_1', content: '5' }]);
    expect(llm.requests[1]?.lastUserText).toBe('What is 2 + 3?');
  });

  it('throws APICallError 401 for a wrong key', async () => {
    const error = await generateText({
      model: vendor.model('sk-wrong'),
      prompt: 'Hi',
      maxRetries: 0,
    }).catch((caught: unknown) => caught);
    expect(APICallError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ statusCode: 401, isRetryable: false });
    // Rejected before reaching the model: not recorded, no scripted turn consumed.
    expect(llm.requests).toHaveLength(0);
  });

  it('retries a 429 honouring retry-after', async () => {
    llm.script(
      {
        error: { status: 429, headers: { 'retry-after': '1', 'retry-after-ms': '20' } },
      },
      { text: 'after the retry' },
    );
    const result = await generateText({ model: vendor.model(), prompt: 'Hi', maxRetries: 1 });
    expect(result.text).toBe('after the retry');
    expect(llm.requests).toHaveLength(2);
  });

  it('throws APICallError 429 with the retry-after header when not retrying', async () => {
    llm.script({ error: { status: 429, headers: { 'retry-after': '1' } } });
    const error = await generateText({
      model: vendor.model(),
      prompt: 'Hi',
      maxRetries: 0,
    }).catch((caught: unknown) => caught);
    expect(APICallError.isInstance(error)).toBe(true);
    const apiError = error as APICallError;
    expect(apiError.statusCode).toBe(429);
    expect(apiError.isRetryable).toBe(true);
    expect(apiError.responseHeaders?.['retry-after']).toBe('1');
    expect(apiError.message).toBe('Rate limit reached (scripted)');
  });

  it('surfaces a stream cut mid-way as a rejected stream, not a success', async () => {
    // Enough events that the cut lands after the first text delta for every vendor.
    llm.script({ text: ['one ', 'two ', 'three ', 'four'], cutAfterChunks: 5 });
    const errorParts: unknown[] = [];
    const onErrorCalls: unknown[] = [];
    const result = streamText({
      model: vendor.model(),
      prompt: 'Count',
      maxRetries: 0,
      onError: ({ error }) => void onErrorCalls.push(error),
    });
    const seen: string[] = [];
    const iterated = (async () => {
      for await (const part of result.fullStream) {
        seen.push(part.type);
        if (part.type === 'error') errorParts.push(part.error);
      }
    })();
    // The SDK does not turn the cut into an `error` part: iterating the stream throws, and the
    // result promises reject with the same error. No `finish` part is ever emitted.
    const error = await iterated.catch((caught: unknown) => caught);
    expect(APICallError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({
      message: 'Failed to process successful response',
      statusCode: 200, // the HTTP status was fine; the body broke off
      isRetryable: true,
    });
    expect(String((error as Error).cause)).toBe('TypeError: terminated');
    expect(seen).toContain('text-delta');
    expect(seen).not.toContain('finish');
    expect(errorParts).toEqual([]);
    expect(onErrorCalls).toEqual([]);
    await expect(result.text).rejects.toBe(error);
    await expect(result.finishReason).rejects.toBe(error);
  });

  it('reports malformed tool-call arguments as a tool error the model gets back', async () => {
    llm.script(
      { toolCalls: [{ id: 'call_bad_1', name: 'add', rawArguments: '{"a": 2,' }] },
      { text: 'Sorry, let me fix that.' },
    );
    const result = streamText({
      model: vendor.model(),
      prompt: 'What is 2 + 3?',
      tools: { add },
      stopWhen: stepCountIs(2),
      maxRetries: 0,
    });
    const parts: TextStreamPart<{ add: typeof add }>[] = [];
    for await (const part of result.fullStream) parts.push(part);
    // The call still arrives, marked invalid, carrying an InvalidToolInputError (cause: JSONParseError);
    // the tool does not run, and a `tool-error` part (error: the message string) follows.
    const call = parts.find((part) => part.type === 'tool-call');
    expect(call).toMatchObject({
      toolName: 'add',
      input: '{"a": 2,',
      invalid: true,
      dynamic: true,
    });
    const callError = (call as { error?: unknown }).error;
    expect(InvalidToolInputError.isInstance(callError)).toBe(true);
    expect(JSONParseError.isInstance((callError as InvalidToolInputError).cause)).toBe(true);
    const toolError = parts.find((part) => part.type === 'tool-error');
    expect(toolError).toMatchObject({ toolCallId: 'call_bad_1', toolName: 'add' });
    expect(String((toolError as { error: unknown }).error)).toMatch(
      /^Invalid input for tool add: JSON parsing failed/,
    );
    // Not fatal: the error text goes back to the model as the tool result, and the run goes on.
    expect(parts.map((part) => part.type)).not.toContain('error');
    expect(await result.text).toBe('Sorry, let me fix that.');
    expect(llm.requests[1]?.toolResults[0]?.toolCallId).toBe('call_bad_1');
    expect(llm.requests[1]?.toolResults[0]?.content).toContain('Invalid input for tool add');
  });
});

/** POST a JSON body and split the SSE answer into its `event:` names and `data:` payloads. */
async function rawSse(path: string, headers: Record<string, string>, body: unknown) {
  const response = await fetch(`${llm.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const frames = (await response.text()).split('\n\n').filter(Boolean);
  const events = frames.map((frame) => /^event: (.*)$/m.exec(frame)?.[1]);
  const data = frames.map((frame) => /^data: (.*)$/m.exec(frame)?.[1] ?? '');
  return { events, data };
}

describe('raw wire format', () => {
  it('streams OpenAI tool-call arguments in fragments, then usage and [DONE]', async () => {
    llm.script({ toolCalls: [{ name: 'add', input: { a: 2, b: 3 } }] });
    const { data } = await rawSse(
      '/v1/chat/completions',
      { authorization: `Bearer ${apiKey}` },
      {
        model: 'scripted-chat',
        messages: [{ role: 'user', content: 'add' }],
        stream: true,
        stream_options: { include_usage: true },
      },
    );
    expect(data.at(-1)).toBe('[DONE]');
    const chunks = data.slice(0, -1).map((line) => JSON.parse(line));
    expect(chunks[0].choices[0].delta.role).toBe('assistant');
    const header = chunks[1].choices[0].delta.tool_calls[0];
    expect(header).toMatchObject({ index: 0, type: 'function', function: { name: 'add' } });
    expect(header.id).toMatch(/^call_/);
    const argumentChunks = chunks.filter(
      (chunk) => chunk.choices[0]?.delta.tool_calls?.[0]?.function.arguments,
    );
    expect(argumentChunks.length).toBeGreaterThanOrEqual(2);
    expect(chunks.at(-2).choices[0].finish_reason).toBe('tool_calls');
    expect(chunks.at(-1)).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 12, completion_tokens: 7, total_tokens: 19 },
    });
  });

  it('streams Anthropic events in the documented order', async () => {
    llm.script({ text: 'Hi ', toolCalls: [{ name: 'add', input: { a: 2, b: 3 } }] });
    const { events, data } = await rawSse(
      '/v1/messages',
      { 'x-api-key': apiKey, 'anthropic-version': '2023-06-01' },
      {
        model: 'scripted-chat',
        max_tokens: 100,
        messages: [{ role: 'user', content: 'add' }],
        stream: true,
      },
    );
    expect(events).toEqual([
      'message_start',
      'content_block_start',
      'ping',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    const payloads = data.map((line) => JSON.parse(line));
    expect(payloads.map((payload) => payload.type)).toEqual(events);
    expect(payloads[5].content_block).toMatchObject({ type: 'tool_use', name: 'add', input: {} });
    expect(payloads[5].content_block.id).toMatch(/^toolu_/);
    expect(payloads[10]).toMatchObject({
      delta: { stop_reason: 'tool_use' },
      usage: { output_tokens: 7 },
    });
  });

  it('answers errors and bad JSON in each vendor shape', async () => {
    llm.script({ error: { status: 529 } });
    const overloaded = await fetch(`${llm.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': apiKey, 'anthropic-version': '2023-06-01' },
      body: '{}',
    });
    expect(overloaded.status).toBe(529);
    expect(await overloaded.json()).toEqual({
      type: 'error',
      error: { type: 'overloaded_error', message: 'Overloaded (scripted)' },
    });
    const badJson = await fetch(`${llm.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}` },
      body: '{not json',
    });
    expect(badJson.status).toBe(400);
    expect(await badJson.json()).toMatchObject({
      error: { type: 'invalid_request_error', message: expect.stringContaining('not valid JSON') },
    });
  });
});

describe('other endpoints', () => {
  it('lists models in the OpenAI shape', async () => {
    const response = await fetch(`${llm.url}/v1/models`, {
      headers: { authorization: `Bearer ${apiKey}` },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      object: 'list',
      data: [
        { id: 'scripted-chat', object: 'model', created: expect.any(Number), owned_by: 'scripted' },
        {
          id: 'scripted-coder',
          object: 'model',
          created: expect.any(Number),
          owned_by: 'scripted',
        },
      ],
    });
  });

  it('lists models in the Anthropic shape', async () => {
    const response = await fetch(`${llm.url}/v1/models`, {
      headers: { 'x-api-key': apiKey, 'anthropic-version': '2023-06-01' },
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { data: unknown[] };
    expect(body).toMatchObject({
      has_more: false,
      first_id: 'scripted-chat',
      last_id: 'scripted-coder',
    });
    expect(body.data[0]).toEqual({
      type: 'model',
      id: 'scripted-chat',
      display_name: 'scripted-chat',
      created_at: expect.any(String),
    });
  });

  it('answers fill-in-the-middle on /v1/completions and records prompt + suffix', async () => {
    llm.script({ text: 'return a + b;' });
    const model = createOpenAICompatible({
      name: 'local',
      baseURL: llm.openaiBaseUrl,
      apiKey,
    }).completionModel('scripted-coder');
    const result = await generateText({
      model,
      prompt: 'function add(a, b) {\n  ',
      providerOptions: { local: { suffix: '\n}\n' } },
      maxRetries: 0,
    });
    expect(result.text).toBe('return a + b;');
    const [request] = llm.requests;
    expect(request?.api).toBe('openai-completions');
    expect(request?.body).toMatchObject({ model: 'scripted-coder', suffix: '\n}\n' });
    expect(request?.lastUserText).toContain('function add(a, b) {');
  });

  it('fails loudly when no turn is scripted', async () => {
    const error = await generateText({
      model: vendors[0]!.model(),
      prompt: 'Hi',
      maxRetries: 0,
    }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      statusCode: 500,
      message: 'scripted LLM: no turn scripted for this request',
    });
  });
});
