// What two replicas of the server must do together, whatever runs them (two processes here, two
// pods on a cluster): a workspace created through one runs, takes terminal input and changes
// status as seen through the other.
import { setTimeout as sleep } from 'node:timers/promises';
import { serverEventSchema, type ServerEvent } from '@studio/protocol';
import { expect } from 'vitest';
import WebSocket from 'ws';

/** One replica: where to reach it, and the public origin browsers send (STUDIO_PUBLIC_URL). */
export interface Replica {
  url: string;
  origin: string;
}

/** The fields of API answers this flow reads. */
interface Body {
  id: string;
  status: string;
  statusReason: string | null;
}

export async function until(check: () => boolean, what: string, timeoutMs = 10_000) {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(25)) {
    if (check()) return;
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Signs in through `replica`; returns the session cookie. */
export async function signIn(
  replica: Replica,
  admin: { email: string; password: string },
): Promise<string> {
  const response = await fetch(`${replica.url}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: replica.origin },
    body: JSON.stringify(admin),
  });
  expect(response.status).toBe(200);
  return response.headers
    .getSetCookie()
    .map((header) => header.split(';', 1)[0])
    .join('; ');
}

/** Same-origin requests to `replica` with the session `cookie`, as the signed-in browser makes. */
export function client(replica: Replica, cookie: string) {
  return async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${replica.url}${path}`, {
      method,
      headers: {
        cookie,
        origin: replica.origin,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : null) as Body };
  };
}

/** Deletes workspace `name` through `call`, if it is there, and waits until it is gone. */
export async function removeWorkspace(call: ReturnType<typeof client>, name: string) {
  if ((await call('DELETE', `/api/workspaces/${name}`)).status !== 202) return;
  for (let i = 0; i < 600 && (await call('GET', `/api/workspaces/${name}`)).status !== 404; i++) {
    await sleep(50);
  }
}

/**
 * Create workspace `name` through `one`; see it run, type in its terminal and stop through
 * `two`; delete it through `one`. Sockets opened here are closed before it returns.
 */
export async function replicaFlow(
  one: Replica,
  two: Replica,
  admin: { email: string; password: string },
  name: string,
): Promise<void> {
  const sockets: WebSocket[] = [];
  const connect = (path: string, headers: Record<string, string>) => {
    const socket = new WebSocket(`${two.url.replace('http', 'ws')}${path}`, { headers });
    sockets.push(socket);
    return new Promise<WebSocket>((resolve, reject) => {
      socket.once('open', () => resolve(socket));
      socket.once('error', reject);
    });
  };
  const callOne = client(one, await signIn(one, admin));
  const cookieTwo = await signIn(two, admin);
  const callTwo = client(two, cookieTwo);
  const waitForStatus = async (status: string) => {
    for (let i = 0; i < 1200; i++) {
      const { body } = await callTwo('GET', `/api/workspaces/${name}`);
      if (body?.status === status) return;
      if (body?.status === 'error') throw new Error(`workspace error: ${body.statusReason}`);
      await sleep(50);
    }
    throw new Error(`never ${status}`);
  };

  try {
    const events: ServerEvent[] = [];
    const eventsOnTwo = await connect('/api/events', { cookie: cookieTwo, origin: two.origin });
    eventsOnTwo.on('message', (data: Buffer) => {
      const parsed = serverEventSchema.safeParse(JSON.parse(data.toString()));
      if (parsed.success) events.push(parsed.data);
    });
    const statusesOnTwo = () =>
      events.flatMap((event) =>
        event.type === 'workspace' && event.workspace.name === name ? [event.workspace.status] : [],
      );

    expect((await callOne('POST', '/api/workspaces', { name })).status).toBe(201);
    await waitForStatus('running');
    await expect.poll(statusesOnTwo).toContain('running');
    // Only the first server's events over LISTEN/NOTIFY say `creating` and `starting`.
    expect(statusesOnTwo()).toEqual(expect.arrayContaining(['creating', 'starting']));

    const terminal = await callTwo('POST', `/api/workspaces/${name}/terminals`, {});
    expect(terminal.status).toBe(201);
    const attachPath = `/api/workspaces/${name}/terminals/${terminal.body.id}/attach`;
    const shell = await connect(attachPath, { cookie: cookieTwo, origin: two.origin });
    let output = '';
    shell.on('message', (data: Buffer, binary: boolean) => {
      if (binary) output += data.toString('utf8');
    });
    shell.send(Buffer.from('echo replica-$((6*7))\r'));
    // The echoed input says `$((6*7))`: only the shell's answer says 42.
    await until(() => output.includes('replica-42'), 'replica-42').catch((error: Error) => {
      throw new Error(`${error.message}; the terminal printed:\n${output.slice(-500)}`);
    });
    // A page on another site cannot ride on the cookie into the second server's sockets.
    await expect(
      connect(attachPath, { cookie: cookieTwo, origin: 'https://evil.example' }),
    ).rejects.toThrow('Unexpected server response: 403');

    expect((await callOne('POST', `/api/workspaces/${name}/stop`)).status).toBe(202);
    await expect.poll(statusesOnTwo, { timeout: 30_000 }).toContain('stopped');
    expect(statusesOnTwo()).toContain('stopping');
    await waitForStatus('stopped');

    expect((await callOne('DELETE', `/api/workspaces/${name}`)).status).toBe(202);
    await expect
      .poll(() => events.some((event) => event.type === 'workspace.deleted'), { timeout: 60_000 })
      .toBe(true);
    expect((await callTwo('GET', `/api/workspaces/${name}`)).status).toBe(404);
  } finally {
    for (const socket of sockets) socket.terminate();
  }
}
