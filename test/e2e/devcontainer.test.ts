// A repository with a devcontainer.json becomes a workspace on a real Docker Engine, built by the
// official @devcontainers/cli: an image with its containerEnv, lifecycle commands, forwarded
// ports and recommended extensions; a Dockerfile with a build argument; and a feature this
// machine cannot fetch (no registry here), which fails with an error naming the feature while
// the workspace keeps running with the repository in it.
// An image that builds but cannot start puts the workspace back onto its template's image.
import { execFileSync } from 'node:child_process';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Workspace } from '@studio/protocol';
import { execResult } from '../exec-events.ts';
import { startGitHttpServer, type GitHttpServer } from '../git-http-server.ts';
import { SCREENSHOTS, keepFailures, launchChromium, openWhenReady } from './chromium.ts';
import { dockerForTests, untilRemoved } from './docker-engine.ts';
import { setUpAdmin, startServer, type ServerProcess } from './server-process.ts';

const engine = await dockerForTests('dev containers');
const TOKEN = 'devcontainer-git-token';

let server: ServerProcess;
let git: GitHttpServer;
let gitRoot: string;
let browser: Browser;
let page: Page;
/** What the page showed when a step failed, kept after each test. */
let afterFailure: ((task: { name: string }) => Promise<void>) | undefined;
/** The git server as workspaces reach it: their bridge's gateway. */
let gitHost: string;

function api(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, data?: unknown) {
  return page.request.fetch(`${server.origin}${path}`, {
    method,
    data,
    headers: { origin: server.origin },
    timeout: 20 * 60_000,
  });
}

/** Runs `script` with `sh -c` in the workspace; its exit code and what it printed. */
async function run(
  workspace: string,
  script: string,
): Promise<{ code: number | null; output: string }> {
  const response = await api('POST', `/api/workspaces/${workspace}/exec`, {
    command: 'sh',
    args: ['-c', script],
  });
  expect(response.status(), await response.text()).toBe(200);
  return execResult(await response.text());
}

async function workspace(name: string): Promise<Workspace> {
  return (await (await api('GET', `/api/workspaces/${name}`)).json()) as Workspace;
}

/** Waits until the workspace runs and its creation is over (its dev container, if any). */
async function settled(name: string, done: (item: Workspace) => boolean): Promise<Workspace> {
  // Cold, `base` builds first: minutes. A loop, not expect.poll: beforeAll waits with it too.
  for (const deadline = Date.now() + 20 * 60_000; Date.now() < deadline; await sleep(1_000)) {
    const current = await workspace(name);
    if (current.status === 'error' || (current.status === 'running' && done(current)))
      return current;
  }
  throw new Error(`${name} did not settle: ${JSON.stringify(await workspace(name))}`);
}

/** A bare repository `name.git` on the git server holding `files`. */
async function repository(name: string, files: Record<string, string>): Promise<string> {
  const work = await mkdtemp(join(tmpdir(), `studio-dc-${name}-`));
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(work, path)), { recursive: true });
    await writeFile(join(work, path), content);
  }
  const gitIn = (...args: string[]) => execFileSync('git', args, { cwd: work, stdio: 'pipe' });
  gitIn('init', '-q', '-b', 'main');
  gitIn('add', '-A');
  gitIn('-c', 'user.name=Test', '-c', 'user.email=test@example.com', 'commit', '-qm', 'start');
  execFileSync('git', ['clone', '-q', '--bare', work, join(gitRoot, `${name}.git`)]);
  return `http://${gitHost}/${name}.git`;
}

describe.runIf(engine)('a repository with a devcontainer.json', () => {
  beforeAll(async () => {
    gitRoot = await mkdtemp(join(tmpdir(), 'studio-dc-git-'));
    // On every address: workspaces reach the host through their bridge's gateway, and the server
    // opens exactly this port in the workspace firewall.
    git = await startGitHttpServer({ root: gitRoot, token: TOKEN, host: '0.0.0.0' });
    const gitPort = git.hostPort.split(':').pop()!;
    server = await startServer({ STUDIO_RUNTIME: 'docker', STUDIO_DOCKER_HOST_PORTS: gitPort });
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
    afterFailure = keepFailures(page, 'devcontainer');
    await setUpAdmin(page, server, {
      name: 'Dev Container',
      email: 'dc@example.com',
      password: 'containers dot dev',
    });
    // A plain workspace first: it builds `base`, which the repositories' configs start from, and
    // says where workspaces see the host.
    expect((await api('POST', '/api/workspaces', { name: 'plain' })).status()).toBe(201);
    await settled('plain', () => true);
    const gateway = (await run('plain', "ip route | awk '/default/ {print $3}'")).output.trim();
    expect(gateway).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    gitHost = `${gateway}:${gitPort}`;
    const saved = await api('PUT', `/api/me/git-credentials/${encodeURIComponent(gitHost)}`, {
      token: TOKEN,
    });
    expect(saved.status(), await saved.text()).toBeLessThan(300);
  }, 30 * 60_000);

  afterEach(async ({ task }) => afterFailure?.(task));

  afterAll(async () => {
    if (page) {
      // Removed, so no container outlives this server; their images go with them.
      for (const item of (await (await api('GET', '/api/workspaces')).json()) as Workspace[]) {
        await api('DELETE', `/api/workspaces/${item.name}`);
        await untilRemoved(item.id);
      }
    }
    await browser?.close();
    await server?.stop();
    await git?.close();
  });

  it('from an image: its env, commands, forwarded ports and extensions', async () => {
    const url = await repository('webapp', {
      '.devcontainer/devcontainer.json': `{
        // Comments and trailing commas, as the spec allows.
        "name": "webapp",
        "image": "studio/base:1",
        "containerEnv": { "GREETING": "hello from containerEnv" },
        "postCreateCommand": "echo created > .created-by-postcreate",
        "postStartCommand": "python3 -m http.server 8123 --bind 127.0.0.1",
        "forwardPorts": [8123, 9999],
        "portsAttributes": { "8123": { "label": "Web app" } },
        "customizations": { "vscode": { "extensions": ["ms-python.python", "esbenp.prettier-vscode",] } },
      }`,
      'README.md': '# webapp\n',
    });
    expect((await api('POST', '/api/workspaces', { name: 'webapp', repoUrl: url })).status()).toBe(
      201,
    );
    const item = await settled('webapp', (current) => current.devcontainer !== undefined);
    expect(item.status, item.statusReason ?? '').toBe('running');
    expect(item.statusReason).toBeNull();
    expect(item.devcontainer).toEqual({
      config: 'webapp/.devcontainer/devcontainer.json',
      extensions: ['ms-python.python', 'esbenp.prettier-vscode'],
    });
    expect(item.ports).toEqual([
      { port: 8123, name: 'web-app', label: 'Web app' },
      { port: 9999, name: 'port-9999' },
    ]);

    // containerEnv in every process; postCreateCommand ran once, in the repository.
    await expect
      .poll(async () => (await run('webapp', 'cat webapp/.created-by-postcreate')).output, {
        timeout: 60_000,
      })
      .toBe('created\n');
    expect((await run('webapp', 'echo "$GREETING"')).output).toBe('hello from containerEnv\n');
    // postStartCommand runs at each start: the server it starts answers.
    await expect
      .poll(async () => (await run('webapp', 'curl -s http://127.0.0.1:8123/')).output, {
        timeout: 30_000,
      })
      .toContain('README.md');

    // The IDE: the Ports view lists both forwarded ports, one listening and one not yet, and the
    // header says where the container came from and what it recommends.
    const portsTab = page.getByRole('tab', { name: /^Ports/ });
    await openWhenReady(page, `${server.origin}/w/webapp`, portsTab);
    await portsTab.click();
    const ports = page.getByRole('list', { name: 'Listening ports' });
    await expect.poll(() => ports.innerText(), { timeout: 30_000 }).toMatch(/8123\s*Web app/);
    expect(await ports.innerText()).toMatch(/9999\s*port-9999 · not listening yet/);
    const badge = page.getByRole('note', { name: 'Dev container' });
    expect(await badge.getAttribute('title')).toContain('ms-python.python, esbenp.prettier-vscode');
    await page.screenshot({ path: `${SCREENSHOTS}devcontainer-ports.png` });

    // Stopped and started again: the same image, env and start command; postCreate not re-run.
    await run('webapp', 'rm webapp/.created-by-postcreate');
    await api('POST', '/api/workspaces/webapp/stop');
    await expect
      .poll(async () => (await workspace('webapp')).status, { timeout: 60_000 })
      .toBe('stopped');
    await api('POST', '/api/workspaces/webapp/start');
    await settled('webapp', () => true);
    expect((await run('webapp', 'echo "$GREETING"')).output).toBe('hello from containerEnv\n');
    await expect
      .poll(async () => (await run('webapp', 'curl -s http://127.0.0.1:8123/')).output, {
        timeout: 30_000,
      })
      .toContain('README.md');
    expect((await run('webapp', 'ls webapp/.created-by-postcreate')).code).not.toBe(0);
  });

  it('from a Dockerfile with a build argument', async () => {
    const url = await repository('built', {
      '.devcontainer.json': JSON.stringify({
        build: { dockerfile: 'Dockerfile', args: { FLAVOUR: 'from a build arg' } },
      }),
      Dockerfile: [
        'FROM studio/base:1',
        'ARG FLAVOUR=default',
        'USER root',
        'RUN echo "$FLAVOUR" > /etc/flavour',
        'USER 1000:1000',
        '',
      ].join('\n'),
    });
    // Through the create dialog, which follows the clone and the build until it can be used.
    const newWorkspace = page.getByRole('button', { name: 'New workspace' });
    await openWhenReady(page, server.origin, newWorkspace);
    await newWorkspace.click();
    const dialog = page.getByRole('dialog', { name: 'New workspace' });
    await dialog.getByLabel('Name').fill('built');
    await dialog.getByLabel('Git repository URL').fill(url);
    await dialog.getByRole('button', { name: 'Create workspace' }).click();
    const progress = page.getByRole('log', { name: 'Progress of built' });
    await expect
      .poll(() => progress.innerText(), { timeout: 10 * 60_000 })
      .toMatch(/Building\s*Step \d+\/\d+ : ARG FLAVOUR=default/);
    await page.screenshot({ path: `${SCREENSHOTS}devcontainer-building.png` });
    await dialog.waitFor({ state: 'hidden', timeout: 10 * 60_000 });
    const item = await settled('built', (current) => current.devcontainer !== undefined);
    expect(item.status, item.statusReason ?? '').toBe('running');
    expect(item.devcontainer?.config).toBe('built/.devcontainer.json');
    expect((await run('built', 'cat /etc/flavour')).output).toBe('from a build arg\n');
    expect((await run('built', 'git -C built log --oneline | wc -l')).output.trim()).toBe('1');
  });

  it('names a feature it cannot fetch, and keeps the repository running without it', async () => {
    const url = await repository('featured', {
      '.devcontainer/devcontainer.json': JSON.stringify({
        image: 'studio/base:1',
        features: { 'ghcr.io/devcontainers/features/node:1': { version: 'lts' } },
      }),
    });
    expect(
      (await api('POST', '/api/workspaces', { name: 'featured', repoUrl: url })).status(),
    ).toBe(201);
    const item = await settled('featured', (current) => current.statusReason !== null);
    expect(item.status).toBe('running');
    expect(item.statusReason).toContain(
      'The feature "ghcr.io/devcontainers/features/node:1" in .devcontainer/devcontainer.json could not be fetched',
    );
    expect(item.devcontainer).toBeUndefined();
    expect((await run('featured', 'ls featured/.devcontainer')).output).toBe('devcontainer.json\n');
  });

  it('moves back onto its template when the built image does not start, saying why', async () => {
    // Builds, but /opt/studio is a file: the engine cannot mount the daemon's runtime there.
    const url = await repository('broken', {
      '.devcontainer.json': JSON.stringify({ build: { dockerfile: 'Dockerfile' } }),
      Dockerfile: [
        'FROM studio/base:1',
        'USER root',
        'RUN rm -rf /opt/studio && touch /opt/studio',
        'USER 1000:1000',
        '',
      ].join('\n'),
    });
    expect((await api('POST', '/api/workspaces', { name: 'broken', repoUrl: url })).status()).toBe(
      201,
    );
    const item = await settled('broken', (current) => current.statusReason !== null);
    expect(item.status, item.statusReason ?? '').toBe('running');
    expect(item.statusReason).toMatch(
      /^Running without the repository's dev container: its image studio-devcontainer\/\S+ did not start\. \S/,
    );
    expect(item.devcontainer).toBeUndefined();
    // On the template's image again, with the repository and the home it had.
    expect((await run('broken', 'test -d "$HOME" && ls broken')).output).toBe('Dockerfile\n');
  });

  it('refuses a config whose build would read the server’s own files', async () => {
    const url = await repository('escape', {
      '.devcontainer/devcontainer.json': JSON.stringify({
        build: { dockerfile: '../../../../etc/passwd' },
      }),
    });
    expect((await api('POST', '/api/workspaces', { name: 'escape', repoUrl: url })).status()).toBe(
      201,
    );
    const item = await settled('escape', (current) => current.statusReason !== null);
    expect(item.status).toBe('running');
    expect(item.statusReason).toContain(
      'build.dockerfile must be a path inside the repository, not "../../../../etc/passwd"',
    );
  });
});
