// Test helper: a local LLM server speaking the real OpenAI Chat Completions, OpenAI legacy
// Completions and Anthropic Messages wire formats (JSON and SSE), answering with turns each test
// scripts, so the AI SDK providers run unmodified against it and no test needs the internet.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

export interface ScriptedToolCall {
  id?: string;
  name: string;
  input?: unknown;
  /** raw arguments text sent verbatim instead of JSON.stringify(input) — for malformed JSON tests */
  rawArguments?: string;
}

export interface ScriptedTurn {
  /** Text to stream; an array gives the exact chunks (one SSE delta each). */
  text?: string | string[];
  toolCalls?: ScriptedToolCall[];
  usage?: { inputTokens: number; outputTokens: number };
  /** Answer with an HTTP error in the vendor's error JSON shape instead of a completion. */
  error?: { status: number; message?: string; headers?: Record<string, string> };
  /** Stream this many SSE events, then destroy the socket (a stream cut mid-way). */
  cutAfterChunks?: number;
  /** Milliseconds between streamed chunks (default 0). */
  chunkDelayMs?: number;
}

export type Responder = (request: RecordedRequest) => ScriptedTurn | Promise<ScriptedTurn>;

export type ScriptedApi = 'openai' | 'anthropic' | 'openai-completions';

export interface RecordedRequest {
  api: ScriptedApi;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  // The request body is untyped vendor JSON; tests index into it freely.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  /** The conversation as plain text pieces, for assertions: last user message text, tool results, etc. */
  lastUserText: string | null;
  /** The text of every user message in order (Anthropic's tool results are not the user's). */
  userTexts: string[];
  toolResults: Array<{ toolCallId: string; content: string }>;
  /** Every base64 image in the conversation, and where it was. */
  images: RecordedImage[];
}

/** An image a request carried: inside a tool result (Anthropic) or in a user message (both). */
export interface RecordedImage {
  in: 'tool-result' | 'user-message';
  /** The index in the body's `messages`. */
  messageIndex: number;
  /** The call whose result held it (`in: 'tool-result'`). */
  toolCallId?: string;
  mediaType: string;
  base64: string;
}

export interface ScriptedLlm {
  /** http://127.0.0.1:<port> */
  url: string;
  /** `${url}/v1` (for createOpenAI / createOpenAICompatible baseURL) */
  openaiBaseUrl: string;
  /** `${url}/v1` (for createAnthropic baseURL) */
  anthropicBaseUrl: string;
  /** Requests that reached the model (authorized, well-formed JSON), in arrival order. */
  requests: RecordedRequest[];
  /** Queue turns answered in order (each request takes the next one). */
  script(...turns: ScriptedTurn[]): void;
  /** Or answer dynamically (used when the queue is empty). */
  respond(responder: Responder): void;
  /** Forget the queued turns and the responder (a test's leftovers must not answer the next). */
  reset(): void;
  /** Timestamps (performance.now()) at which each SSE text-delta chunk was written, for latency benches. */
  chunkTimes: number[];
  /** Timestamps (performance.now()) at which each streamed answer ended, for latency benches. */
  endTimes: number[];
  close(): Promise<void>;
}

export interface ScriptedLlmOptions {
  /** When set, every request must carry it (`Authorization: Bearer` or Anthropic's `x-api-key`). */
  apiKey?: string;
  /** Ids listed by `GET /v1/models`; default `['scripted-chat', 'scripted-coder']`. */
  models?: string[];
  /** The address to listen on (default 127.0.0.1; `0.0.0.0` for a Docker workspace to reach it). */
  host?: string;
}

const DEFAULT_MODELS = ['scripted-chat', 'scripted-coder'];
const DEFAULT_USAGE = { inputTokens: 12, outputTokens: 7 };
const NO_TURN = 'scripted LLM: no turn scripted for this request';

/** A vendor-shaped HTTP error (status + message) raised while handling a request. */
class VendorError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Start the server on an ephemeral 127.0.0.1 port; stop it with `close()`. */
export async function startScriptedLlm(options: ScriptedLlmOptions = {}): Promise<ScriptedLlm> {
  const queue: ScriptedTurn[] = [];
  let responder: Responder | undefined;
  const requests: RecordedRequest[] = [];
  const chunkTimes: number[] = [];
  const endTimes: number[] = [];
  const models = options.models ?? DEFAULT_MODELS;

  const nextTurn = async (request: RecordedRequest): Promise<ScriptedTurn> => {
    const queued = queue.shift();
    if (queued) return queued;
    if (responder) return responder(request);
    throw new VendorError(500, NO_TURN);
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      // Only reached when the response itself broke (client gone); nothing left to answer.
      if (!response.destroyed) response.destroy(error instanceof Error ? error : undefined);
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://llm').pathname;
    const vendor = vendorOf(path, request.headers);
    try {
      const body = await readBody(request);
      checkAuth(options.apiKey, vendor, request.headers);
      if (request.method === 'GET' && path === '/v1/models') {
        return sendJson(response, 200, modelList(vendor, models));
      }
      const api = apiOf(request.method, path);
      if (!api) throw new VendorError(404, `scripted LLM: no route for ${request.method} ${path}`);
      const json = parseJson(body);
      const recorded = record(api, path, request.headers, json);
      requests.push(recorded);
      const turn = await nextTurn(recorded);
      if (turn.error) {
        const { status, message, headers } = turn.error;
        throw new VendorError(status, message ?? defaultMessage(status), headers);
      }
      const stream = isRecord(json) && json.stream === true;
      const model = isRecord(json) && typeof json.model === 'string' ? json.model : 'scripted-chat';
      const wantsUsage =
        isRecord(json) && isRecord(json.stream_options) && json.stream_options.include_usage;
      const reply = render(api, turn, model, wantsUsage === true);
      if (turn.cutAfterChunks !== undefined && !stream) {
        // A JSON answer has no chunks to cut between: drop the connection before any response.
        response.destroy();
        return;
      }
      if (!stream) return sendJson(response, 200, reply.json);
      await streamEvents(response, reply.events, turn, chunkTimes);
      endTimes.push(performance.now());
    } catch (error) {
      if (response.headersSent) throw error;
      // A responder that throws answers 500 with its message, so the test sees why.
      const vendorError =
        error instanceof VendorError
          ? error
          : new VendorError(
              500,
              `scripted LLM: ${error instanceof Error ? error.message : String(error)}`,
            );
      sendJson(
        response,
        vendorError.status,
        errorBody(vendor, vendorError.status, vendorError.message),
        vendorError.headers,
      );
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, options.host ?? '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    openaiBaseUrl: `${url}/v1`,
    anthropicBaseUrl: `${url}/v1`,
    requests,
    chunkTimes,
    endTimes,
    script: (...turns) => void queue.push(...turns),
    respond: (next) => void (responder = next),
    reset: () => {
      queue.length = 0;
      responder = undefined;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// Routing, auth, errors

type Vendor = 'openai' | 'anthropic';

/** Anthropic clients always send `anthropic-version`; `/v1/messages` is Anthropic's alone. */
function vendorOf(path: string, headers: IncomingMessage['headers']): Vendor {
  return headers['anthropic-version'] !== undefined || path === '/v1/messages'
    ? 'anthropic'
    : 'openai';
}

function apiOf(method: string | undefined, path: string): ScriptedApi | undefined {
  if (method !== 'POST') return undefined;
  if (path === '/v1/chat/completions') return 'openai';
  if (path === '/v1/messages') return 'anthropic';
  if (path === '/v1/completions') return 'openai-completions';
  return undefined;
}

function checkAuth(
  apiKey: string | undefined,
  vendor: Vendor,
  headers: IncomingMessage['headers'],
) {
  if (apiKey === undefined) return;
  const given =
    vendor === 'anthropic' ? headers['x-api-key'] : headers.authorization?.replace(/^Bearer /, '');
  if (given === apiKey) return;
  const message =
    vendor === 'anthropic'
      ? 'invalid x-api-key'
      : `Incorrect API key provided: ${typeof given === 'string' ? given.slice(0, 6) : '(none)'}…`;
  throw new VendorError(401, message);
}

function defaultMessage(status: number): string {
  if (status === 429) return 'Rate limit reached (scripted)';
  if (status === 529) return 'Overloaded (scripted)';
  if (status === 401) return 'Invalid API key (scripted)';
  return `Scripted error ${status}`;
}

/** The vendor's error JSON: OpenAI `{error:{message,type,param,code}}`, Anthropic `{type:'error',error:{type,message}}`. */
function errorBody(vendor: Vendor, status: number, message: string): unknown {
  if (vendor === 'anthropic') {
    return { type: 'error', error: { type: anthropicErrorType(status), message } };
  }
  const [type, code] =
    status === 401
      ? ['invalid_request_error', 'invalid_api_key']
      : status === 429
        ? ['requests', 'rate_limit_exceeded']
        : status === 404
          ? ['invalid_request_error', 'not_found']
          : status >= 500
            ? ['server_error', null]
            : ['invalid_request_error', null];
  return { error: { message, type, param: null, code } };
}

function anthropicErrorType(status: number): string {
  const types: Record<number, string> = {
    400: 'invalid_request_error',
    401: 'authentication_error',
    403: 'permission_error',
    404: 'not_found_error',
    413: 'request_too_large',
    429: 'rate_limit_error',
    500: 'api_error',
    529: 'overloaded_error',
  };
  return types[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
}

function modelList(vendor: Vendor, models: string[]): unknown {
  const created = Math.floor(Date.now() / 1000);
  if (vendor === 'anthropic') {
    return {
      data: models.map((id) => ({
        type: 'model',
        id,
        display_name: id,
        created_at: new Date(created * 1000).toISOString(),
      })),
      has_more: false,
      first_id: models[0] ?? null,
      last_id: models.at(-1) ?? null,
    };
  }
  return {
    object: 'list',
    data: models.map((id) => ({ id, object: 'model', created, owned_by: 'scripted' })),
  };
}

// ---------------------------------------------------------------------------------------------
// Request parsing and recording

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new VendorError(400, `scripted LLM: request body is not valid JSON: ${String(error)}`);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** Text of a message `content`: a string, or the `text` parts of an array of parts. */
function textOf(content: unknown): string | null {
  if (typeof content === 'string') return content;
  const texts = asArray(content)
    .filter((part) => isRecord(part) && part.type === 'text' && typeof part.text === 'string')
    .map((part) => (part as { text: string }).text);
  return texts.length > 0 ? texts.join('') : null;
}

function record(
  api: ScriptedApi,
  path: string,
  headers: IncomingMessage['headers'],
  body: unknown,
): RecordedRequest {
  const recorded: RecordedRequest = {
    api,
    path,
    headers,
    body,
    lastUserText: null,
    userTexts: [],
    toolResults: [],
    images: [],
  };
  if (!isRecord(body)) return recorded;
  if (api === 'openai-completions') {
    recorded.lastUserText = typeof body.prompt === 'string' ? body.prompt : null;
    return recorded;
  }
  for (const [messageIndex, message] of asArray(body.messages).entries()) {
    if (!isRecord(message)) continue;
    // OpenAI: tool results are `role: 'tool'` messages.
    if (message.role === 'tool' && typeof message.tool_call_id === 'string') {
      const content = textOf(message.content) ?? '';
      recorded.toolResults.push({ toolCallId: message.tool_call_id, content });
      for (const image of imagesOf(message.content)) {
        recorded.images.push({
          in: 'tool-result',
          messageIndex,
          toolCallId: message.tool_call_id,
          ...image,
        });
      }
      continue;
    }
    if (message.role !== 'user') continue;
    // Anthropic: tool results are `tool_result` blocks inside user messages, which are not
    // something the user said — so they do not count as the user's text.
    for (const block of asArray(message.content)) {
      if (
        isRecord(block) &&
        block.type === 'tool_result' &&
        typeof block.tool_use_id === 'string'
      ) {
        const content = textOf(block.content) ?? '';
        recorded.toolResults.push({ toolCallId: block.tool_use_id, content });
        for (const image of imagesOf(block.content)) {
          recorded.images.push({
            in: 'tool-result',
            messageIndex,
            toolCallId: block.tool_use_id,
            ...image,
          });
        }
      }
    }
    for (const image of imagesOf(message.content)) {
      recorded.images.push({ in: 'user-message', messageIndex, ...image });
    }
    const text = textOf(message.content);
    if (text !== null) {
      recorded.lastUserText = text;
      recorded.userTexts.push(text);
    }
  }
  return recorded;
}

/**
 * The base64 images among a message's content parts: OpenAI's `image_url` with a data URL,
 * Anthropic's `image` block with a base64 source.
 */
function imagesOf(content: unknown): Array<{ mediaType: string; base64: string }> {
  const images: Array<{ mediaType: string; base64: string }> = [];
  for (const part of asArray(content)) {
    if (!isRecord(part)) continue;
    if (part.type === 'image_url' && isRecord(part.image_url)) {
      const match = /^data:([^;,]+);base64,(.*)$/s.exec(String(part.image_url.url));
      if (match) images.push({ mediaType: match[1]!, base64: match[2]! });
    } else if (part.type === 'image' && isRecord(part.source) && part.source.type === 'base64') {
      images.push({ mediaType: String(part.source.media_type), base64: String(part.source.data) });
    }
  }
  return images;
}

// ---------------------------------------------------------------------------------------------
// Rendering a turn in each wire format

/** One SSE event: `event:` line (Anthropic only) and the data payload. */
interface SseEvent {
  event?: string;
  data: unknown;
  /** Carries scripted text (timestamped into `chunkTimes`). */
  isText?: boolean;
}

interface Rendered {
  json: unknown;
  events: SseEvent[];
}

function render(
  api: ScriptedApi,
  turn: ScriptedTurn,
  model: string,
  wantsUsage: boolean,
): Rendered {
  const text = textChunks(turn.text);
  const usage = turn.usage ?? DEFAULT_USAGE;
  if (api === 'anthropic') return renderAnthropic(turn, text, usage, model);
  if (api === 'openai-completions') {
    // Legacy completions have no tool calls; scripting some is a test bug, so fail loudly.
    if (turn.toolCalls?.length) {
      throw new VendorError(500, 'scripted LLM: toolCalls are not supported on /v1/completions');
    }
    return renderCompletions(text, usage, model, wantsUsage);
  }
  return renderOpenAi(turn, text, usage, model, wantsUsage);
}

/** A string streams word by word (whitespace kept on the word before it); an array verbatim. */
function textChunks(text: string | string[] | undefined): string[] {
  if (text === undefined) return [];
  if (Array.isArray(text)) return text;
  return text.split(/(?<=\s)(?=\S)/).filter((chunk) => chunk.length > 0);
}

function argumentsOf(call: ScriptedToolCall): string {
  return call.rawArguments ?? JSON.stringify(call.input ?? {});
}

/** Split arguments into 2+ fragments (when long enough) as the vendors stream them. */
function fragments(text: string): string[] {
  if (text.length < 2) return [text];
  const size = Math.max(1, Math.ceil(text.length / 3));
  const parts: string[] = [];
  for (let at = 0; at < text.length; at += size) parts.push(text.slice(at, at + size));
  return parts;
}

function id(prefix: string): string {
  return `${prefix}${randomBytes(12).toString('hex')}`;
}

function renderOpenAi(
  turn: ScriptedTurn,
  text: string[],
  usage: { inputTokens: number; outputTokens: number },
  model: string,
  wantsUsage: boolean,
): Rendered {
  const completionId = id('chatcmpl-');
  const created = Math.floor(Date.now() / 1000);
  const calls = (turn.toolCalls ?? []).map((call) => ({ ...call, id: call.id ?? id('call_') }));
  const finishReason = calls.length > 0 ? 'tool_calls' : 'stop';
  const wireUsage = {
    prompt_tokens: usage.inputTokens,
    completion_tokens: usage.outputTokens,
    total_tokens: usage.inputTokens + usage.outputTokens,
  };
  const json = {
    id: completionId,
    object: 'chat.completion',
    created,
    model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: text.length > 0 ? text.join('') : null,
          refusal: null,
          ...(calls.length > 0 && {
            tool_calls: calls.map((call) => ({
              id: call.id,
              type: 'function',
              function: { name: call.name, arguments: argumentsOf(call) },
            })),
          }),
        },
        logprobs: null,
        finish_reason: finishReason,
      },
    ],
    usage: wireUsage,
  };

  const chunk = (delta: unknown, finish: string | null = null) => ({
    data: {
      id: completionId,
      object: 'chat.completion.chunk',
      created,
      model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    },
  });
  const events: SseEvent[] = [
    chunk({ role: 'assistant', content: text.length > 0 ? '' : null, refusal: null }),
  ];
  for (const piece of text) events.push({ ...chunk({ content: piece }), isText: true });
  calls.forEach((call, index) => {
    // First the call's header with empty arguments, then the arguments in fragments — as OpenAI does.
    events.push(
      chunk({
        tool_calls: [
          { index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } },
        ],
      }),
    );
    for (const part of fragments(argumentsOf(call))) {
      events.push(chunk({ tool_calls: [{ index, function: { arguments: part } }] }));
    }
  });
  events.push(chunk({}, finishReason));
  if (wantsUsage) {
    events.push({
      data: {
        id: completionId,
        object: 'chat.completion.chunk',
        created,
        model,
        choices: [],
        usage: wireUsage,
      },
    });
  }
  events.push({ data: '[DONE]' });
  return { json, events };
}

function renderCompletions(
  text: string[],
  usage: { inputTokens: number; outputTokens: number },
  model: string,
  wantsUsage: boolean,
): Rendered {
  const completionId = id('cmpl-');
  const created = Math.floor(Date.now() / 1000);
  const wireUsage = {
    prompt_tokens: usage.inputTokens,
    completion_tokens: usage.outputTokens,
    total_tokens: usage.inputTokens + usage.outputTokens,
  };
  const base = { id: completionId, object: 'text_completion', created, model };
  const choice = (piece: string, finish: string | null) => ({
    text: piece,
    index: 0,
    logprobs: null,
    finish_reason: finish,
  });
  const events: SseEvent[] = text.map((piece) => ({
    data: { ...base, choices: [choice(piece, null)] },
    isText: true,
  }));
  events.push({ data: { ...base, choices: [choice('', 'stop')] } });
  if (wantsUsage) events.push({ data: { ...base, choices: [], usage: wireUsage } });
  events.push({ data: '[DONE]' });
  return { json: { ...base, choices: [choice(text.join(''), 'stop')], usage: wireUsage }, events };
}

function renderAnthropic(
  turn: ScriptedTurn,
  text: string[],
  usage: { inputTokens: number; outputTokens: number },
  model: string,
): Rendered {
  const messageId = id('msg_');
  const calls = (turn.toolCalls ?? []).map((call) => ({ ...call, id: call.id ?? id('toolu_') }));
  const stopReason = calls.length > 0 ? 'tool_use' : 'end_turn';
  const message = {
    id: messageId,
    type: 'message',
    role: 'assistant',
    model,
    stop_reason: null,
    stop_sequence: null,
  };
  const content: unknown[] = [];
  if (text.length > 0) content.push({ type: 'text', text: text.join('') });
  for (const call of calls) {
    // Anthropic's JSON answer carries the input as a parsed value; malformed raw arguments can
    // only travel as a string, which the SDK then rejects as input that is not an object.
    let input: unknown = call.input ?? {};
    if (call.rawArguments !== undefined) {
      try {
        input = JSON.parse(call.rawArguments);
      } catch {
        input = call.rawArguments;
      }
    }
    content.push({ type: 'tool_use', id: call.id, name: call.name, input });
  }
  const json = {
    ...message,
    content,
    stop_reason: stopReason,
    usage: { input_tokens: usage.inputTokens, output_tokens: usage.outputTokens },
  };

  const event = (type: string, data: Record<string, unknown>, isText = false): SseEvent => ({
    event: type,
    data: { type, ...data },
    isText,
  });
  const events: SseEvent[] = [
    event('message_start', {
      message: {
        ...message,
        content: [],
        usage: { input_tokens: usage.inputTokens, output_tokens: 1 },
      },
    }),
  ];
  let index = 0;
  if (text.length > 0) {
    events.push(event('content_block_start', { index, content_block: { type: 'text', text: '' } }));
    events.push(event('ping', {}));
    for (const piece of text) {
      events.push(
        event('content_block_delta', { index, delta: { type: 'text_delta', text: piece } }, true),
      );
    }
    events.push(event('content_block_stop', { index }));
    index++;
  }
  for (const call of calls) {
    events.push(
      event('content_block_start', {
        index,
        content_block: { type: 'tool_use', id: call.id, name: call.name, input: {} },
      }),
    );
    if (index === 0) events.push(event('ping', {}));
    for (const part of fragments(argumentsOf(call))) {
      events.push(
        event('content_block_delta', {
          index,
          delta: { type: 'input_json_delta', partial_json: part },
        }),
      );
    }
    events.push(event('content_block_stop', { index }));
    index++;
  }
  events.push(
    event('message_delta', {
      delta: { stop_reason: stopReason, stop_sequence: null },
      usage: { output_tokens: usage.outputTokens },
    }),
  );
  events.push(event('message_stop', {}));
  return { json, events };
}

// ---------------------------------------------------------------------------------------------
// Writing responses

function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const payload = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
    'x-request-id': id('req_'),
    ...headers,
  });
  response.end(payload);
}

async function streamEvents(
  response: ServerResponse,
  events: SseEvent[],
  turn: ScriptedTurn,
  chunkTimes: number[],
): Promise<void> {
  response.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'x-request-id': id('req_'),
  });
  response.flushHeaders();
  const cutAfter = turn.cutAfterChunks;
  for (const [count, sse] of events.entries()) {
    if (cutAfter !== undefined && count >= cutAfter) break;
    if (count > 0 && turn.chunkDelayMs) await sleep(turn.chunkDelayMs);
    if (response.destroyed) return; // the client went away
    const data = typeof sse.data === 'string' ? sse.data : JSON.stringify(sse.data);
    const frame = `${sse.event ? `event: ${sse.event}\n` : ''}data: ${data}\n\n`;
    if (sse.isText) chunkTimes.push(performance.now());
    // Wait until the frame is handed to the socket, so a cut that follows cannot swallow it.
    await new Promise<void>((resolve) => response.write(frame, () => resolve()));
  }
  if (cutAfter !== undefined) {
    // No terminating chunk of the chunked encoding: the client sees the body end abruptly.
    response.destroy();
    return;
  }
  response.end();
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
