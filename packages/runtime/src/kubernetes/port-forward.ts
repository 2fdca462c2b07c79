// A TCP connection to a pod's port through the API server, as `kubectl port-forward` makes one,
// over the WebSocket flavour of the port-forward protocol (`v4.channel.k8s.io`): every message
// starts with a channel byte, 0 for the port's data and 1 for its errors, and the first message
// on each channel carries the port number in two little-endian bytes.
import { randomBytes } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import WebSocket from 'ws';

const DATA = 0;
const ERROR = 1;
// Past this much unsent data toward the API server, stop reading the local side.
const HIGH_WATER = 1024 * 1024;

/** Where a pod is, and which of its ports. */
export interface ForwardTarget {
  namespace: string;
  pod: string;
  port: number;
}

/**
 * Listen on a Unix socket in `dir` (a folder only this process's user can enter: no other local
 * user can take the connection) for one connection and forward it to the pod's port; resolves
 * with the socket's path. The listener closes after the first connection (or after
 * `acceptWithinMs`), so each call carries exactly one connection, as one daemon WebSocket needs.
 */
export async function forwardOnce(
  kubeConfig: KubeConfig,
  target: ForwardTarget,
  dir: string,
  acceptWithinMs = 10_000,
): Promise<string> {
  const path = join(dir, `${randomBytes(8).toString('hex')}.sock`);
  const server = createServer((socket) => {
    server.close();
    clearTimeout(unused);
    pipeToPod(kubeConfig, target, socket).catch(() => socket.destroy());
  });
  const unused = setTimeout(() => server.close(), acceptWithinMs);
  unused.unref();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, resolve);
  });
  return path;
}

async function pipeToPod(kubeConfig: KubeConfig, target: ForwardTarget, socket: Socket) {
  socket.setNoDelay?.(true);
  socket.pause();
  let upstream: WebSocket | null = null;
  socket.on('error', () => upstream?.terminate());
  socket.on('close', () => upstream?.terminate());
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig names no cluster');
  const path =
    `/api/v1/namespaces/${encodeURIComponent(target.namespace)}/pods/` +
    `${encodeURIComponent(target.pod)}/portforward?ports=${target.port}`;
  const options: { headers?: Record<string, string> } & Record<string, unknown> = {};
  await kubeConfig.applyToHTTPSOptions(options);
  // The daemon client may have given up while credentials were fetched.
  if (socket.destroyed) return;
  const url = cluster.server.replace(/^http/, 'ws') + path;
  upstream = new WebSocket(url, ['v4.channel.k8s.io'], { ...options, perMessageDeflate: false });
  const ws = upstream;
  const seenPort = [false, false];

  ws.on('open', () => socket.resume());
  ws.on('message', (data: Buffer) => {
    if (data.length === 0) return;
    const channel = data[0]!;
    let payload = data.subarray(1);
    if (channel > ERROR) return;
    if (!seenPort[channel]) {
      // The port number, once per channel.
      seenPort[channel] = true;
      payload = payload.subarray(2);
    }
    if (payload.length === 0) return;
    if (channel === ERROR) {
      // "error forwarding port 7070 to pod …: connection refused": the local side sees a reset,
      // which callers treat as "not listening yet".
      socket.destroy();
      ws.terminate();
      return;
    }
    if (!socket.write(payload)) {
      ws.pause();
      socket.once('drain', () => ws.resume());
    }
  });
  ws.on('close', () => socket.end());
  ws.on('error', () => socket.destroy());

  socket.on('data', (chunk: Buffer) => {
    ws.send(Buffer.concat([Buffer.of(DATA), chunk]));
    if (ws.bufferedAmount > HIGH_WATER) {
      socket.pause();
      const wait = () => {
        if (ws.readyState !== WebSocket.OPEN || socket.destroyed) return;
        if (ws.bufferedAmount > HIGH_WATER) setTimeout(wait, 5);
        else socket.resume();
      };
      setTimeout(wait, 5);
    }
  });
  socket.on('end', () => ws.close());
}
