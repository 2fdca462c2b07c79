import { readFile, readdir, readlink } from 'node:fs/promises';
import net from 'node:net';
import type { ListeningPort } from '@studio/protocol';
import type { OutStream } from './streams.ts';

const TCP_LISTEN = '0A';

interface ListenSocket {
  port: number;
  address: string;
  inode: string;
}

/** Parse `/proc/net/tcp` or `/proc/net/tcp6` into its listening sockets. */
export function parseProcNetTcp(text: string, ipv6: boolean): ListenSocket[] {
  const sockets: ListenSocket[] = [];
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10 || fields[3] !== TCP_LISTEN) continue;
    const [addressHex, portHex] = fields[1]!.split(':');
    if (!addressHex || !portHex) continue;
    sockets.push({
      port: parseInt(portHex, 16),
      address: ipv6 ? decodeIpv6(addressHex) : decodeIpv4(addressHex),
      inode: fields[9]!,
    });
  }
  return sockets;
}

// The kernel prints the address as host-endian 32-bit words; x86 and arm64 are little-endian.
function decodeIpv4(hex: string): string {
  const bytes = Buffer.from(hex, 'hex').reverse();
  return [...bytes].join('.');
}

function decodeIpv6(hex: string): string {
  const bytes = Buffer.alloc(16);
  for (let word = 0; word < 4; word++) {
    Buffer.from(hex.slice(word * 8, word * 8 + 8), 'hex')
      .reverse()
      .copy(bytes, word * 4);
  }
  if (bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return [...bytes.subarray(12)].join('.');
  }
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  return compressIpv6(groups);
}

function compressIpv6(groups: string[]): string {
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < groups.length;) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === '0') j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (bestLength < 2) return groups.join(':');
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLength).join(':')}`;
}

/** Listening TCP ports with the process that owns each, where this user can see it. */
export async function listPorts(
  procRoot = '/proc',
  /** The daemon's own pid: its TCP listener is not a preview. */
  ownPid = process.pid,
): Promise<ListeningPort[]> {
  const sockets: ListenSocket[] = [];
  for (const [file, ipv6] of [
    ['net/tcp', false],
    ['net/tcp6', true],
  ] as const) {
    const text = await readFile(`${procRoot}/${file}`, 'utf8').catch(() => '');
    sockets.push(...parseProcNetTcp(text, ipv6));
  }
  const owners = sockets.length > 0 ? await socketOwners(procRoot) : new Map();
  const seen = new Set<string>();
  const ports: ListeningPort[] = [];
  for (const socket of sockets) {
    const key = `${socket.address}|${socket.port}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const owner = owners.get(socket.inode) ?? null;
    if (owner?.pid === ownPid) continue;
    ports.push({
      port: socket.port,
      address: socket.address,
      pid: owner?.pid ?? null,
      process: owner?.name ?? null,
    });
  }
  ports.sort((a, b) => a.port - b.port || a.address.localeCompare(b.address));
  return ports;
}

// inode → owning process, by reading every visible /proc/<pid>/fd symlink ("socket:[inode]").
async function socketOwners(procRoot: string): Promise<Map<string, { pid: number; name: string }>> {
  const owners = new Map<string, { pid: number; name: string }>();
  const pids = (await readdir(procRoot).catch(() => [])).filter((name) => /^\d+$/.test(name));
  await Promise.all(
    pids.map(async (pid) => {
      const fds = await readdir(`${procRoot}/${pid}/fd`).catch(() => [] as string[]);
      let name: string | null = null;
      for (const fd of fds) {
        const link = await readlink(`${procRoot}/${pid}/fd/${fd}`).catch(() => '');
        const match = /^socket:\[(\d+)\]$/.exec(link);
        if (!match) continue;
        name ??= await processName(procRoot, pid);
        // Forked servers share the socket; the lowest pid is usually the parent.
        const existing = owners.get(match[1]!);
        if (!existing || existing.pid > Number(pid)) {
          owners.set(match[1]!, { pid: Number(pid), name });
        }
      }
    }),
  );
  return owners;
}

// comm is what `ps` shows, but Node renames its main thread to "MainThread"; argv[0] says "node".
async function processName(procRoot: string, pid: string): Promise<string> {
  const comm = (await readFile(`${procRoot}/${pid}/comm`, 'utf8').catch(() => '')).trim();
  if (comm && comm !== 'MainThread') return comm;
  const cmdline = await readFile(`${procRoot}/${pid}/cmdline`, 'utf8').catch(() => '');
  const argv0 = cmdline.split('\0')[0] ?? '';
  return argv0 ? (argv0.split('/').pop() ?? argv0) : comm;
}

/**
 * Connect `stream` to a TCP port on the workspace's loopback (IPv4, then IPv6): bytes both ways on
 * channel 0. A port nobody listens on ends the stream with `unavailable`.
 */
export function startTunnel(port: number, stream: OutStream): void {
  let socket: net.Socket | null = null;
  let cancelled = false;
  const pendingInput: Buffer[] = [];
  let clientEnded = false;

  const attach = (connected: net.Socket) => {
    socket = connected;
    connected.on('data', (chunk: Buffer) => {
      if (!stream.write(chunk)) connected.pause();
    });
    connected.on('close', () => stream.end());
    connected.on('error', () => undefined);
    for (const chunk of pendingInput.splice(0)) connected.write(chunk);
    if (clientEnded) connected.end();
  };
  const connect = (hosts: string[]) => {
    const host = hosts[0]!;
    const candidate = net.connect({ host, port });
    candidate.once('connect', () => {
      if (cancelled) return candidate.destroy();
      candidate.removeAllListeners('error');
      attach(candidate);
    });
    candidate.once('error', (error: NodeJS.ErrnoException) => {
      if (cancelled) return;
      if (hosts.length > 1) return connect(hosts.slice(1));
      stream.end({
        code: 'unavailable',
        message:
          error.code === 'ECONNREFUSED'
            ? `Nothing is listening on port ${port} in the workspace`
            : `Cannot connect to port ${port} in the workspace (${error.code ?? 'error'})`,
      });
    });
  };
  connect(['127.0.0.1', '::1']);

  stream.handlers = {
    onInput: (payload) => {
      const chunk = Buffer.from(payload);
      if (!socket) {
        pendingInput.push(chunk);
        return;
      }
      if (!socket.write(chunk)) stream.holdInputUntilDrain(socket);
    },
    onClientEnd: () => {
      clientEnded = true;
      socket?.end();
    },
    onCancel: () => {
      cancelled = true;
      socket?.destroy();
    },
    onBlocked: (blocked) => {
      if (!socket) return;
      if (blocked) socket.pause();
      else socket.resume();
    },
  };
}
