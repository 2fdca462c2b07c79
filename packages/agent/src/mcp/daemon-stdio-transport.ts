import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { JSONRPCMessageSchema, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { ToolDaemon, ToolStream } from '../tools/tool.ts';

/** The program of an MCP stdio server, run inside the workspace. */
export interface StdioCommand {
  command: string;
  args: string[];
  cwd?: string;
  env?: Record<string, string>;
}

/** A server that talks this much without a newline is broken (or hostile); the transport fails. */
const MAX_LINE_BYTES = 8 * 1024 * 1024;
/** How long a server gets to exit after its stdin closes before its process group is killed. */
const EXIT_GRACE_MS = 1_000;
/** MCP sessions outlive commands: the daemon kills a process after this (it also dies on close). */
const SESSION_TIMEOUT_MS = 6 * 3600_000;

/**
 * An MCP client transport over a daemon exec stream: newline-delimited JSON-RPC on the program's
 * stdin and stdout, so a stdio server runs in the workspace and never on the server host. Stderr
 * goes to `onStderr` (servers log there); the program ending closes the transport.
 */
export class DaemonStdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  private stream: ToolStream | null = null;
  private buffer = '';
  private readonly decoder = new TextDecoder();
  private closed = false;
  private ended: Promise<void> | null = null;
  /** The last stderr lines, for an error that says why the server stopped. */
  private stderrTail = '';

  constructor(
    private readonly daemon: ToolDaemon,
    private readonly program: StdioCommand,
    private readonly onStderr: (text: string) => void = () => {},
  ) {}

  async start(): Promise<void> {
    if (this.stream) throw new Error('DaemonStdioTransport already started');
    const stream = await this.daemon.open('exec.start', {
      command: this.program.command,
      args: this.program.args,
      ...(this.program.cwd ? { cwd: this.program.cwd } : {}),
      env: { ...this.program.env },
      timeoutMs: SESSION_TIMEOUT_MS,
      // The daemon stops forwarding past its cap; a session's replies must never be cut.
      maxOutputBytes: Number.MAX_SAFE_INTEGER,
    });
    this.stream = stream;
    this.ended = new Promise((resolve) => {
      stream.onEnd((error) => {
        resolve();
        if (error && !this.closed) this.onerror?.(error);
        this.finish();
      });
    });
    stream.onData((payload, channel) => {
      const text = this.decoder.decode(payload, { stream: true });
      if (channel === 1) {
        this.stderrTail = (this.stderrTail + text).slice(-2000);
        this.onStderr(text);
        return;
      }
      this.receive(text);
    });
    stream.onEvent((event) => {
      if (event.kind !== 'exit' || this.closed) return;
      const how = event.code !== null ? `exit code ${event.code}` : `signal ${event.signal}`;
      const tail = this.stderrTail.trim();
      this.onerror?.(
        new Error(`the MCP server stopped (${how})${tail ? `: ${tail.split('\n').at(-1)}` : ''}`),
      );
    });
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (!this.stream || this.closed) throw new Error('the MCP server is not running');
    this.stream.write(`${JSON.stringify(message)}\n`);
  }

  /** Closes stdin so the server can exit on its own, then kills what is left of it. */
  async close(): Promise<void> {
    if (this.closed) return;
    const stream = this.stream;
    this.closed = true;
    if (stream && this.ended) {
      stream.end();
      let timer: NodeJS.Timeout | undefined;
      const exited = await Promise.race([
        this.ended.then(() => true),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), EXIT_GRACE_MS);
        }),
      ]);
      clearTimeout(timer);
      if (!exited) stream.cancel();
    }
    this.finish();
  }

  /** What the server wrote on stderr last (for a failure message). */
  get stderr(): string {
    return this.stderrTail;
  }

  private receive(text: string): void {
    this.buffer += text;
    let cut;
    while ((cut = this.buffer.indexOf('\n')) !== -1) {
      const line = this.buffer.slice(0, cut).replace(/\r$/, '');
      this.buffer = this.buffer.slice(cut + 1);
      if (line.trim()) this.deliver(line);
    }
    if (this.buffer.length > MAX_LINE_BYTES) {
      this.buffer = '';
      this.onerror?.(new Error('the MCP server sent a line longer than 8 MiB'));
      void this.close();
    }
  }

  private deliver(line: string): void {
    let message: JSONRPCMessage;
    try {
      message = JSONRPCMessageSchema.parse(JSON.parse(line));
    } catch {
      // Some servers print banners on stdout; they are not messages, but not fatal either.
      this.onerror?.(
        new Error(`the MCP server wrote a line that is not JSON-RPC: ${line.slice(0, 200)}`),
      );
      return;
    }
    this.onmessage?.(message);
  }

  private finish(): void {
    const wasOpen = this.stream !== null;
    this.closed = true;
    this.stream = null;
    if (wasOpen) this.onclose?.();
  }
}
