// A real language server (pylsp, from Debian's python3-pylsp) run in a local workspace through the
// daemon, spoken to over the platform's WebSocket as the browser does.
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  injectAs,
  signedInUser,
  startTestServer,
  waitForWorkspace,
  socketAs,
  closeOf,
  type TestServer,
} from '../testing.ts';
import { lspOverSocket } from '../../../../test/lsp-rpc.ts';

let server: TestServer;
let alice: { id: string; cookie: string };
let bob: { id: string; cookie: string };
const onPath = (name: string) =>
  (process.env.PATH ?? '').split(':').some((dir) => existsSync(join(dir, name)));
// CI installs it (.ci/run); elsewhere the Python case runs where pylsp is on PATH.
const pylsp = onPath('pylsp');

function open(who: { cookie: string }, path: string, origin = server.origin) {
  return socketAs(server, who, path, origin);
}

beforeAll(async () => {
  server = await startTestServer();
  alice = await signedInUser(server, { email: 'alice@example.com' });
  bob = await signedInUser(server, { email: 'bob@example.com' });
  await injectAs(server, alice, 'POST', '/api/workspaces', { name: 'code' });
  await waitForWorkspace(server, alice, 'code', 'running');
}, 60_000);

afterAll(async () => {
  await server?.close();
});

describe('language servers', () => {
  it.runIf(pylsp)(
    'runs the Python server in the workspace: diagnostics and hover, with the home as file:///workspace',
    async () => {
      await injectAs(server, alice, 'PUT', '/api/workspaces/code/files/content', {
        path: 'app.py',
        content: 'import os\n\nprint(undefined_name)\n',
      });
      const socket = open(alice, '/api/workspaces/code/lsp/python');
      await once(socket, 'open');
      const client = lspOverSocket(socket);
      const initialized = (await client.request('initialize', {
        processId: null,
        rootUri: 'file:///workspace',
        capabilities: {},
      })) as { capabilities: { hoverProvider?: boolean } };
      expect(initialized.capabilities.hoverProvider).toBe(true);
      client.notify('initialized', {});
      const uri = 'file:///workspace/app.py';
      client.notify('textDocument/didOpen', {
        textDocument: {
          uri,
          languageId: 'python',
          version: 1,
          text: 'import os\n\nprint(undefined_name)\n',
        },
      });
      const diagnostics = (
        await client.next((note) => note.method === 'textDocument/publishDiagnostics')
      ).params as { uri: string; diagnostics: { message: string }[] };
      expect(diagnostics?.uri).toBe(uri);
      expect(diagnostics?.diagnostics.map((item) => item.message).join('\n')).toMatch(
        /undefined name 'undefined_name'/,
      );
      const hover = (await client.request('textDocument/hover', {
        textDocument: { uri },
        position: { line: 2, character: 2 },
      })) as { contents: unknown } | null;
      expect(JSON.stringify(hover?.contents)).toMatch(/print/);
      socket.close();
    },
    30_000,
  );

  it('says how to install a missing server, and refuses another person and a foreign Origin', async () => {
    // (Rust's server is the one this machine lacks; where it has it, that part is moot.)
    if (!onPath('rust-analyzer')) {
      const missing = await closeOf(open(alice, '/api/workspaces/code/lsp/rust'));
      expect(missing.code).toBe(4404);
      expect(missing.reason).toMatch(/No Rust language server/);
    }
    expect((await closeOf(open(bob, '/api/workspaces/code/lsp/python'))).code).toBe(4404);
    const foreign = open(alice, '/api/workspaces/code/lsp/python', 'https://evil.example');
    const [error] = (await once(foreign, 'error')) as [Error];
    expect(error.message).toMatch(/403/);
  });
});
