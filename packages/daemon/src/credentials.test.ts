import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import type { DaemonServerMessage } from '@studio/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CredentialBroker, credentialHelperEnv, runCredentialHelper } from './credentials.ts';
import { OutStream } from './streams.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'studio-credentials-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A served stream whose requests are answered by `answer`, as the server would. */
function serve(
  broker: CredentialBroker,
  answer: (request: { id: string; host: string; protocol: string }) => {
    username?: string;
    password?: string;
  },
) {
  const requests: { host: string; protocol: string }[] = [];
  const stream = new OutStream(
    1,
    {
      sendBinary: () => undefined,
      sendMessage: (message: DaemonServerMessage) => {
        if (message.type !== 'event' || message.event.kind !== 'credential.request') return;
        const request = message.event;
        requests.push({ host: request.host, protocol: request.protocol });
        queueMicrotask(() => broker.answer({ id: request.id, ...answer(request) }));
      },
      pauseInput: () => undefined,
      resumeInput: () => undefined,
    },
    () => undefined,
  );
  broker.serve(stream);
  stream.start();
  return { stream, requests };
}

async function helper(socketPath: string, action: string, input: string): Promise<string> {
  const stdout = new PassThrough();
  let output = '';
  stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await runCredentialHelper([socketPath, action], Readable.from([input]), stdout);
  return output;
}

describe('git credential helper', () => {
  it('asks the served stream for the host and prints the answer for `get` only', async () => {
    const broker = new CredentialBroker();
    const socket = await broker.listen(dir);
    try {
      expect((await stat(socket.socketPath)).mode & 0o777).toBe(0o600);
      const { requests } = serve(broker, (request) =>
        request.host === 'git.example.com:8443' ? { username: 'me', password: 's3cret' } : {},
      );
      const input = 'protocol=https\nhost=git.example.com:8443\n\n';
      expect(await helper(socket.socketPath, 'get', input)).toBe('username=me\npassword=s3cret\n');
      expect(requests).toEqual([{ host: 'git.example.com:8443', protocol: 'https' }]);
      expect(await helper(socket.socketPath, 'store', `${input}password=x\n`)).toBe('');
      expect(await helper(socket.socketPath, 'get', 'protocol=https\nhost=other\n\n')).toBe('');
      expect(requests).toHaveLength(2);
    } finally {
      await socket.close();
    }
  });

  it('prints nothing when no server serves, or when an answer would inject a line', async () => {
    const broker = new CredentialBroker();
    const socket = await broker.listen(dir);
    try {
      const input = 'protocol=https\nhost=example.com\n\n';
      expect(await helper(socket.socketPath, 'get', input)).toBe('');
      const { stream } = serve(broker, () => ({ username: 'me', password: 'a\nhost=evil' }));
      expect(await helper(socket.socketPath, 'get', input)).toBe('');
      stream.cancel();
      expect(await helper(path.join(dir, 'missing.sock'), 'get', input)).toBe('');
    } finally {
      await socket.close();
    }
  });

  it('adds the helper after any git configuration already in the environment', () => {
    const helperPaths = {
      node: '/opt/studio/bin/node',
      script: "/opt/it's.mjs",
      socketPath: '/run/s',
    };
    expect(credentialHelperEnv({}, helperPaths)).toEqual({
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'credential.helper',
      GIT_CONFIG_VALUE_0: "!'/opt/studio/bin/node' '/opt/it'\\''s.mjs' 'git-credential' '/run/s'",
    });
    expect(credentialHelperEnv({ GIT_CONFIG_COUNT: '2' }, helperPaths)).toMatchObject({
      GIT_CONFIG_COUNT: '3',
      GIT_CONFIG_KEY_2: 'credential.helper',
    });
  });
});
