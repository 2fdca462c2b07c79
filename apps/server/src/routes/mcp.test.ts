import { randomBytes } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { schema } from '@studio/db';
import { auditPageSchema, type RunEvent } from '@studio/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { followRun } from '../../../../test/run-events.ts';
import { startScriptedLlm, type ScriptedLlm } from '../../../../test/scripted-llm.ts';
import {
  injectAs,
  signedInUser,
  startTestServer,
  useScriptedProvider,
  waitForWorkspace,
  type InjectArgs,
  type TestServer,
} from '../testing.ts';

let server: TestServer;
let llm: ScriptedLlm;
let alice: { id: string; cookie: string };
let bob: { id: string; cookie: string };
const apiKey = `sk-proj-${randomBytes(24).toString('hex')}`;

const api = (...args: InjectArgs) => injectAs(server, ...args);

beforeAll(async () => {
  llm = await startScriptedLlm({ apiKey });
  server = await startTestServer();
  alice = await signedInUser(server, { email: 'alice@example.com', role: 'admin' });
  bob = await signedInUser(server, { email: 'bob@example.com' });
  await api(alice, 'POST', '/api/workspaces', { name: 'mcp' });
  await waitForWorkspace(server, alice, 'mcp', 'running');
  await useScriptedProvider(server, alice, llm.openaiBaseUrl, apiKey);
}, 90_000);

afterAll(async () => {
  await server?.close();
  await llm?.close();
}, 60_000);

async function sh(script: string): Promise<string> {
  const row = await server.services.workspaces.get(alice.id, 'mcp');
  const daemon = await server.services.workspaces.connect(row);
  const result = await daemon.exec('sh', ['-c', script]);
  return result.stdout + result.stderr;
}

async function token(who: { cookie: string }): Promise<string> {
  const created = await api(who, 'POST', '/api/tokens', { name: 'mcp client' });
  expect(created.statusCode, created.body).toBe(201);
  return created.json().secret as string;
}

/** A stdio MCP server written by hand (newline-delimited JSON-RPC), as any language could. */
const NOTES_SERVER = String.raw`
import json, os, sys
with open('notes-server.pid', 'w') as f:
    f.write(str(os.getpid()))
print('notes server starting', file=sys.stderr, flush=True)
TOOLS = [
    {'name': 'add_note', 'description': 'Adds a note to notes.txt',
     'inputSchema': {'type': 'object', 'properties': {'text': {'type': 'string'}}, 'required': ['text']}},
    {'name': 'count.notes', 'description': 'Counts the notes',
     'inputSchema': {'type': 'object', 'properties': {}}, 'annotations': {'readOnlyHint': True}},
    {'name': 'fail', 'description': 'Always fails', 'inputSchema': {'type': 'object'}},
]
def count():
    return len(open('notes.txt').read().splitlines()) if os.path.exists('notes.txt') else 0
for line in sys.stdin:
    if not line.strip():
        continue
    msg = json.loads(line)
    if 'id' not in msg:
        continue
    method, params = msg.get('method'), msg.get('params') or {}
    reply = {'jsonrpc': '2.0', 'id': msg['id']}
    if method == 'initialize':
        reply['result'] = {'protocolVersion': params['protocolVersion'], 'capabilities': {'tools': {}},
                           'serverInfo': {'name': 'notes', 'version': '1.0.0'}}
    elif method == 'tools/list':
        reply['result'] = {'tools': TOOLS}
    elif method == 'tools/call' and params['name'] == 'add_note':
        with open('notes.txt', 'a') as f:
            f.write(params['arguments']['text'] + '\n')
        reply['result'] = {'content': [{'type': 'text', 'text': 'noted: ' + params['arguments']['text']},
                                       {'type': 'image', 'data': 'AAAA', 'mimeType': 'image/png'}]}
    elif method == 'tools/call' and params['name'] == 'count.notes':
        reply['result'] = {'content': [{'type': 'text', 'text': '%d notes' % count()}]}
    elif method == 'tools/call':
        reply['result'] = {'content': [{'type': 'text', 'text': 'it broke'}], 'isError': True}
    else:
        reply['error'] = {'code': -32601, 'message': 'no method ' + str(method)}
    sys.stdout.write(json.dumps(reply) + '\n')
    sys.stdout.flush()
    print('handled', method, file=sys.stderr, flush=True)
`;

async function converse(
  text: string,
  onApproval: (event: Extract<RunEvent, { type: 'approval' }>) => Promise<Record<string, unknown>>,
): Promise<RunEvent[]> {
  const conversation = await api(alice, 'POST', '/api/workspaces/mcp/ai/conversations', {});
  const sent = await api(
    alice,
    'POST',
    `/api/workspaces/mcp/ai/conversations/${conversation.json().id}/messages`,
    { text, mode: 'agent' },
  );
  expect(sent.statusCode, sent.body).toBe(202);
  const runId = sent.json().runId as string;
  const events = await followRun({
    origin: server.origin,
    cookie: alice.cookie,
    runId,
    answer: async (event) => {
      const answer = await api(
        alice,
        'POST',
        `/api/ai/runs/${runId}/approvals/${event.callId}`,
        await onApproval(event),
      );
      expect(answer.statusCode, answer.body).toBe(204);
    },
  });
  return events;
}

describe('MCP servers as agent tools', () => {
  let notesId: string;

  it('keeps each person’s servers, refuses bad ones with the field named', async () => {
    const created = await api(alice, 'POST', '/api/ai/mcp-servers', {
      name: 'notes',
      transport: 'stdio',
      command: 'python3',
      args: ['notes_server.py'],
    });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({
      name: 'notes',
      transport: 'stdio',
      command: 'python3',
      args: ['notes_server.py'],
      url: null,
      hasHeaders: false,
      enabled: true,
    });
    notesId = created.json().id as string;

    const badName = await api(alice, 'POST', '/api/ai/mcp-servers', {
      name: 'Notes Server',
      transport: 'stdio',
      command: 'x',
    });
    expect(badName.statusCode).toBe(400);
    expect(badName.body).toContain('name');
    const fileUrl = await api(alice, 'POST', '/api/ai/mcp-servers', {
      name: 'files',
      transport: 'http',
      url: 'file:///etc/passwd',
    });
    expect(fileUrl.statusCode).toBe(400);
    expect(fileUrl.body).toContain('url');
    const twice = await api(alice, 'POST', '/api/ai/mcp-servers', {
      name: 'notes',
      transport: 'stdio',
      command: 'x',
    });
    expect(twice.statusCode).toBe(409);

    expect((await api(bob, 'GET', '/api/ai/mcp-servers')).json()).toEqual({ servers: [] });
    expect(
      (await api(bob, 'PATCH', `/api/ai/mcp-servers/${notesId}`, { enabled: false })).statusCode,
    ).toBe(404);
    expect((await api(bob, 'DELETE', `/api/ai/mcp-servers/${notesId}`)).statusCode).toBe(404);
    // A member's HTTP server may not point the server at its own network (SSRF).
    const inside = await api(bob, 'POST', '/api/ai/mcp-servers', {
      name: 'inside',
      transport: 'http',
      url: `${server.origin}/api/workspaces/mcp/mcp`,
    });
    expect(inside.statusCode).toBe(400);
    expect(inside.json().message).toMatch(/^url: refused: .*loopback/);
  });

  it('lists a stdio server’s tools by running it in the workspace', async () => {
    await sh(`cat > notes_server.py <<'EOF'\n${NOTES_SERVER}\nEOF`);
    const noWorkspace = await api(alice, 'GET', `/api/ai/mcp-servers/${notesId}/tools`);
    expect(noWorkspace.statusCode).toBe(400);
    const listed = await api(alice, 'GET', `/api/ai/mcp-servers/${notesId}/tools?workspace=mcp`);
    expect(listed.statusCode, listed.body).toBe(200);
    expect(listed.json()).toEqual({
      tools: [
        {
          name: 'add_note',
          agentName: 'mcp__notes__add_note',
          description: 'Adds a note to notes.txt',
          readOnly: false,
        },
        {
          name: 'count.notes',
          agentName: 'mcp__notes__count_notes',
          description: 'Counts the notes',
          readOnly: true,
        },
        {
          name: 'fail',
          agentName: 'mcp__notes__fail',
          description: 'Always fails',
          readOnly: false,
        },
      ],
    });

    const broken = await api(alice, 'POST', '/api/ai/mcp-servers', {
      name: 'broken',
      transport: 'stdio',
      command: 'no-such-mcp-server',
    });
    const error = await api(
      alice,
      'GET',
      `/api/ai/mcp-servers/${broken.json().id}/tools?workspace=mcp`,
    );
    expect(error.json().tools).toEqual([]);
    expect(error.json().error).toContain('broken');
    // Left enabled on purpose: a server that cannot start must not break the run below.
  });

  it('runs its tools in an agent turn: reads without asking, the rest approved, all audited', async () => {
    llm.script(
      { toolCalls: [{ name: 'mcp__notes__add_note', input: { text: 'buy milk' } }] },
      { toolCalls: [{ name: 'mcp__notes__count_notes', input: {} }] },
      { toolCalls: [{ name: 'mcp__notes__fail', input: {} }] },
      { text: 'Noted.' },
    );
    const approvals: string[] = [];
    const events = await converse('Note: buy milk', async (event) => {
      approvals.push(`${event.tool} ${event.detail.command}`);
      // The server runs inside the workspace while the run goes on.
      expect(await sh('kill -0 "$(cat notes-server.pid)" && echo alive')).toBe('alive\n');
      return { decision: 'approve' };
    });
    const end = events.at(-1) as Extract<RunEvent, { type: 'end' }>;
    expect(end).toMatchObject({ type: 'end', code: 'done' });

    const offered = (llm.requests[0]!.body.tools as Array<{ function: { name: string } }>).map(
      (tool) => tool.function.name,
    );
    expect(offered).toEqual(
      expect.arrayContaining(['run_command', 'mcp__notes__add_note', 'mcp__notes__count_notes']),
    );
    expect(offered.filter((name) => name.startsWith('mcp__broken'))).toEqual([]);
    expect(approvals).toEqual([
      `mcp__notes__add_note ${JSON.stringify({ text: 'buy milk' }, null, 2)}`,
      'mcp__notes__fail {}',
    ]);
    const results = llm.requests.at(-1)!.toolResults.map((result) => result.content);
    expect(results[0]).toContain('noted: buy milk');
    expect(results[0]).toContain('[image image/png, 3 bytes]');
    expect(results[1]).toContain('1 notes');
    expect(results[2]).toContain('it broke');
    expect(await sh('cat notes.txt')).toBe('buy milk\n');

    const audit = auditPageSchema.parse(
      (await api(alice, 'GET', '/api/audit?action=agent.tool.mcp__notes')).json(),
    );
    expect(
      audit.events.map((event) => [event.action, event.outcome, event.data.decidedBy]).reverse(),
    ).toEqual([
      ['agent.tool.mcp__notes__add_note', 'success', { user: 'alice@example.com' }],
      ['agent.tool.mcp__notes__count_notes', 'success', 'policy'],
      ['agent.tool.mcp__notes__fail', 'failure', { user: 'alice@example.com' }],
    ]);

    // The run's end closed the session, which ended the server's process in the workspace.
    let alive = '';
    for (let i = 0; i < 50; i++) {
      alive = await sh('kill -0 "$(cat notes-server.pid)" 2>/dev/null && echo alive || echo gone');
      if (alive.trim() === 'gone') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(alive.trim()).toBe('gone');
  });

  it("offers a team's server, made by an admin, to the team's people only", async () => {
    const carol = await signedInUser(server, { email: 'carol@example.com' });
    await api(alice, 'POST', '/api/admin/teams', { name: 'tools' });
    await api(alice, 'PUT', '/api/admin/teams/tools/members/bob@example.com');
    const body = {
      name: 'workspace',
      transport: 'http',
      // On the server's own network: an admin may, for a team too.
      url: `${server.origin}/api/workspaces/mcp/mcp`,
      headers: { Authorization: 'Bearer team-secret' },
      team: 'tools',
    };
    const byMember = await api(bob, 'POST', '/api/ai/mcp-servers', body);
    expect([byMember.statusCode, byMember.json().message]).toEqual([
      403,
      'only admins add MCP servers for a team',
    ]);
    const made = await api(alice, 'POST', '/api/ai/mcp-servers', body);
    expect(made.statusCode, made.body).toBe(201);
    const id = made.json().id as string;
    expect((await api(alice, 'POST', '/api/ai/mcp-servers', body)).statusCode).toBe(409);

    const seen = await api(bob, 'GET', '/api/ai/mcp-servers');
    expect(seen.json().servers).toEqual([
      expect.objectContaining({
        id,
        team: 'tools',
        hasHeaders: true,
        headerNames: ['Authorization'],
      }),
    ]);
    expect(seen.body).not.toContain('team-secret');
    const changed = await api(bob, 'PATCH', `/api/ai/mcp-servers/${id}`, { enabled: false });
    expect([changed.statusCode, changed.json().message]).toEqual([
      403,
      'only admins change a team’s MCP servers',
    ]);
    expect((await api(carol, 'GET', '/api/ai/mcp-servers')).json()).toEqual({ servers: [] });
    expect((await api(carol, 'DELETE', `/api/ai/mcp-servers/${id}`)).statusCode).toBe(404);

    // Bob's agent runs get it, with its token and past the server-network guard; Carol's do not.
    const { mcpServers } = server.services;
    expect(await mcpServers.enabled(bob.id)).toEqual([
      expect.objectContaining({
        id,
        team: true,
        endpoint: expect.objectContaining({ headers: { Authorization: 'Bearer team-secret' } }),
      }),
    ]);
    expect(await mcpServers.enabled(carol.id)).toEqual([]);
    await api(alice, 'DELETE', '/api/admin/teams/tools/members/bob@example.com');
    expect(await mcpServers.enabled(bob.id)).toEqual([]);
    expect((await api(alice, 'DELETE', `/api/ai/mcp-servers/${id}`)).statusCode).toBe(204);
  });
});

describe('a workspace as an MCP server', () => {
  let secret: string;
  const connect = async (bearer: string, workspace = 'mcp') => {
    const client = new Client({ name: 'test-client', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(
      new URL(`${server.origin}/api/workspaces/${workspace}/mcp`),
      { requestInit: { headers: { Authorization: `Bearer ${bearer}` } } },
    );
    await client.connect(transport);
    return client;
  };
  const textOf = (result: unknown) =>
    (result as CallToolResult).content
      .map((part) => (part.type === 'text' ? part.text : ''))
      .join('');

  beforeAll(async () => {
    secret = await token(alice);
    await api(alice, 'PUT', '/api/ai/policy', { rules: [] });
  });

  it('offers the agent tools and runs them under the person’s policy', async () => {
    await sh('printf "hello over mcp\\n" > greeting.txt');
    const client = await connect(secret);
    try {
      const { tools } = await client.listTools();
      expect(tools.map((tool) => tool.name).sort()).toEqual([
        'edit_file',
        'git_commit',
        'git_diff',
        'git_status',
        'list_files',
        'read_file',
        'run_command',
        'search',
        'write_file',
      ]);
      expect(tools.find((tool) => tool.name === 'read_file')!.annotations?.readOnlyHint).toBe(true);

      const read = await client.callTool({
        name: 'read_file',
        arguments: { path: 'greeting.txt' },
      });
      expect(read.isError).toBeFalsy();
      expect(textOf(read)).toContain('hello over mcp');

      const command = `echo hi-from-mcp ${server.services.config.secret}`;
      const asked = await client.callTool({ name: 'run_command', arguments: { command } });
      expect(asked.isError).toBe(true);
      expect(textOf(asked)).toContain('Settings → AI → Agent permissions');
      expect(textOf(asked)).toContain('"tool":"run_command"');

      const saved = await api(alice, 'PUT', '/api/ai/policy', {
        rules: [{ tool: 'run_command', pattern: 'echo hi-from-mcp *', decision: 'allow' }],
      });
      expect(saved.statusCode).toBe(200);
      const ran = await client.callTool({ name: 'run_command', arguments: { command } });
      expect(ran.isError, textOf(ran)).toBeFalsy();
      expect(textOf(ran)).toContain('hi-from-mcp');
      // The server's secret printed by a command is redacted before the client sees it.
      expect(textOf(ran)).not.toContain(server.services.config.secret);

      await api(alice, 'PUT', '/api/ai/policy', {
        rules: [{ tool: 'read_file', decision: 'deny' }],
      });
      const denied = await client.callTool({
        name: 'read_file',
        arguments: { path: 'greeting.txt' },
      });
      expect(denied.isError).toBe(true);
      expect(textOf(denied)).toContain('Denied');
    } finally {
      await client.close();
      await api(alice, 'PUT', '/api/ai/policy', { rules: [] });
    }

    const audit = auditPageSchema.parse(
      (await api(alice, 'GET', '/api/audit?action=agent.tool.run_command')).json(),
    );
    const viaMcp = audit.events.filter((event) => event.data.via === 'mcp');
    expect(viaMcp.map((event) => [event.outcome, event.data.decision]).reverse()).toEqual([
      ['denied', 'ask'],
      ['success', 'allow'],
    ]);
    expect(JSON.stringify(audit.events)).not.toContain(server.services.config.secret);
  });

  it('needs a token, and serves only the person’s own workspaces', async () => {
    const initialize = {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: 'curl', version: '1' },
      },
    };
    const post = (headers: Record<string, string>) =>
      fetch(`${server.origin}/api/workspaces/mcp/mcp`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          ...headers,
        },
        body: JSON.stringify(initialize),
      });
    expect((await post({})).status).toBe(401);
    expect((await post({ authorization: 'Bearer studio_wrong' })).status).toBe(401);
    const bobs = await post({ authorization: `Bearer ${await token(bob)}` });
    expect(bobs.status).toBe(404);
    expect((await post({ authorization: `Bearer ${secret}` })).status).toBe(200);
  });

  it('is an http MCP server the agent can use too, its token sealed at rest', async () => {
    const created = await api(alice, 'POST', '/api/ai/mcp-servers', {
      name: 'self',
      transport: 'http',
      url: `${server.origin}/api/workspaces/mcp/mcp`,
      headers: { Authorization: `Bearer ${secret}` },
    });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({ hasHeaders: true, headerNames: ['Authorization'] });
    expect(created.body).not.toContain(secret);
    const list = await api(alice, 'GET', '/api/ai/mcp-servers');
    expect(list.body).not.toContain(secret);
    const rows = await server.services.database.db.select().from(schema.aiMcpServers);
    expect(JSON.stringify(rows)).not.toContain(secret);

    const tools = await api(alice, 'GET', `/api/ai/mcp-servers/${created.json().id}/tools`);
    expect(tools.json().error).toBeUndefined();
    expect(tools.json().tools).toContainEqual(
      expect.objectContaining({ agentName: 'mcp__self__read_file', readOnly: true }),
    );

    const removed = await api(alice, 'DELETE', `/api/ai/mcp-servers/${created.json().id}`);
    expect(removed.statusCode).toBe(204);
    const actions = auditPageSchema
      .parse((await api(alice, 'GET', '/api/audit?action=ai.mcp_server.')).json())
      .events.map((event) => event.action);
    expect(actions).toContain('ai.mcp_server.create');
    expect(actions).toContain('ai.mcp_server.delete');
  });
});
