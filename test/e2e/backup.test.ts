// Backup and restore, end to end on Docker: `studio backup` of a running server with a workspace,
// the old server and its workspace gone, `studio restore` into a new data dir, and the new server
// has the people, the files, the conversation and the audit log — checked by content.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { dockerForTests, untilRemoved } from './docker-engine.ts';
import { startServer, type ServerProcess } from './server-process.ts';

const BIN = fileURLToPath(new URL('../../apps/cli/bin/studio.mjs', import.meta.url));
const ADMIN = { email: 'root@example.com', password: 'a long backup password', name: 'Root' };
const engine = await dockerForTests('backup and restore');

function studio(args: string[], env: Record<string, string>, input = '') {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** A signed-in admin's API calls on one server (cookie session). */
async function signedIn(server: ServerProcess) {
  const headers = { origin: server.origin, 'content-type': 'application/json' };
  const session = await fetch(`${server.origin}/api/session`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ email: ADMIN.email, password: ADMIN.password }),
  });
  expect(session.status).toBe(200);
  const cookie = session.headers
    .getSetCookie()
    .map((value) => value.split(';')[0])
    .join('; ');
  return (method: string, path: string, body?: unknown) =>
    fetch(`${server.origin}${path}`, {
      method,
      headers: { ...headers, cookie },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string) {
  for (let i = 0; i < 600; i++) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const servers: ServerProcess[] = [];
afterAll(async () => {
  for (const server of servers) await server.stop();
});

describe.runIf(engine)('backup and restore', () => {
  it('brings people, workspace files, conversations and the audit log back on a new data dir and engine state', async () => {
    const setup = {
      STUDIO_RUNTIME: 'docker',
      STUDIO_ADMIN_EMAIL: ADMIN.email,
      STUDIO_ADMIN_PASSWORD: ADMIN.password,
    };
    const old = await startServer(setup);
    servers.push(old);
    let api = await signedIn(old);
    expect((await api('POST', '/api/workspaces', { name: 'kept' })).status).toBe(201);
    const workspace = await until(
      async () =>
        (await (await api('GET', '/api/workspaces/kept')).json()) as { id: string; status: string },
      (value) => value.status === 'running',
      'the workspace to run',
    );
    // Files with content, a nested folder, and 2 MB of bytes that must come back unchanged.
    const random = Buffer.from(Array.from({ length: 2_000_000 }, (_, i) => (i * 7919) % 251));
    const put = (path: string, content: string) =>
      api('PUT', '/api/workspaces/kept/files/content', { path, content });
    expect((await put('plan.md', '# Plan\n\nrestore me, ünïcode too\n')).status).toBe(200);
    const nested = await api('POST', '/api/workspaces/kept/exec', {
      command: 'sh',
      args: ['-c', 'mkdir -p notes/deep && echo nested > notes/deep/x.txt'],
    });
    expect(nested.status).toBe(200);
    await nested.text();
    expect((await put('data.b64', random.toString('base64'))).status).toBe(200);
    const conversation = (await (
      await api('POST', '/api/workspaces/kept/ai/conversations', { title: 'Backups are boring' })
    ).json()) as { id: string };

    const configDir = await mkdtemp(join(tmpdir(), 'studio-backup-cli-'));
    const env = { STUDIO_CONFIG_DIR: configDir };
    const login = await studio(
      ['login', old.origin, '--email', ADMIN.email, '--password-stdin'],
      env,
      ADMIN.password,
    );
    expect(login.code, login.stderr).toBe(0);
    const dir = join(await mkdtemp(join(tmpdir(), 'studio-backup-')), 'backup');
    const made = await studio(['backup', '--to', dir], env);
    expect(made.code, made.stderr).toBe(0);
    expect(made.stderr).toMatch(/\[1\/1\] root@example\.com\/kept: [\d.]+ MB/);
    expect(made.stdout).toMatch(/^Backed up the database and 1 workspace homes/);
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
    expect(manifest.workspaces).toEqual([
      { id: workspace.id, name: 'kept', owner: ADMIN.email, home: `homes/${workspace.id}.tar` },
    ]);
    // Into a non-empty folder: refused.
    const again = await studio(['backup', '--to', dir], env);
    expect([again.code, again.stderr]).toEqual([1, expect.stringContaining('is not empty')]);

    // The old machine goes away: its workspace (container and volume) and its server.
    expect((await api('DELETE', '/api/workspaces/kept')).status).toBe(202);
    await untilRemoved(workspace.id);
    await old.stop();

    // A damaged backup is refused before anything is written.
    const newDir = await mkdtemp(join(tmpdir(), 'studio-restored-'));
    const manifestText = await readFile(join(dir, 'manifest.json'), 'utf8');
    const damaged = JSON.parse(manifestText);
    damaged.files[0].sha256 = '0'.repeat(64);
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(damaged));
    const refused = await studio(['restore', '--from', dir, '--data-dir', newDir], {
      STUDIO_RUNTIME: 'docker',
      ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}),
    });
    expect([refused.code, refused.stderr]).toEqual([
      1,
      expect.stringContaining('database.ndjson is not what was backed up'),
    ]);
    await writeFile(join(dir, 'manifest.json'), manifestText);

    const restored = await studio(['restore', '--from', dir, '--data-dir', newDir], {
      STUDIO_RUNTIME: 'docker',
      ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}),
    });
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stderr).toMatch(/restored 1 person and 1 workspace \(docker driver\)/);

    const fresh = await startServer({ STUDIO_RUNTIME: 'docker', STUDIO_DATA_DIR: newDir });
    servers.push(fresh);
    api = await signedIn(fresh);
    const back = (await (await api('GET', '/api/workspaces/kept')).json()) as {
      id: string;
      status: string;
      statusReason: string;
    };
    expect(back).toMatchObject({ id: workspace.id, status: 'stopped' });
    expect(back.statusReason).toMatch(/^Restored from the backup of /);
    expect((await api('POST', '/api/workspaces/kept/start')).status).toBe(202);
    await until(
      async () =>
        ((await (await api('GET', '/api/workspaces/kept')).json()) as { status: string }).status,
      (status) => status === 'running',
      'the restored workspace to run',
    );
    const read = async (path: string) =>
      (
        (await (await api('GET', `/api/workspaces/kept/files/content?path=${path}`)).json()) as {
          content: string;
        }
      ).content;
    expect(await read('plan.md')).toBe('# Plan\n\nrestore me, ünïcode too\n');
    expect(await read('notes/deep/x.txt')).toBe('nested\n');
    expect(Buffer.from(await read('data.b64'), 'base64').equals(random)).toBe(true);
    // Files stay the workspace user's: it can write where it wrote before.
    expect((await put('notes/deep/x.txt', 'edited after restore\n')).status).toBe(200);

    const { conversations } = (await (
      await api('GET', '/api/workspaces/kept/ai/conversations')
    ).json()) as { conversations: Array<{ id: string; title: string }> };
    expect(conversations).toContainEqual(
      expect.objectContaining({ id: conversation.id, title: 'Backups are boring' }),
    );
    const audit = (await (await api('GET', '/api/audit?action=workspace.created')).json()) as {
      events: Array<{ targetId: string }>;
    };
    expect(audit.events.map((event) => event.targetId)).toContain(workspace.id);
    expect((await api('DELETE', '/api/workspaces/kept')).status).toBe(202);
    await untilRemoved(workspace.id);
  }, 600_000);
});
