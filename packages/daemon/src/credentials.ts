// Git credentials without a token in the workspace: git's credential helper (this bundle run as
// `daemon.mjs git-credential <socket>`) asks the daemon over a private unix socket; the daemon asks
// the server over its `credentials.serve` stream; the server answers with the owner's token for
// that host. The token exists only in the helper's stdout, read by the git that asked.
import { randomUUID } from 'node:crypto';
import { chmod, mkdtemp, unlink } from 'node:fs/promises';
import { createConnection, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DaemonParsedParams } from '@studio/protocol';
import type { OutStream } from './streams.ts';

/** What git asked for, and what it gets back. */
interface CredentialQuery {
  protocol: string;
  host: string;
  path?: string;
}
interface CredentialAnswer {
  username?: string;
  password?: string;
}

// The server looks one row up; a server that does not answer by then has lost its connection.
const ANSWER_TIMEOUT_MS = 15_000;
// A credential request is a few short lines; anything longer is not git.
const MAX_REQUEST_BYTES = 64 * 1024;
/** The socket's name in the daemon's run folder. */
export const CREDENTIAL_SOCKET_NAME = 'git-credential.sock';

/** Forwards git's credential requests to the server's `credentials.serve` stream. */
export class CredentialBroker {
  private readonly servers: OutStream[] = [];
  private readonly waiting = new Map<
    string,
    { stream: OutStream; resolve: (answer: CredentialAnswer) => void }
  >();

  /** A client offers to answer requests (`credentials.serve`); the newest one is asked. */
  serve(stream: OutStream): void {
    this.servers.push(stream);
    stream.handlers = {
      onCancel: () => {
        const index = this.servers.indexOf(stream);
        if (index >= 0) this.servers.splice(index, 1);
        for (const [id, entry] of this.waiting) {
          if (entry.stream !== stream) continue;
          this.waiting.delete(id);
          entry.resolve({});
        }
      },
    };
  }

  /** The client's answer to one request (`credentials.answer`). */
  answer(params: DaemonParsedParams<'credentials.answer'>): void {
    const entry = this.waiting.get(params.id);
    if (!entry) return;
    this.waiting.delete(params.id);
    entry.resolve(
      params.password === undefined ? {} : { username: params.username, password: params.password },
    );
  }

  /** Ask the server; nothing (no credential) when no server is connected or it does not answer. */
  request(query: CredentialQuery): Promise<CredentialAnswer> {
    const stream = this.servers.findLast((candidate) => !candidate.ended);
    if (!stream) return Promise.resolve({});
    const id = randomUUID();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        resolve({});
      }, ANSWER_TIMEOUT_MS);
      timer.unref();
      this.waiting.set(id, {
        stream,
        resolve: (answer) => {
          clearTimeout(timer);
          resolve(answer);
        },
      });
      stream.event({
        kind: 'credential.request',
        id,
        protocol: query.protocol,
        host: query.host,
        ...(query.path === undefined ? {} : { path: query.path }),
      });
    });
  }

  /**
   * Listen for the helper on a unix socket only the workspace user can open, in `runDir` (the
   * daemon's own folder) or a private temporary folder when the daemon listens on TCP.
   */
  async listen(runDir: string | null): Promise<{ socketPath: string; close(): Promise<void> }> {
    const dir = runDir ?? (await mkdtemp(path.join(tmpdir(), 'studio-daemon-')));
    const socketPath = path.join(dir, CREDENTIAL_SOCKET_NAME);
    await unlink(socketPath).catch(() => undefined);
    const server = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.setTimeout(ANSWER_TIMEOUT_MS + 5_000, () => socket.destroy());
      let buffered = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        buffered += chunk;
        if (buffered.length > MAX_REQUEST_BYTES) return socket.destroy();
        const newline = buffered.indexOf('\n');
        if (newline < 0) return;
        socket.removeAllListeners('data');
        const query = parseQuery(buffered.slice(0, newline));
        if (!query) return socket.end('{}\n');
        void this.request(query).then((answer) => socket.end(`${JSON.stringify(answer)}\n`));
      });
    });
    // The mode is set at bind time (umask), so there is no moment when others could connect.
    const umask = process.umask(0o177);
    try {
      await listenOn(server, socketPath);
    } finally {
      process.umask(umask);
    }
    // Again, for systems whose bind ignores the umask. Under gVisor a socket the host can see is
    // not ours to change or even stat (EPERM): the umask at bind is what holds there, and every
    // process of a workspace runs as its one user anyway.
    await chmod(socketPath, 0o600).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPERM') throw error;
    });
    return {
      socketPath,
      close: () =>
        new Promise<void>((resolve) => server.close(() => resolve())).then(() =>
          unlink(socketPath).catch(() => undefined),
        ),
    };
  }
}

function listenOn(server: Server, socketPath: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function parseQuery(line: string): CredentialQuery | null {
  try {
    const value = JSON.parse(line) as Record<string, unknown>;
    if (typeof value.protocol !== 'string' || typeof value.host !== 'string') return null;
    return {
      protocol: value.protocol.slice(0, 32),
      host: value.host.slice(0, 300),
      ...(typeof value.path === 'string' ? { path: value.path.slice(0, 4096) } : {}),
    };
  } catch {
    return null;
  }
}

/** Quote for POSIX sh: git runs a `!` helper through the shell. */
function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * Environment that makes every git started by the daemon use the helper, on top of (never
 * instead of) the user's own configuration: `GIT_CONFIG_COUNT` adds command-line-level config,
 * and a `credential.helper` added there is asked after the helpers the user configured.
 */
export function credentialHelperEnv(
  env: NodeJS.ProcessEnv,
  helper: { node: string; script: string; socketPath: string },
): Record<string, string> {
  const existing = Number(env.GIT_CONFIG_COUNT ?? 0);
  const index = Number.isSafeInteger(existing) && existing > 0 ? existing : 0;
  const command = [helper.node, helper.script, 'git-credential', helper.socketPath]
    .map(shellQuote)
    .join(' ');
  return {
    GIT_CONFIG_COUNT: String(index + 1),
    [`GIT_CONFIG_KEY_${index}`]: 'credential.helper',
    [`GIT_CONFIG_VALUE_${index}`]: `!${command}`,
  };
}

/**
 * The helper itself (`daemon.mjs git-credential <socket> <action>`), run by git. Only `get` is
 * answered; `store` and `erase` do nothing, since the server owns the credential. Every failure
 * is silent: git then tries its next helper or reports that it has no credential.
 */
export async function runCredentialHelper(
  args: string[],
  stdin: NodeJS.ReadableStream,
  stdout: NodeJS.WritableStream,
): Promise<void> {
  const [socketPath, action] = args;
  const input = await readAll(stdin);
  if (action !== 'get' || !socketPath) return;
  const query: Record<string, string> = {};
  for (const line of input.split('\n')) {
    const equals = line.indexOf('=');
    if (equals > 0) query[line.slice(0, equals)] = line.slice(equals + 1);
  }
  if (!query.protocol || !query.host) return;
  const answer = await ask(socketPath, {
    protocol: query.protocol,
    host: query.host,
    ...(query.path === undefined ? {} : { path: query.path }),
  }).catch(() => ({}) as CredentialAnswer);
  const { username, password } = answer;
  // The credential protocol is line-based: a newline or NUL in a value would inject attributes.
  const clean = (value: unknown): value is string =>
    typeof value === 'string' && value !== '' && !/[\n\0]/.test(value);
  if (!clean(password) || !clean(username)) return;
  stdout.write(`username=${username}\npassword=${password}\n`);
}

function ask(socketPath: string, query: CredentialQuery): Promise<CredentialAnswer> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketPath);
    let reply = '';
    socket.setEncoding('utf8');
    socket.setTimeout(ANSWER_TIMEOUT_MS + 5_000, () => socket.destroy(new Error('timeout')));
    socket.on('connect', () => socket.write(`${JSON.stringify(query)}\n`));
    socket.on('data', (chunk: string) => (reply += chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      try {
        resolve(JSON.parse(reply) as CredentialAnswer);
      } catch (error) {
        reject(error as Error);
      }
    });
  });
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) {
    text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    if (text.length > MAX_REQUEST_BYTES) break;
  }
  return text;
}
