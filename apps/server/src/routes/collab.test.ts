// Shared documents through the server, with y-websocket's own client: the role decides who
// writes, the server decides who each peer is, and a save writes what everyone sees.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import {
  closeOf,
  injectAs,
  socketAs,
  signedInUser,
  startTestServer,
  waitForWorkspace,
  wsUrl,
  type TestServer,
} from '../testing.ts';

let server: TestServer;
let alice: { id: string; cookie: string };
let bob: { id: string; cookie: string };
let carol: { id: string; cookie: string };
let id: string;
const providers: WebsocketProvider[] = [];

beforeAll(async () => {
  server = await startTestServer();
  alice = await signedInUser(server, { email: 'alice@example.com' });
  bob = await signedInUser(server, { email: 'bob@example.com' });
  carol = await signedInUser(server, { email: 'carol@example.com' });
  await injectAs(server, alice, 'POST', '/api/workspaces', { name: 'pair' });
  id = (await waitForWorkspace(server, alice, 'pair', 'running')).id;
  await injectAs(server, alice, 'PUT', '/api/workspaces/pair/members/bob@example.com', {
    role: 'viewer',
  });
  await injectAs(server, alice, 'PUT', '/api/workspaces/pair/files/content', {
    path: 'notes.md',
    content: 'shared\n',
  });
}, 60_000);

afterAll(async () => {
  for (const provider of providers) provider.destroy();
  await server?.close();
});

/** A person's editor on a file: y-websocket's provider over the route, with their cookie. */
function editor(who: { cookie: string }, path: string) {
  const origin = server.origin;
  class SignedIn extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { headers: { cookie: who.cookie, origin } });
    }
  }
  const doc = new Y.Doc();
  const provider = new WebsocketProvider(wsUrl(server, `/api/workspaces/${id}`), 'collab', doc, {
    params: { path },
    // Not through the BroadcastChannel two providers in one process would share: the server only.
    disableBc: true,
    WebSocketPolyfill: SignedIn as unknown as typeof globalThis.WebSocket,
  });
  providers.push(provider);
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    provider.on('closed', resolve),
  );
  const synced = new Promise<void>((resolve) =>
    provider.on('sync', (isSynced: boolean) => isSynced && resolve()),
  );
  return { doc, text: doc.getText('content'), provider, synced, closed };
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('shared documents', () => {
  it('a viewer sees edits live, but their own go nowhere and they show as themselves', async () => {
    const owner = editor(alice, 'notes.md');
    const viewer = editor(bob, 'notes.md');
    await Promise.all([owner.synced, viewer.synced]);
    expect(viewer.text.toString()).toBe('shared\n');

    owner.text.insert(0, 'from alice: ');
    await until(() => viewer.text.toString() === 'from alice: shared\n', "Alice's edit at Bob's");
    viewer.text.insert(0, 'vandal ');
    // Bob claims to be Alice; the others see bob (his name here).
    viewer.provider.awareness.setLocalStateField('user', { name: 'Alice', key: alice.id });
    const others = (peer: typeof owner) =>
      [...peer.provider.awareness.getStates().entries()]
        .filter(([client, state]) => client !== peer.doc.clientID && state.user)
        .map(([, state]) => (state.user as { name?: string } | undefined)?.name);
    await until(() => others(owner).length === 1 && others(viewer).length === 1, 'both in it');
    await until(() => others(owner)[0] === 'bob', "Bob's claim replaced");
    expect(others(viewer)).toEqual(['alice']);
    expect(owner.text.toString()).toBe('from alice: shared\n');

    // Saving is writing: the viewer may not; the owner's save writes what everyone sees.
    const refused = await injectAs(server, bob, 'POST', `/api/workspaces/${id}/collab/save`, {
      path: 'notes.md',
    });
    expect(refused.statusCode).toBe(403);
    const saved = await injectAs(server, alice, 'POST', `/api/workspaces/${id}/collab/save`, {
      path: 'notes.md',
    });
    expect(saved.statusCode).toBe(200);
    const disk = await injectAs(
      server,
      alice,
      'GET',
      `/api/workspaces/${id}/files/content?path=notes.md`,
    );
    expect(disk.json()).toMatchObject({
      content: 'from alice: shared\n',
      version: saved.json().version,
    });
  });

  it('is nobody else’s: someone without a role is refused like a workspace that does not exist', async () => {
    const stranger = editor(carol, 'notes.md');
    expect((await stranger.closed).code).toBe(4404);
  });

  it('refuses a path out of the home, and a binary file, naming it', async () => {
    await injectAs(server, alice, 'PUT', `/api/workspaces/${id}/files/content`, {
      path: 'logo.bin',
      content: Buffer.from([0, 1, 2, 255]).toString('base64'),
      encoding: 'base64',
    });
    const binary = editor(alice, 'logo.bin');
    expect(await binary.closed).toMatchObject({
      code: 4400,
      reason: expect.stringMatching(/logo\.bin" is not a text file/),
    });
    // Neither is tried again: 4400 ends y-websocket's reconnecting.
    const outside = socketAs(server, alice, `/api/workspaces/${id}/collab?path=../../etc/passwd`);
    expect(await closeOf(outside)).toEqual({
      code: 4400,
      reason: 'The path "../../etc/passwd" leads outside the workspace',
    });
  });
});
