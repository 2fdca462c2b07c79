import type {
  ApprovalDetail,
  CollabPeer,
  DaemonMethod,
  DaemonParams,
  DaemonResult,
  DaemonStreamEvent,
} from '@studio/protocol';
import type { z } from 'zod';

/** The part of a daemon stream the tools use; the runtime's `DaemonStream` is one. */
export interface ToolStream {
  onData(listener: (payload: Uint8Array, channel: number) => void): void;
  onEvent(listener: (event: DaemonStreamEvent) => void): void;
  onEnd(listener: (error?: Error) => void): void;
  /** Bytes to the process's stdin (exec) or the peer (tunnel). */
  write(payload: Uint8Array | string): void;
  end(): void;
  cancel(): void;
}

/** The workspace's daemon as tools see it; the runtime's `DaemonConnection` is one. */
export interface ToolDaemon {
  call<M extends DaemonMethod>(method: M, params: DaemonParams<M>): Promise<DaemonResult<M>>;
  open<M extends DaemonMethod>(method: M, params: DaemonParams<M>): Promise<ToolStream>;
}

/** What a tool call may use: the workspace, who it acts for, and a way to show progress. */
export interface ToolContext {
  daemon: ToolDaemon;
  /** The git author for `git_commit`: the person the agent works for. */
  identity: { name: string; email: string };
  /** Who the edits are by in a file someone has open (a shared document): the run, by name. */
  author?: CollabPeer;
  signal: AbortSignal;
  /** Streams partial output (a command's stdout) to the person while the tool runs. */
  onOutput(chunk: string): void;
  /** Fetches a URL for `fetch_url` (the SSRF-safe fetch, injected so tests can allow loopback). */
  fetchUrl(
    url: string,
    signal: AbortSignal,
  ): Promise<{
    url: string;
    status: number;
    contentType: string | null;
    body: string;
    truncated: boolean;
  }>;
}

/** How much a tool can change: reads are allowed by default, the rest ask or are off. */
export type ToolKind = 'read' | 'write' | 'exec' | 'network';

/**
 * What a tool call hands back to the model: text, or text with an image it should look at (a
 * screenshot). Transcripts, run events and the audit log keep the text only.
 */
export type ToolResult = string | ToolResultWithImage;

/** A result with an image; `text` says what the image is (`screenshot 1280×720 (screen 1920×1080)`). */
export interface ToolResultWithImage {
  text: string;
  image: { base64: string; mediaType: 'image/png' };
}

/** The text of a result: what the person and the audit log see. */
export function resultText(result: ToolResult): string {
  return typeof result === 'string' ? result : result.text;
}

/**
 * One agent tool: its schema and description for the model, the one-line subject the permission
 * policy matches (the command, the path, the URL), what an approval card shows, and the work.
 * `Result` is `ToolResult` for a tool that may answer with an image; most answer text only.
 */
export interface AgentTool<Input = unknown, Result extends ToolResult = string> {
  name: string;
  description: string;
  kind: ToolKind;
  inputSchema: z.ZodType<Input>;
  /**
   * The JSON Schema the model sees instead of `inputSchema`'s own, for tools described by someone
   * else (an MCP server's tool); `inputSchema` then only checks an edited input's shape.
   */
  jsonSchema?: Record<string, unknown>;
  /**
   * Set when the input is Anthropic's computer-use action set (`computer_20250124`): on Claude the
   * run offers Anthropic's own `computer` tool, which Claude was trained on, with this display size.
   */
  computerUse?: { displayWidth: number; displayHeight: number };
  subject(input: Input): string;
  /** What the person sees before approving: the exact command, or the change as a diff. */
  describe(input: Input, context: ToolContext): Promise<ApprovalDetail>;
  /** The result the model reads (already capped); throw a `ToolError` for a failure it should see. */
  execute(input: Input, context: ToolContext): Promise<Result>;
}

/** A failure the model should read and can act on (no such file, non-unique match, timeout). */
export class ToolError extends Error {
  override readonly name = 'ToolError';
}

/** Longest tool result handed back to the model; more is cut with a note saying so. */
export const MAX_RESULT_CHARS = 32_000;

/** Cut `text` to `max` characters, saying how much was left out. */
export function capText(text: string, max = MAX_RESULT_CHARS): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}\n… [${text.length - max} more characters not shown]`;
}

/** Declares a tool with its input type inferred from the schema (and its result from `execute`). */
export function defineTool<Schema extends z.ZodType, Result extends ToolResult = string>(
  tool: AgentTool<z.output<Schema>, Result> & { inputSchema: Schema },
): AgentTool<unknown, Result> {
  return tool as unknown as AgentTool<unknown, Result>;
}
