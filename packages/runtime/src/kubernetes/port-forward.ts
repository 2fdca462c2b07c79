// A TCP connection to a pod's port through the API server, as `kubectl port-forward` makes one,
// over the WebSocket flavour of the port-forward protocol (`v4.channel.k8s.io`): every message
// starts with a channel byte, 0 for the port's data and 1 for its errors, and the first message
// on each channel carries the port number in two little-endian bytes.
import { createServer, type AddressInfo, type Socket } from 'node:net';
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
 * Listen on 127.0.0.1 for one connection and forward it to the pod's port; resolves with the
 * local port. The listener closes after the first connection (or after `acceptWithinMs`), so each
 * call carries exactly one connection, as one daemon WebSocket needs.
 */
export async function forwardOnce(
  kubeConfig: KubeConfig,
  target: ForwardTarget,
  acceptWithinMs = 10_000,
): Promise<number> {
  const server = createServer((socket) => {
    server.close();
    clearTimeout(unused);
    void pipeToPod(kubeConfig, target, socket);
  });
  const unused = setTimeout(() => server.close(), acceptWithinMs);
  unused.unref();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return (server.address() as AddressInfo).port;
}

async function pipeToPod(kubeConfig: KubeConfig, target: ForwardTarget, socket: Socket) {
  socket.setNoDelay(true);
  socket.pause();
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) {
    socket.destroy();
    return;
  }
  const path =
    `/api/v1/namespaces/${encodeURIComponent(target.namespace)}/pods/` +
    `${encodeURIComponent(target.pod)}/portforward?ports=${target.port}`;
  const options: { headers?: Record<string, string> } & Record<string, unknown> = {};
  await kubeConfig.applyToHTTPSOptions(options);
  const url = cluster.server.replace(/^http/, 'ws') + path;
  const upstream = new WebSocket(url, ['v4.channel.k8s.io'], {
    ...options,
    perMessageDeflate: false,
  });
  const seenPort = [false, false];

  upstream.on('open', () => socket.resume());
  upstream.on('message', (data: Buffer) => {
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
      upstream.terminate();
      return;
    }
    if (!socket.write(payload)) {
      upstream.pause();
      socket.once('drain', () => upstream.resume());
    }
  });
  upstream.on('close', () => socket.end());
  upstream.on('error', () => socket.destroy());

  socket.on('data', (chunk: Buffer) => {
    upstream.send(Buffer.concat([Buffer.of(DATA), chunk]));
    if (upstream.bufferedAmount > HIGH_WATER) {
      socket.pause();
      const wait = () =>
        upstream.bufferedAmount > HIGH_WATER ? setTimeout(wait, 5) : socket.resume();
      setTimeout(wait, 5);
    }
  });
  socket.on('end', () => upstream.close());
  socket.on('close', () => upstream.terminate());
  socket.on('error', () => upstream.terminate());
}
