// Real debug adapters (debugpy from Debian's python3-debugpy, Delve from Debian's delve) run in a
// local workspace through the daemon, driven over the platform's WebSocket with the IDE's own
// DAP client: breakpoints (one conditional), a stop with its stack, variables and an evaluation.
import { once } from 'node:events';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DapClient, type DapSocket } from '../../../web/src/modules/ide/debug/dap-client.ts';
import {
  closeOf,
  injectAs,
  signedInUser,
  socketAs,
  startTestServer,
  waitForWorkspace,
  type TestServer,
} from '../testing.ts';
import { rebasePaths } from './dap.ts';

let server: TestServer;
let alice: { id: string; cookie: string };
let bob: { id: string; cookie: string };
const onPath = (name: string) =>
  (process.env.PATH ?? '').split(':').some((dir) => existsSync(join(dir, name)));
const debugpy = (() => {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import debugpy'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
// CI installs both (.ci/run); elsewhere each case runs where its debugger is.
const required = process.env.CI === 'true';
const delve = onPath('dlv') && onPath('go');

async function write(path: string, content: string) {
  const response = await injectAs(server, alice, 'PUT', '/api/workspaces/code/files/content', {
    path,
    content,
  });
  expect(response.statusCode).toBe(200);
}

/** A client on `adapter`, and everything the adapter printed (to say why a launch failed). */
async function connect(adapter: string, query = '') {
  const socket = socketAs(server, alice, `/api/workspaces/code/dap/${adapter}${query}`);
  await once(socket, 'open');
  const client = new DapClient(socket as unknown as DapSocket);
  const outputs: string[] = [];
  client.onEvent((event) => {
    if (event.event === 'output') outputs.push((event as DebugProtocol.OutputEvent).body.output);
  });
  return { client, outputs };
}

/**
 * initialize → launch → (initialized) breakpoints → configurationDone, as the IDE does it; the
 * launch's answer may come only after configurationDone (debugpy's does).
 */
async function launch(
  client: DapClient,
  adapterID: string,
  config: Record<string, unknown>,
  breakpoints: Record<string, DebugProtocol.SourceBreakpoint[]>,
  exceptionFilters: string[] = [],
) {
  const capabilities = await client.request<DebugProtocol.Capabilities>('initialize', {
    clientID: 'studio',
    adapterID,
    linesStartAt1: true,
    columnsStartAt1: true,
    pathFormat: 'path',
  });
  const initialized = client.next('initialized');
  const launched = client.request('launch', config);
  // A launch that fails answers before `initialized` ever comes.
  await Promise.race([initialized, launched]);
  for (const [path, lines] of Object.entries(breakpoints)) {
    const set = await client.request<DebugProtocol.SetBreakpointsResponse['body']>(
      'setBreakpoints',
      { source: { path }, breakpoints: lines },
    );
    expect(set.breakpoints.every((breakpoint) => breakpoint.verified)).toBe(true);
  }
  await client.request('setExceptionBreakpoints', { filters: exceptionFilters });
  await client.request('configurationDone');
  await launched;
  return capabilities;
}

async function topFrame(client: DapClient, threadId: number) {
  const { stackFrames } = await client.request<DebugProtocol.StackTraceResponse['body']>(
    'stackTrace',
    { threadId, startFrame: 0, levels: 20 },
  );
  return stackFrames[0]!;
}

async function localsOf(client: DapClient, frameId: number) {
  const { scopes } = await client.request<DebugProtocol.ScopesResponse['body']>('scopes', {
    frameId,
  });
  const { variables } = await client.request<DebugProtocol.VariablesResponse['body']>('variables', {
    variablesReference: scopes[0]!.variablesReference,
  });
  return Object.fromEntries(variables.map((variable) => [variable.name, variable.value]));
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

describe('debug adapters', () => {
  it('rebases paths under the home, and only those', () => {
    expect(
      rebasePaths(
        { program: '/workspace/app.py', cwd: '/workspace', other: '/workspaces/x', n: 1 },
        '/workspace',
        '/data/homes/a',
      ),
    ).toEqual({
      program: '/data/homes/a/app.py',
      cwd: '/data/homes/a',
      other: '/workspaces/x',
      n: 1,
    });
  });

  it.runIf(debugpy || required)(
    'debugs Python with debugpy: a conditional breakpoint, a stop with locals, evaluate, output',
    async () => {
      await write(
        'app.py',
        [
          'def add(a, b):',
          '    total = a + b',
          '    return total',
          '',
          'x = 41',
          'y = add(x, 1)',
          'print("result", y)',
          '',
        ].join('\n'),
      );
      const { client, outputs } = await connect('python');
      const stopped = client.next<DebugProtocol.StoppedEvent>('stopped');
      await launch(
        client,
        'debugpy',
        {
          type: 'python',
          request: 'launch',
          program: '/workspace/app.py',
          cwd: '/workspace',
          console: 'internalConsole',
          justMyCode: true,
        },
        // Line 2's condition is never true: the first stop is line 3.
        { '/workspace/app.py': [{ line: 2, condition: 'a > 100' }, { line: 3 }] },
      );
      const { body } = await stopped;
      expect(body.reason).toBe('breakpoint');
      const frame = await topFrame(client, body.threadId!);
      expect(frame.line).toBe(3);
      expect(frame.source?.path).toBe('/workspace/app.py');
      expect(await localsOf(client, frame.id)).toMatchObject({ a: '41', b: '1', total: '42' });
      const evaluated = await client.request<DebugProtocol.EvaluateResponse['body']>('evaluate', {
        expression: 'total * 2',
        frameId: frame.id,
        context: 'repl',
      });
      expect(evaluated.result).toBe('84');
      const terminated = client.next('terminated');
      await client.request('continue', { threadId: body.threadId });
      await terminated;
      expect(outputs.join('')).toMatch(/result 42/);
      client.close();
    },
    60_000,
  );

  it.runIf(delve || required)(
    'debugs Go with Delve: a breakpoint, a step over and the locals',
    async () => {
      await injectAs(server, alice, 'POST', '/api/workspaces/code/files/mkdir', { path: 'hello' });
      await write('hello/go.mod', 'module example.com/hello\n\ngo 1.19\n');
      await write(
        'hello/main.go',
        [
          'package main',
          '',
          'import "fmt"',
          '',
          'func main() {',
          '\tx := 41',
          '\ty := x + 1',
          '\tfmt.Println("result", y)',
          '}',
          '',
        ].join('\n'),
      );
      const { client, outputs } = await connect('go', '?cwd=hello');
      const stopped = client.next<DebugProtocol.StoppedEvent>('stopped');
      await launch(
        client,
        'go',
        { type: 'go', request: 'launch', mode: 'debug', program: '/workspace/hello' },
        { '/workspace/hello/main.go': [{ line: 7 }] },
      ).catch((error: Error) => {
        throw new Error(`${error.message}\n${outputs.join('')}`);
      });
      const { body } = await stopped;
      const frame = await topFrame(client, body.threadId!);
      expect(frame.line).toBe(7);
      expect(frame.source?.path).toBe('/workspace/hello/main.go');
      const stepped = client.next<DebugProtocol.StoppedEvent>('stopped');
      await client.request('next', { threadId: body.threadId });
      const after = await topFrame(client, (await stepped).body.threadId!);
      expect(after.line).toBe(8);
      expect(await localsOf(client, after.id)).toMatchObject({ x: '41', y: '42' });
      const terminated = client.next('terminated');
      await client.request('continue', { threadId: body.threadId });
      await terminated;
      client.close();
    },
    120_000,
  );

  it("debugs Node.js with the daemon's adapter: ES module into CommonJS, step out, an uncaught exception", async () => {
    await write(
      'lib.cjs',
      [
        'function add(a, b) {',
        '  const total = a + b;',
        '  return total;',
        '}',
        'module.exports = { add };',
        '',
      ].join('\n'),
    );
    await write(
      'app.mjs',
      [
        "import lib from './lib.cjs';",
        'const y = lib.add(41, 1);',
        "console.log('result', y);",
        '',
      ].join('\n'),
    );
    const config = {
      type: 'node',
      request: 'launch',
      program: '/workspace/app.mjs',
      cwd: '/workspace',
    };
    const { client, outputs } = await connect('node');
    const stopped = client.next<DebugProtocol.StoppedEvent>('stopped');
    await launch(client, 'node', config, {
      // Line 2's condition is never true: the first stop is line 3.
      '/workspace/lib.cjs': [{ line: 2, condition: 'a > 100' }, { line: 3 }],
    });
    const { body } = await stopped;
    expect(body.reason).toBe('breakpoint');
    const frame = await topFrame(client, body.threadId!);
    expect([frame.name, frame.line, frame.source?.path]).toEqual(['add', 3, '/workspace/lib.cjs']);
    expect(await localsOf(client, frame.id)).toMatchObject({ a: '41', b: '1', total: '42' });
    const evaluated = await client.request<DebugProtocol.EvaluateResponse['body']>('evaluate', {
      expression: 'total * 2',
      frameId: frame.id,
      context: 'repl',
    });
    expect(evaluated.result).toBe('84');
    const out = client.next<DebugProtocol.StoppedEvent>('stopped');
    await client.request('stepOut', { threadId: body.threadId });
    const caller = await topFrame(client, (await out).body.threadId!);
    expect(caller.source?.path).toBe('/workspace/app.mjs');
    // V8 stops right after the call returns: at the assignment, or the next line when none is left.
    expect([2, 3]).toContain(caller.line);
    const terminated = client.next('terminated');
    await client.request('continue', { threadId: body.threadId });
    await terminated;
    expect(outputs.join('')).toMatch(/result 42/);
    client.close();

    // Stops on an uncaught exception where it is thrown, naming it. (In an ES module's top level V8
    // reports it where Node rethrows it, inside Node; a CommonJS program shows the line.)
    await write(
      'boom.cjs',
      "const { add } = require('./lib.cjs');\nthrow new Error('boom ' + add(41, 1));\n",
    );
    const thrown = await connect('node');
    const exception = thrown.client.next<DebugProtocol.StoppedEvent>('stopped');
    await launch(thrown.client, 'node', { ...config, program: '/workspace/boom.cjs' }, {}, [
      'uncaught',
    ]);
    expect((await exception).body).toMatchObject({ reason: 'exception' });
    expect((await exception).body.description).toMatch(/boom 42/);
    expect(await topFrame(thrown.client, 1)).toMatchObject({
      line: 2,
      source: { path: '/workspace/boom.cjs' },
    });
    await thrown.client.request('disconnect', { terminateDebuggee: true });
    thrown.client.close();
  }, 60_000);

  it('refuses another person and a foreign Origin', async () => {
    expect((await closeOf(socketAs(server, bob, '/api/workspaces/code/dap/python'))).code).toBe(
      4404,
    );
    const foreign = socketAs(
      server,
      alice,
      '/api/workspaces/code/dap/python',
      'https://evil.example',
    );
    const [error] = (await once(foreign, 'error')) as [Error];
    expect(error.message).toMatch(/403/);
  });
});
