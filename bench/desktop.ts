// Desktop metrics for `npm run bench -- desktop`: a `desktop` workspace from create to a VNC
// server answering through the server, a screenshot round trip, and a click until the VNC stream
// shows it. Each sits beside the bare engine doing the nearest job in the same run.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { DesktopAction, Template } from '@studio/protocol';
import {
  DockerRuntime,
  buildTemplateImage,
  defaultCacheDir,
  engineAnswers,
  loadTemplate,
  openEngine,
  type DaemonConnection,
} from '@studio/runtime';
import WebSocket from 'ws';
import { percentile, spawnServer, stopServer, waitForReady } from './processes.ts';
import { apiFor, ensureBenchBridge } from './workspaces.ts';

/** One measured figure, optionally beside its baseline or the reason there is none. */
export interface DesktopMetric {
  value: number;
  unit: string;
  baseline?: number;
  baselineUnavailable?: string;
}

const execFileAsync = promisify(execFile);
const IMAGES_DIR = fileURLToPath(new URL('../images', import.meta.url));
const ADMIN = { email: 'bench-desktop@example.com', password: 'bench-password-0123' };
const CREATE_RUNS = 5;
const SCREENSHOT_RUNS = 30;
const CLICK_RUNS = 25;
/** Unmeasured first runs: the first X tool calls and VNC scans warm caches. */
const WARMUP = 3;
/** No framebuffer update for this long: whatever the last action changed has been sent. */
const QUIET_MS = 300;
/**
 * Where the click lands: bare root window, right of the xterm openbox autostarts at 40,40 and
 * above the panel. A right click there opens openbox's root menu with its corner at the pointer.
 */
const CLICK = { x: 700, y: 250 };
/**
 * A point inside that menu but outside the 32×32 tiles x11vnc sends for anything at the pointer
 * itself, so an update covering it is the menu, not the cursor.
 */
const MENU_POINT = { x: CLICK.x + 60, y: CLICK.y + 45 };
/**
 * Where the pointer waits between clicks, below the menu. Each click moves from here, as an
 * agent's click with coordinates does; a click where the pointer already is would hang (below).
 */
const PARK = { x: CLICK.x, y: CLICK.y + 250 };
// Connects to 5900 until the RFB banner arrives, inside the container: the bare engine's nearest
// "VNC ready" (x11vnc listens on the container's loopback only, as in a workspace).
const RFB_PROBE = `
import socket, time
while True:
    try:
        s = socket.create_connection(('127.0.0.1', 5900), timeout=1)
        banner = s.recv(12)
        if banner.startswith(b'RFB '):
            print(banner.decode().strip())
            break
    except OSError:
        pass
    time.sleep(0.02)
`;

function log(message: string): void {
  process.stderr.write(`bench: desktop: ${message}\n`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Measure everything; `serverMain` is the built server, `runtimeDir` the daemon runtime. */
export async function measureDesktop(
  tmp: string,
  serverMain: string,
  runtimeDir: string,
): Promise<Record<string, DesktopMetric>> {
  const dockerHost = process.env.DOCKER_HOST;
  const docker = await openEngine(dockerHost);
  if (!(await engineAnswers(docker))) {
    log('no Docker Engine answers (set DOCKER_HOST); skipping the desktop figures');
    return {};
  }
  const template = await loadTemplate(IMAGES_DIR, 'desktop');
  log(`ensuring ${template.image.ref} (a build takes several minutes when it is missing)`);
  const image = await buildTemplateImage({
    docker,
    template,
    imagesDir: IMAGES_DIR,
    cacheDir: defaultCacheDir(process.env, homedir()),
    onProgress: (stage, detail) => log(`image: ${stage}${detail ? ` ${detail}` : ''}`),
  });
  log(`${image.ref}: ${image.source} in ${Math.round(image.durationMs)} ms`);

  log(`bare engine: docker run of the desktop until its VNC answers, ${CREATE_RUNS} runs`);
  const bridge = await ensureBenchBridge(docker);
  const bareReady: number[] = [];
  for (let run = 0; run < CREATE_RUNS; run++) {
    const name = `studio-bench-desktop-${process.pid}-${run}`;
    const began = performance.now();
    try {
      docker_(['run', '-d', '--name', name, '--network', bridge, ...runArgs(template)]);
      const banner = docker_(['exec', name, 'python3', '-c', RFB_PROBE]);
      if (!banner.startsWith('RFB ')) throw new Error(`no RFB banner from ${name}: ${banner}`);
      bareReady.push(performance.now() - began);
    } finally {
      execFileSync('docker', ['rm', '-f', name], { stdio: 'ignore' });
    }
  }

  const dataDir = await mkdtemp(join(tmp, 'desktop-'));
  const server = await spawnServer(serverMain, {
    STUDIO_DATA_DIR: dataDir,
    STUDIO_ADMIN_EMAIL: ADMIN.email,
    STUDIO_ADMIN_PASSWORD: ADMIN.password,
    STUDIO_RUNTIME: 'docker',
    ...(dockerHost ? { DOCKER_HOST: dockerHost } : {}),
  });
  // The server's own driver state (see apps/server/src/main.ts): this runtime only reaches the
  // daemons of workspaces the server made, and removes them if the server could not.
  const runtime = new DockerRuntime({ docker, runtimeDir, stateDir: join(dataDir, 'docker') });
  const created = new Map<string, string>();
  let api: Awaited<ReturnType<typeof apiFor>> | undefined;
  let daemon: DaemonConnection | undefined;
  let viewer: RfbViewer | undefined;
  let remove = async (_name: string) => {};
  let events: WebSocket | undefined;
  try {
    await waitForReady(server);
    api = await apiFor(server.url, ADMIN);
    const session = { url: server.url, cookie: api.cookie };
    const idOf = async (name: string) =>
      (JSON.parse(await api!.call('GET', `/api/workspaces/${name}`)) as { id: string }).id;
    // GET answers 404 as soon as a delete begins; the server says `workspace.deleted` once the
    // container, its volume and its disk are gone, so the next run meets a quiet engine.
    events = openSocket(session, '/api/events');
    const deleted = new Set<string>();
    events.on('message', (data: Buffer) => {
      const event = JSON.parse(data.toString('utf8')) as { type: string; name?: string };
      if (event.type === 'workspace.deleted' && event.name) deleted.add(event.name);
    });
    await new Promise((resolve, reject) => {
      events!.once('message', resolve);
      events!.once('error', reject);
    });
    remove = async (name: string) => {
      await api!.call('DELETE', `/api/workspaces/${name}`);
      for (let i = 0; i < 1200 && !deleted.has(name); i++) await sleep(50);
      if (!deleted.has(name)) throw new Error(`the server did not delete ${name} within 60 s`);
      created.delete(name);
    };

    log(`create → running → VNC banner through the server, ${CREATE_RUNS} runs`);
    const running: number[] = [];
    const vncReady: number[] = [];
    for (let run = 0; run < CREATE_RUNS; run++) {
      const name = `desk-${run}`;
      const began = performance.now();
      created.set(name, '');
      running.push(await api.createAndWait(name, 'desktop'));
      created.set(name, await idOf(name));
      await vncBanner(session, name);
      vncReady.push(performance.now() - began);
      await remove(name);
    }

    created.set('desk', '');
    await api.createAndWait('desk', 'desktop');
    const id = await idOf('desk');
    created.set('desk', id);
    daemon = await runtime.connect(id);
    const [container] = await docker.listContainers({
      filters: { label: [`studio.workspace=${id}`] },
    });
    if (!container) throw new Error(`no container for workspace ${id}`);
    // The desktop comes up in the background after the daemon: wait until it can be screenshot.
    await vncBanner(session, 'desk');
    for (let i = 0; i < 100; i++) {
      if (await daemon.call('desktop.screenshot', {}).then(Boolean, () => false)) break;
      await sleep(100);
    }

    log(`desktop.screenshot (full screen) vs docker exec import, ${SCREENSHOT_RUNS} runs`);
    const shots: number[] = [];
    for (let run = 0; run < WARMUP + SCREENSHOT_RUNS; run++) {
      const began = performance.now();
      const shot = await daemon.call('desktop.screenshot', {});
      if (run >= WARMUP) shots.push(performance.now() - began);
      if (shot.width !== shot.screenWidth) throw new Error('the screenshot was scaled');
    }
    const bareShots: number[] = [];
    for (let run = 0; run < WARMUP + SCREENSHOT_RUNS; run++) {
      const began = performance.now();
      execFileSync(
        'docker',
        ['exec', '-e', 'DISPLAY=:1', container.Id, 'import', '-window', 'root', 'png:-'],
        { maxBuffer: 64 * 1024 * 1024 },
      );
      if (run >= WARMUP) bareShots.push(performance.now() - began);
    }

    log(`right click → root menu in the VNC stream, ${CLICK_RUNS} runs each way`);
    viewer = await RfbViewer.open(session, 'desk');
    const input = (action: DesktopAction) => daemon!.call('desktop.input', action);
    const clicks = await clickToVisible(viewer, input, () =>
      input({ action: 'right_click', ...CLICK }),
    );
    // The same xdotool command the daemon runs for that click, by a bare `docker exec`; async,
    // so the viewer keeps reading while it runs.
    const bareClicks = await clickToVisible(viewer, input, () =>
      execFileAsync('docker', [
        'exec',
        '-e',
        'DISPLAY=:1',
        container.Id,
        'xdotool',
        'mousemove',
        '--sync',
        String(CLICK.x),
        String(CLICK.y),
        'click',
        '3',
      ]),
    );

    return {
      desktop_create_running_p50_ms: { value: percentile(running, 50), unit: 'ms' },
      desktop_create_vnc_ready_p50_ms: {
        value: percentile(vncReady, 50),
        unit: 'ms',
        baseline: percentile(bareReady, 50),
      },
      desktop_screenshot_p50_ms: {
        value: percentile(shots, 50),
        unit: 'ms',
        baseline: percentile(bareShots, 50),
      },
      desktop_screenshot_p95_ms: {
        value: percentile(shots, 95),
        unit: 'ms',
        baseline: percentile(bareShots, 95),
      },
      desktop_click_visible_p50_ms: {
        value: percentile(clicks, 50),
        unit: 'ms',
        baseline: percentile(bareClicks, 50),
      },
      desktop_click_visible_p95_ms: {
        value: percentile(clicks, 95),
        unit: 'ms',
        baseline: percentile(bareClicks, 95),
      },
    };
  } finally {
    viewer?.close();
    daemon?.close();
    for (const name of [...created.keys()]) {
      await remove(name).catch((error: Error) => log(`could not delete ${name}: ${error.message}`));
    }
    events?.terminate();
    await stopServer(server.child);
    // What the server could not delete goes by its id, now that nothing else is removing it.
    for (const [name, id] of created) {
      if (id) await runtime.remove(id).catch((error: Error) => log(`${name}: ${error.message}`));
    }
    await runtime.close();
  }
}

/** `docker run` arguments for the template's image, environment, resources and start commands. */
function runArgs(template: Template): string[] {
  const { cpus, memoryMiB } = template.resources;
  return [
    ...Object.entries(template.env).flatMap(([key, value]) => ['-e', `${key}=${value}`]),
    '--cpus',
    String(cpus),
    '--memory',
    `${memoryMiB}m`,
    template.image.ref,
    'sh',
    '-c',
    template.startCommands.join('\n'),
  ];
}

/** `docker …`, its trimmed stdout. */
function docker_(args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }).trim();
}

/** The server and a signed-in session's cookie. */
interface ServerSession {
  url: string;
  cookie: string;
}

function openSocket({ url, cookie }: ServerSession, path: string): WebSocket {
  return new WebSocket(`${url.replace('http', 'ws')}${path}`, { headers: { origin: url, cookie } });
}

function openVnc(target: ServerSession, name: string): WebSocket {
  return openSocket(target, `/api/workspaces/${name}/desktop/vnc`);
}

/** Opens the desktop socket until the RFB server's banner comes through it. */
async function vncBanner(target: ServerSession, name: string, timeoutMs = 60_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const socket = openVnc(target, name);
    const banner = await new Promise<string | null>((resolve) => {
      socket.once('message', (data: Buffer) => resolve(data.toString('latin1')));
      // Closed with 4503 while nothing listens on the VNC port yet.
      socket.once('close', () => resolve(null));
      socket.once('error', () => resolve(null));
    });
    socket.terminate();
    if (banner?.startsWith('RFB 003.')) return;
    await sleep(20);
  }
  throw new Error(`no RFB banner from ${name} within ${timeoutMs} ms`);
}

/**
 * Clicks (`click`), then times until the VNC stream shows the root menu; closes it with Escape
 * and waits until the screen is quiet again before the next click, so no stale update counts.
 */
async function clickToVisible(
  viewer: RfbViewer,
  input: (action: DesktopAction) => Promise<unknown>,
  click: () => Promise<unknown>,
): Promise<number[]> {
  const times: number[] = [];
  for (let run = 0; run < WARMUP + CLICK_RUNS; run++) {
    // xdotool 3.20160805's `mousemove --sync` to where the pointer already is waits for a motion
    // that never comes (the daemon's 15 s tool timeout ends it): always click from elsewhere.
    await input({ action: 'mouse_move', ...PARK });
    await viewer.quiet(QUIET_MS);
    const began = performance.now();
    const shown = viewer.covered(MENU_POINT);
    // Settled before it is awaited, should the click itself fail.
    shown.catch(() => {});
    await click();
    const at = await shown;
    if (run >= WARMUP) times.push(at - began);
    await input({ action: 'key', keys: 'Escape' });
  }
  return times;
}

interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Just enough of an RFB 3.8 viewer (security None, Raw encoding) to know when a framebuffer
 * update covering a point has fully arrived; it keeps an incremental update request outstanding.
 */
class RfbViewer {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private waiting: (() => void) | null = null;
  private failure: Error | null = null;
  private lastUpdateAt = performance.now();
  private watchers = new Set<(rect: Rect, at: number) => void>();
  private size = { width: 0, height: 0 };

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data: Buffer) => {
      this.chunks.push(data);
      this.buffered += data.byteLength;
      this.waiting?.();
    });
    socket.on('close', (code, reason) => this.fail(new Error(`VNC closed: ${code} ${reason}`)));
  }

  static async open(target: ServerSession, name: string): Promise<RfbViewer> {
    const viewer = new RfbViewer(openVnc(target, name));
    const ready = await viewer.handshake();
    const firstFrame = viewer.covered({ x: 0, y: 0 });
    void viewer.readUpdates(ready.bytesPerPixel).catch((error: Error) => viewer.fail(error));
    await firstFrame;
    return viewer;
  }

  /** Resolves with the time the first update covering `point` from now has fully arrived. */
  covered(point: { x: number; y: number }, timeoutMs = 5_000): Promise<number> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.watchers.delete(watch);
        reject(new Error(`no VNC update covered ${point.x},${point.y} within ${timeoutMs} ms`));
      }, timeoutMs);
      const watch = (rect: Rect, at: number) => {
        const inside =
          point.x >= rect.x &&
          point.x < rect.x + rect.width &&
          point.y >= rect.y &&
          point.y < rect.y + rect.height;
        if (!inside) return;
        clearTimeout(timer);
        this.watchers.delete(watch);
        resolve(at);
      };
      this.watchers.add(watch);
    });
  }

  /** Waits until no update has arrived for `ms`. */
  async quiet(ms: number, timeoutMs = 10_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() - this.lastUpdateAt < ms) {
      if (this.failure) throw this.failure;
      if (performance.now() > deadline) throw new Error(`the screen did not settle for ${ms} ms`);
      await sleep(20);
    }
  }

  close(): void {
    this.socket.terminate();
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.waiting?.();
  }

  private send(bytes: number[] | Buffer): void {
    this.socket.send(Buffer.from(bytes));
  }

  private async read(length: number): Promise<Buffer> {
    while (this.buffered < length) {
      if (this.failure) throw this.failure;
      await new Promise<void>((resolve) => (this.waiting = resolve));
      this.waiting = null;
    }
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const rest = all.subarray(length);
    this.chunks = rest.byteLength > 0 ? [rest] : [];
    this.buffered = rest.byteLength;
    return all.subarray(0, length);
  }

  private async handshake(): Promise<{ bytesPerPixel: number }> {
    const version = (await this.read(12)).toString('latin1');
    if (!version.startsWith('RFB 003.')) throw new Error(`not an RFB server: ${version}`);
    this.send(Buffer.from('RFB 003.008\n'));
    const types = await this.read((await this.read(1))[0]!);
    // x11vnc runs with -nopw: security type 1, None.
    if (!types.includes(1)) throw new Error(`VNC offers no "None" security: ${[...types]}`);
    this.send([1]);
    if ((await this.read(4)).readUInt32BE(0) !== 0) throw new Error('VNC refused security None');
    this.send([1]); // ClientInit: shared, as the product's viewer is.
    const init = await this.read(24);
    await this.read(init.readUInt32BE(20));
    // SetEncodings: Raw only, so every rectangle's size follows from its width and height.
    this.send([2, 0, 0, 1, 0, 0, 0, 0]);
    this.size = { width: init.readUInt16BE(0), height: init.readUInt16BE(2) };
    this.request(false);
    return { bytesPerPixel: init[4]! / 8 };
  }

  /** FramebufferUpdateRequest for the whole screen. */
  private request(incremental: boolean): void {
    const message = Buffer.alloc(10);
    message[0] = 3;
    message[1] = incremental ? 1 : 0;
    message.writeUInt16BE(this.size.width, 6);
    message.writeUInt16BE(this.size.height, 8);
    this.send(message);
  }

  private async readUpdates(bytesPerPixel: number): Promise<void> {
    for (;;) {
      const type = (await this.read(1))[0];
      if (type === 0) {
        const count = (await this.read(3)).readUInt16BE(1);
        for (let index = 0; index < count; index++) {
          const header = await this.read(12);
          const rect = {
            x: header.readUInt16BE(0),
            y: header.readUInt16BE(2),
            width: header.readUInt16BE(4),
            height: header.readUInt16BE(6),
          };
          const encoding = header.readInt32BE(8);
          if (encoding !== 0) throw new Error(`VNC sent encoding ${encoding}, asked for Raw`);
          await this.read(rect.width * rect.height * bytesPerPixel);
          const at = performance.now();
          this.lastUpdateAt = at;
          for (const watch of [...this.watchers]) watch(rect, at);
        }
        this.request(true);
      } else if (type === 1) {
        const colours = (await this.read(5)).readUInt16BE(3);
        await this.read(colours * 6);
      } else if (type === 3) {
        await this.read((await this.read(7)).readUInt32BE(3));
      } else if (type !== 2) {
        throw new Error(`unknown VNC server message ${type}`);
      }
    }
  }
}
