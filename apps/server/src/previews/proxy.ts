import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import type { Duplex, Readable } from 'node:stream';
import { DaemonError, type DaemonStream } from '@studio/runtime';
import { AppError } from '../errors.ts';
import { TunnelSocket } from './tunnel-socket.ts';

/** Which app a preview request is for. */
export interface PreviewTarget {
  workspace: string;
  port: number;
}

/**
 * The app behind a preview could not be reached or did not answer: a gateway failure (502), not
 * the platform being unavailable. The code stays `unavailable` until the protocol has a 502 code.
 */
export class PreviewUnreachable extends AppError {
  constructor(message: string, target: PreviewTarget, reason?: string) {
    super('unavailable', message, reason ? { port: target.port, reason } : { port: target.port });
    this.name = 'PreviewUnreachable';
  }
}

/** What to send to the app: the request line and headers as the app should see them. */
export interface UpstreamRequest {
  method: string;
  /** Path and query inside the app (the preview prefix removed). */
  path: string;
  headers: OutgoingHttpHeaders;
}

/**
 * Send one HTTP request through a tunnel (HTTP/1.1, one request per tunnel) and resolve with the
 * app's response head; its body streams from the tunnel as the caller reads it. `abort` tears the
 * exchange down (the browser went away).
 */
export function forwardRequest(
  tunnel: DaemonStream,
  upstream: UpstreamRequest,
  body: Readable | null,
): { response: Promise<IncomingMessage>; abort: () => void } {
  const socket = new TunnelSocket(tunnel);
  const outgoing = httpRequest({
    method: upstream.method,
    path: upstream.path,
    headers: upstream.headers,
    setHost: false,
    // No agent: the tunnel is this request's own connection, closed when the response ends.
    createConnection: () => socket,
  });
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    outgoing.once('response', resolve);
    outgoing.once('error', reject);
  });
  if (body) {
    body.pipe(outgoing);
    // A browser that stops sending half-way: the app must not take half a body for the whole.
    body.once('error', (error) => outgoing.destroy(error));
  } else {
    outgoing.end();
  }
  return {
    response,
    abort: () => {
      outgoing.destroy();
      socket.destroy();
    },
  };
}

/**
 * Hand an upgrade request (WebSocket) to the app and join the browser's connection to the tunnel
 * byte for byte: the app answers the handshake itself, so subprotocols and extensions are its own.
 * Resolves when either side closed.
 */
export function forwardUpgrade(
  tunnel: DaemonStream,
  upstream: UpstreamRequest,
  client: Duplex,
  head: Buffer,
  refusal: (error: Error) => string,
): Promise<void> {
  const socket = new TunnelSocket(tunnel);
  const lines = [`${upstream.method} ${upstream.path} HTTP/1.1`];
  for (const [name, value] of Object.entries(upstream.headers)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${item}`);
  }
  socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  if (head.byteLength > 0) socket.write(head);
  let answered = false;
  socket.once('data', () => (answered = true));
  client.pipe(socket);
  socket.pipe(client);
  return new Promise((resolve) => {
    let refused = false;
    socket.once('error', (error) => {
      // The app never answered (nothing listening): the browser gets an HTTP error, not a reset.
      if (answered || client.destroyed) return;
      refused = true;
      socket.unpipe(client);
      client.end(refusal(error), () => client.destroy());
    });
    const close = () => {
      if (!refused) client.destroy();
      socket.destroy();
      resolve();
    };
    client.once('close', close);
    socket.once('close', close);
    // Either side failing closes both; the close events do the rest.
    client.on('error', () => undefined);
    socket.on('error', () => undefined);
  });
}

/**
 * What the browser is told when the app could not be reached: the tunnel failing while the
 * daemon connection is fine means the daemon could not connect to the port.
 */
export function unreachable(error: unknown, target: PreviewTarget, daemonLost: boolean): Error {
  const where = `port ${target.port} in workspace ${target.workspace}`;
  if (error instanceof DaemonError && error.code === 'unavailable') {
    return daemonLost
      ? new PreviewUnreachable(`Lost the connection to workspace ${target.workspace}.`, target)
      : new PreviewUnreachable(`Nothing is listening on ${where}.`, target, error.message);
  }
  if (error instanceof DaemonError) return error;
  return new PreviewUnreachable(
    `The app on ${where} closed the connection without answering.`,
    target,
  );
}
