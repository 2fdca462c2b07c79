// A workspace shared with another person: what each role may do through the API and its
// sockets, and that taking the role away closes their sockets at once.
import { once } from 'node:events';
import { createTestDatabase } from '@studio/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closeOf,
  injectAs,
  signIn,
  signedInUser,
  socketAs,
  startTestServer,
  waitForWorkspace,
  type TestServer,
} from '../testing.ts';

let server: TestServer;
let alice: { id: string; cookie: string };
let bob: { id: string; cookie: string };
let id: string;

const share = (role: string) =>
  injectAs(server, alice, 'PUT', '/api/workspaces/team/members/bob@example.com', { role });
const write = (who: { cookie: string }, content: string) =>
  injectAs(server, who, 'PUT', `/api/workspaces/${id}/files/content`, {
    path: 'notes.md',
    content,
  });

beforeAll(async () => {
  server = await startTestServer();
  alice = await signedInUser(server, { email: 'alice@example.com' });
  bob = await signedInUser(server, { email: 'bob@example.com' });
  await signedInUser(server, { email: 'carol@example.com' });
  await injectAs(server, alice, 'POST', '/api/workspaces', { name: 'team' });
  id = (await waitForWorkspace(server, alice, 'team', 'running')).id;
}, 60_000);

afterAll(async () => {
  await server?.close();
});

describe('workspace members', () => {
  it('is nobody else’s until shared: 404 by id or name, and no listing', async () => {
    expect((await injectAs(server, bob, 'GET', `/api/workspaces/${id}`)).statusCode).toBe(404);
    expect((await injectAs(server, bob, 'GET', '/api/workspaces/team')).statusCode).toBe(404);
    expect((await injectAs(server, bob, 'GET', '/api/workspaces')).json()).toEqual([]);
    // Only people who can sign in here can be added; the owner is not a member.
    const stranger = await injectAs(
      server,
      alice,
      'PUT',
      '/api/workspaces/team/members/nobody@example.com',
      { role: 'viewer' },
    );
    expect([stranger.statusCode, stranger.json().message]).toEqual([
      404,
      expect.stringMatching(/Nobody here signs in as nobody@example\.com/),
    ]);
    const owner = await injectAs(
      server,
      alice,
      'PUT',
      '/api/workspaces/team/members/alice@example.com',
      { role: 'viewer' },
    );
    expect(owner.statusCode).toBe(400);
  });

  it('tells a person live when a workspace is shared with them, how it goes, and when it is not any more', async () => {
    const events = socketAs(server, bob, '/api/events');
    const seen: Array<{ type: string; workspace?: { role: string; status: string } }> = [];
    events.on('message', (data) => seen.push(JSON.parse(data.toString())));
    await once(events, 'open');
    const until = async (match: (event: (typeof seen)[number]) => boolean) => {
      for (let i = 0; i < 100 && !seen.some(match); i++)
        await new Promise((resolve) => setTimeout(resolve, 50));
      expect(seen.some(match), JSON.stringify(seen)).toBe(true);
    };
    await share('viewer');
    await until((event) => event.type === 'workspace' && event.workspace?.role === 'viewer');
    // Alice's changes to it reach him with his role, not hers.
    await injectAs(server, alice, 'POST', '/api/workspaces/team/stop');
    await until(
      (event) => event.workspace?.status === 'stopped' && event.workspace.role === 'viewer',
    );
    await injectAs(server, alice, 'POST', '/api/workspaces/team/start');
    await waitForWorkspace(server, alice, 'team', 'running');
    await injectAs(server, alice, 'DELETE', '/api/workspaces/team/members/bob@example.com');
    await until((event) => event.type === 'workspace.deleted');
    expect(seen.filter((event) => event.workspace?.role === 'owner')).toEqual([]);
    events.close();
  });

  it('lets a viewer read but not write, and says which role a refused action needs', async () => {
    expect((await share('viewer')).json()).toMatchObject({
      email: 'bob@example.com',
      role: 'viewer',
    });
    expect((await injectAs(server, bob, 'GET', '/api/workspaces')).json()).toEqual([
      expect.objectContaining({
        id,
        name: 'team',
        role: 'viewer',
        ownerEmail: 'alice@example.com',
      }),
    ]);
    expect((await write(alice, 'by alice\n')).statusCode).toBe(200);
    const read = await injectAs(
      server,
      bob,
      'GET',
      `/api/workspaces/${id}/files/content?path=notes.md`,
    );
    expect(read.json()).toMatchObject({ content: 'by alice\n' });
    const refused = await write(bob, 'by bob\n');
    expect([refused.statusCode, refused.json().message]).toEqual([
      403,
      'This needs the editor role on workspace "team"; you are a viewer there.',
    ]);
    // The members list is open to members; changing it is for admins.
    const list = await injectAs(server, bob, 'GET', `/api/workspaces/${id}/members`);
    expect(
      list.json().map((member: { email: string; role: string }) => [member.email, member.role]),
    ).toEqual([
      ['alice@example.com', 'owner'],
      ['bob@example.com', 'viewer'],
    ]);
    const promote = await injectAs(
      server,
      bob,
      'PUT',
      `/api/workspaces/${id}/members/carol@example.com`,
      {
        role: 'viewer',
      },
    );
    expect(promote.statusCode).toBe(403);
    // A viewer watches a terminal: what they type never reaches it, the owner's typing does.
    const terminal = (
      await injectAs(server, alice, 'POST', '/api/workspaces/team/terminals', {})
    ).json() as { id: string };
    const owner = socketAs(server, alice, `/api/workspaces/team/terminals/${terminal.id}/attach`);
    const watcher = socketAs(server, bob, `/api/workspaces/${id}/terminals/${terminal.id}/attach`);
    await Promise.all([once(owner, 'open'), once(watcher, 'open')]);
    let seen = '';
    const told: string[] = [];
    watcher.on('message', (data, binary) => {
      if (binary) seen += data.toString();
      else told.push(data.toString());
    });
    const ownerTold: string[] = [];
    owner.on('message', (data, binary) => !binary && ownerTold.push(data.toString()));
    watcher.send(Buffer.from('echo typed-by-$((40+1))-viewer\r'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    owner.send(Buffer.from('echo typed-by-$((40+2))-owner\r'));
    for (let i = 0; i < 100 && !seen.includes('typed-by-42-owner'); i++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect(seen).toContain('typed-by-42-owner');
    expect(seen).not.toContain('typed-by-41');
    // The watcher is told who types ("typing: alice"); nobody is told of the viewer's refused keys.
    expect(told).toContain(JSON.stringify({ type: 'typing', name: 'alice' }));
    expect(ownerTold.filter((message) => message.includes('typing'))).toEqual([]);
    owner.close();
    watcher.close();
  });

  it('knows who has it open now: each open IDE (its file watch) with their role', async () => {
    const presence = async () =>
      (
        (await injectAs(server, alice, 'GET', '/api/workspaces/team/presence')).json() as Array<{
          email: string;
          role: string;
        }>
      ).map((person) => `${person.email} ${person.role}`);
    expect(await presence()).toEqual([]);
    const watch = socketAs(server, bob, `/api/workspaces/${id}/files/watch?path=.`);
    await once(watch, 'open');
    await expect.poll(presence).toEqual(['bob@example.com viewer']);
    watch.close();
    await expect.poll(presence).toEqual([]);
  });

  it('lets an editor write and use terminals, but not delete the workspace', async () => {
    await share('editor');
    expect((await write(bob, 'by bob\n')).statusCode).toBe(200);
    const created = await injectAs(server, bob, 'POST', `/api/workspaces/${id}/terminals`, {});
    expect(created.statusCode).toBe(201);
    const removal = await injectAs(server, bob, 'DELETE', `/api/workspaces/${id}`);
    expect([removal.statusCode, removal.json().message]).toEqual([
      403,
      expect.stringMatching(/needs the admin role on workspace "team"; you are an editor there/),
    ]);
    // Each change of role is in the owner's audit log, naming the person and the role.
    const audit = (await injectAs(server, alice, 'GET', '/api/audit?limit=50')).json() as {
      events: Array<{ action: string; data: unknown }>;
    };
    expect(
      audit.events
        .filter((event) => event.action === 'workspace.member_set')
        .map((event) => event.data),
    ).toEqual(
      expect.arrayContaining([
        { email: 'bob@example.com', role: 'viewer' },
        { email: 'bob@example.com', role: 'editor' },
      ]),
    );
  });

  it('closes a member’s sockets as soon as they are removed, and forgets them', async () => {
    const watch = socketAs(server, bob, `/api/workspaces/${id}/files/watch?path=.`);
    await once(watch, 'open');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const removed = await injectAs(
      server,
      alice,
      'DELETE',
      '/api/workspaces/team/members/bob@example.com',
    );
    expect(removed.statusCode).toBe(204);
    const closed = await closeOf(watch);
    expect(closed.code).toBe(4403);
    expect((await injectAs(server, bob, 'GET', `/api/workspaces/${id}`)).statusCode).toBe(404);
    expect((await injectAs(server, bob, 'GET', '/api/workspaces')).json()).toEqual([]);
  });

  it('shares with a team: its people get the team’s role (or their own, if higher), and leaving the team ends it', async () => {
    const root = await signedInUser(server, { email: 'root@example.com', role: 'admin' });
    const carol = { cookie: await signIn(server, 'carol@example.com', 'a long enough password') };
    const badName = await injectAs(server, root, 'POST', '/api/admin/teams', { name: 'a@b' });
    expect(badName.statusCode).toBe(400);
    const team = (
      await injectAs(server, root, 'POST', '/api/admin/teams', { name: 'design' })
    ).json();
    expect(
      (await injectAs(server, root, 'POST', '/api/admin/teams', { name: 'design' })).statusCode,
    ).toBe(409);
    // Only admins make teams.
    expect(
      (await injectAs(server, alice, 'POST', '/api/admin/teams', { name: 'mine' })).statusCode,
    ).toBe(403);
    for (const email of ['carol@example.com', 'bob@example.com'])
      expect(
        (await injectAs(server, root, 'PUT', `/api/admin/teams/design/members/${email}`))
          .statusCode,
      ).toBe(204);
    expect((await injectAs(server, carol, 'GET', '/api/teams')).json()).toEqual([
      expect.objectContaining({
        name: 'design',
        members: expect.arrayContaining([expect.objectContaining({ email: 'carol@example.com' })]),
      }),
    ]);
    await share('viewer');
    const given = await injectAs(server, alice, 'PUT', '/api/workspaces/team/teams/design', {
      role: 'editor',
    });
    expect(given.json()).toEqual({ teamId: team.id, name: 'design', role: 'editor' });
    // Carol is in by the team; Bob is a viewer himself but an editor through the team.
    expect((await injectAs(server, carol, 'GET', '/api/workspaces')).json()).toEqual([
      expect.objectContaining({ id, role: 'editor' }),
    ]);
    expect((await injectAs(server, bob, 'GET', `/api/workspaces/${id}`)).json()).toMatchObject({
      role: 'editor',
    });
    expect((await write(carol, 'by carol\n')).statusCode).toBe(200);
    // Out of the team, out of the workspace: her sockets there close.
    const watch = socketAs(server, carol, `/api/workspaces/${id}/files/watch?path=.`);
    await once(watch, 'open');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(
      (await injectAs(server, root, 'DELETE', '/api/admin/teams/design/members/carol@example.com'))
        .statusCode,
    ).toBe(204);
    expect((await closeOf(watch)).code).toBe(4403);
    expect((await injectAs(server, carol, 'GET', `/api/workspaces/${id}`)).statusCode).toBe(404);
    // The team's role goes: Bob is back to his own.
    expect(
      (await injectAs(server, alice, 'DELETE', '/api/workspaces/team/teams/design')).statusCode,
    ).toBe(204);
    expect((await injectAs(server, bob, 'GET', `/api/workspaces/${id}`)).json()).toMatchObject({
      role: 'viewer',
    });
    expect((await injectAs(server, root, 'DELETE', '/api/admin/teams/design')).statusCode).toBe(
      204,
    );
    expect((await injectAs(server, root, 'GET', '/api/teams')).json()).toEqual([]);
  });

  it('gives a team a template of its own, which nobody outside it sees or creates from', async () => {
    const root = await signedInUser(server, {
      email: 'templates-admin@example.com',
      role: 'admin',
    });
    const dana = await signedInUser(server, { email: 'dana@example.com' });
    const erin = await signedInUser(server, { email: 'erin@example.com' });
    await injectAs(server, root, 'POST', '/api/admin/teams', { name: 'data' });
    await injectAs(server, root, 'PUT', '/api/admin/teams/data/members/dana@example.com');
    const base = (await injectAs(server, root, 'GET', '/api/templates'))
      .json()
      .find((template: { name: string }) => template.name === 'base');
    const put = (body: object, who: { cookie: string } = root) =>
      injectAs(server, who, 'PUT', '/api/admin/templates/notebooks', {
        ...base,
        name: 'notebooks',
        title: 'Notebooks',
        ...body,
      });
    // A team that does not exist is named; only admins save templates.
    const unknown = await put({ team: 'nobody' });
    expect([unknown.statusCode, unknown.json().message]).toEqual([
      400,
      'team: there is no team "nobody"',
    ]);
    expect((await put({ team: 'data' }, dana)).statusCode).toBe(403);
    const saved = await put({ team: 'data' });
    expect([saved.statusCode, saved.json().team]).toEqual([200, 'data']);

    const names = async (who: { cookie: string }) =>
      (await injectAs(server, who, 'GET', '/api/templates'))
        .json()
        .map(
          (template: { name: string; team: string | null }) => `${template.name}:${template.team}`,
        );
    expect(await names(dana)).toContain('notebooks:data');
    expect(await names(root)).toContain('notebooks:data');
    expect(await names(erin)).not.toContain('notebooks:data');
    expect(await names(erin)).toContain('base:null');
    // Someone outside the team gets what a template that does not exist gets, listing only theirs.
    const refused = await injectAs(server, erin, 'POST', '/api/workspaces', {
      name: 'nb',
      template: 'notebooks',
    });
    expect([refused.statusCode, refused.json().code]).toEqual([404, 'template_not_found']);
    expect(refused.json().message).not.toContain('notebooks.');
    expect(refused.json().message).toMatch(/^There is no template "notebooks"\. Available: .*base/);
    const created = await injectAs(server, dana, 'POST', '/api/workspaces', {
      name: 'nb',
      template: 'notebooks',
    });
    expect([created.statusCode, created.json().template]).toEqual([201, 'notebooks']);
    // Saved again for everyone, it is everyone's; the team's going takes a team's template along.
    expect((await put({ team: null })).json().team).toBeNull();
    expect(await names(erin)).toContain('notebooks:null');
    await put({ team: 'data' });
    await injectAs(server, root, 'DELETE', '/api/admin/teams/data');
    expect(await names(root)).not.toContain('notebooks:data');
    await injectAs(server, dana, 'DELETE', '/api/workspaces/nb');
  });

  it('drops the memberships with the workspace', async () => {
    await share('admin');
    expect((await injectAs(server, bob, 'DELETE', `/api/workspaces/${id}`)).statusCode).toBe(202);
    await server.services.workspaces.settled(id);
    expect((await injectAs(server, bob, 'GET', '/api/workspaces')).json()).toEqual([]);
  });
});

// The role is resolved in one query on every request to a workspace: the same on PostgreSQL.
describe.runIf(process.env.TEST_DATABASE_URL)('workspace roles on PostgreSQL', () => {
  it('resolves an owner by name or id, and a member by id with the highest of their own and their teams’ roles', async () => {
    const database = await createTestDatabase(process.env.TEST_DATABASE_URL!);
    const pg = await startTestServer({ DATABASE_URL: database.url });
    try {
      const owner = await signedInUser(pg, { email: 'alice@example.com' });
      const member = await signedInUser(pg, { email: 'bob@example.com' });
      const root = await signedInUser(pg, { email: 'root@example.com', role: 'admin' });
      await injectAs(pg, owner, 'POST', '/api/workspaces', { name: 'team' });
      const { id: workspaceId } = await waitForWorkspace(pg, owner, 'team', 'running');
      await injectAs(pg, root, 'POST', '/api/admin/teams', { name: 'design' });
      await injectAs(pg, root, 'PUT', '/api/admin/teams/design/members/bob@example.com');
      await injectAs(pg, owner, 'PUT', '/api/workspaces/team/members/bob@example.com', {
        role: 'viewer',
      });
      const { members } = pg.services;
      expect((await members.resolve(member.id, workspaceId)).role).toBe('viewer');
      await injectAs(pg, owner, 'PUT', '/api/workspaces/team/teams/design', { role: 'admin' });
      expect((await members.resolve(member.id, workspaceId)).role).toBe('admin');
      expect((await members.resolve(owner.id, 'team')).role).toBe('owner');
      expect((await members.resolve(owner.id, workspaceId)).role).toBe('owner');
      await expect(members.resolve(member.id, 'team')).rejects.toThrow(/no workspace named/);
      await injectAs(pg, owner, 'DELETE', '/api/workspaces/team');
      await pg.services.workspaces.settled(workspaceId);
    } finally {
      await pg.close();
      await database.drop();
    }
  }, 60_000);
});
