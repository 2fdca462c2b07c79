import type Dockerode from 'dockerode';
import { RuntimeError } from '../runtime.ts';

/** The shape of errors docker-modem rejects with: an HTTP status, or a socket error code. */
interface EngineErrorLike {
  statusCode?: number;
  code?: string;
  json?: { message?: string } | string | null;
  message?: string;
}

/** Socket-level failures that mean "no engine answers there", as opposed to an API error. */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOENT',
  'EACCES',
  'EPERM',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** HTTP status of an Engine API error, if it was one. */
export function engineStatus(error: unknown): number | undefined {
  return (error as EngineErrorLike | null)?.statusCode;
}

/** The engine's own message for an API error (without docker-modem's "(HTTP code …)" prefix). */
export function engineMessage(error: unknown): string {
  const like = error as EngineErrorLike | null;
  if (like?.json && typeof like.json === 'object' && like.json.message) return like.json.message;
  if (typeof like?.json === 'string' && like.json) return like.json;
  return like?.message ?? String(error);
}

/** True when the error says nothing answers at the engine's address. */
export function isEngineUnreachable(error: unknown): boolean {
  const code = (error as EngineErrorLike | null)?.code;
  return typeof code === 'string' && UNREACHABLE.has(code);
}

/** Where dockerode talks to, for messages. */
export function engineAddress(docker: Dockerode): string {
  const modem = docker.modem as {
    socketPath?: string | (() => unknown);
    host?: string;
    port?: number | string;
  };
  // docker-modem's default is a function that looks for the socket at request time.
  if (typeof modem.socketPath === 'function') return 'the default socket (/var/run/docker.sock)';
  if (modem.socketPath) return `unix://${modem.socketPath}`;
  return `tcp://${modem.host ?? 'localhost'}:${modem.port ?? ''}`;
}

/** A RuntimeError for an engine that does not answer. */
export function engineUnavailable(docker: Dockerode, error: unknown): RuntimeError {
  const code = (error as EngineErrorLike | null)?.code;
  return new RuntimeError(
    'engine_unavailable',
    `The container engine at ${engineAddress(docker)} does not answer (${code ?? engineMessage(error)}); ` +
      'start Docker (or Podman with its API socket) and check DOCKER_HOST.',
  );
}

/**
 * Map an unexpected engine failure to a RuntimeError: unreachable → `engine_unavailable`, anything
 * else → `internal` with the engine's message. Already-typed errors pass through.
 */
export function toRuntimeError(docker: Dockerode, error: unknown, doing: string): RuntimeError {
  if (error instanceof RuntimeError) return error;
  if (isEngineUnreachable(error)) return engineUnavailable(docker, error);
  return new RuntimeError('internal', `${doing} failed: ${engineMessage(error)}`, {
    status: engineStatus(error),
  });
}

/** One JSON progress message from pull, import or build. */
export interface EngineProgress {
  stream?: string;
  status?: string;
  progress?: string;
  id?: string;
  aux?: { ID?: string };
  error?: string;
  errorDetail?: { message?: string };
}

/**
 * Follow a pull/import/build stream to its end. Resolves with every message; rejects with the
 * engine's error text when a message carries `error` (the HTTP status is 200 even then).
 */
export function followProgress(
  docker: Dockerode,
  stream: NodeJS.ReadableStream,
  onMessage: (message: EngineProgress) => void,
): Promise<EngineProgress[]> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (error: Error | null, output: EngineProgress[]) => {
        if (error) {
          reject(error);
          return;
        }
        const failed = output.find((message) => message.error || message.errorDetail);
        if (failed) reject(new Error(failed.errorDetail?.message ?? failed.error));
        else resolve(output);
      },
      onMessage,
    );
  });
}

/** A client for the engine at `host` (`unix:///path`, `tcp://host:port`), or Docker's default. */
export async function openEngine(host: string | undefined): Promise<Dockerode> {
  const { default: Docker } = await import('dockerode');
  if (!host) return new Docker();
  const url = new URL(host);
  if (url.protocol === 'unix:') return new Docker({ socketPath: url.pathname });
  return new Docker({ host: url.hostname, port: Number(url.port) || 2375 });
}

/** The engine `docker` talks to, as DOCKER_HOST would say it; null for the CLI's default. */
export function engineHostOf(docker: Dockerode): string | null {
  const modem = docker.modem as { socketPath?: unknown; host?: unknown; port?: unknown };
  if (typeof modem.socketPath === 'string') return `unix://${modem.socketPath}`;
  if (typeof modem.host === 'string') return `tcp://${modem.host}:${Number(modem.port) || 2375}`;
  return null;
}

/** Whether an engine answers within `timeoutMs`. */
export async function engineAnswers(docker: Dockerode, timeoutMs = 2000): Promise<boolean> {
  const timeout = new Promise<false>((resolve) =>
    setTimeout(() => resolve(false), timeoutMs).unref(),
  );
  return Promise.race([
    docker.ping().then(
      () => true,
      () => false,
    ),
    timeout,
  ]);
}
