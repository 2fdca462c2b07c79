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

/** The most an app's answer to an upgrade may send before its header block ends. */
const MAX_UPGRADE_HEAD = 64 * 1024;

/**
 * Hand an upgrade request (WebSocket) to the app and, once the app agrees (`101`), join the
 * browser's connection to the tunnel byte for byte: the app answers the handshake itself, so
 * subprotocols and extensions are its own. An app that answers anything else has its answer
 * passed on and the browser's connection closed: the next request on it (with the platform's
 * cookie) must never reach the app (THREATS 29). Resolves when either side closed.
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
  // Nothing more of the browser's reaches the app until the app has agreed to the upgrade.
  client.pause();
  return new Promise((resolve) => {
    let answer = Buffer.alloc(0);
    let settled = false;
    let refuseTimer: NodeJS.Timeout | undefined;
    const close = () => {
      client.destroy();
      socket.destroy();
      resolve();
    };
    const finish = (text: string | Buffer) => {
      if (settled) return;
      clearTimeout(refuseTimer);
      settled = true;
      socket.off('data', onData);
      client.end(text, () => close());
    };
    const onData = (chunk: Buffer) => {
      answer = Buffer.concat([answer, chunk]);
      const end = answer.indexOf('\r\n\r\n');
      if (end < 0) {
        if (answer.byteLength > MAX_UPGRADE_HEAD) finish(refusal(new Error('oversized answer')));
        return;
      }
      const headText = answer.subarray(0, end).toString('latin1');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(headText)?.[1]);
      if (status !== 101) {
        // Its answer goes to the browser (the body as far as its length says, within bounds),
        // then the connection ends.
        const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(headText)?.[1] ?? 0);
        const complete = answer.byteLength - end - 4 >= Math.min(length, MAX_UPGRADE_HEAD);
        if (complete) finish(refusedAnswer(answer, end));
        else refuseTimer ??= setTimeout(() => finish(refusedAnswer(answer, end)), 1000);
        return;
      }
      settled = true;
      socket.off('data', onData);
      client.write(answer);
      client.pipe(socket);
      socket.pipe(client);
      client.resume();
    };
    socket.on('data', onData);
    socket.once('error', (error) => {
      // The app never answered (nothing listening): the browser gets an HTTP error, not a reset.
      if (settled || client.destroyed) return;
      finish(refusal(error));
    });
    client.once('close', close);
    socket.once('close', () => {
      if (!settled && answer.byteLength > 0)
        finish(refusedAnswer(answer, answer.indexOf('\r\n\r\n')));
      else if (!settled) finish(refusal(new Error('closed without answering')));
      else close();
    });
    // Either side failing closes both; the close events do the rest.
    client.on('error', () => undefined);
    socket.on('error', () => undefined);
  });
}

/** An app's non-101 answer to an upgrade, told to close the connection after it. */
function refusedAnswer(answer: Buffer, headEnd: number): Buffer {
  if (headEnd < 0) return answer;
  const head = answer
    .subarray(0, headEnd)
    .toString('latin1')
    .split('\r\n')
    .filter((line) => !/^(connection|keep-alive)\s*:/i.test(line));
  return Buffer.concat([
    Buffer.from(`${[...head, 'connection: close'].join('\r\n')}\r\n\r\n`, 'latin1'),
    answer.subarray(headEnd + 4),
  ]);
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
