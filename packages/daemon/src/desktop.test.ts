import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonFailure } from './errors.ts';
import { desktopInput, desktopWindows, screenshot } from './desktop.ts';

// A real X server (Xvfb) with the same tools desktop images carry. CI installs them; elsewhere
// the suite says why it skips.
const tools = ['Xvfb', 'openbox', 'xdotool', 'import', 'xterm'].filter(
  (tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0,
);
if (tools.length && process.env.CI === 'true')
  throw new Error(
    `CI needs ${tools.join(', ')} for the desktop tests (apt: xvfb openbox xdotool imagemagick xterm)`,
  );
if (tools.length) console.warn(`[desktop] skipping: ${tools.join(', ')} not installed`);

const DISPLAY = `:${90 + (process.pid % 9)}`;
const env = { ...process.env, DISPLAY };
let xvfb: ChildProcess;
let windowManager: ChildProcess;

/** Width and height from a PNG's IHDR chunk. */
function pngSize(base64: string): { width: number; height: number } {
  const bytes = Buffer.from(base64, 'base64');
  expect(bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

describe.skipIf(tools.length > 0)('desktop operations on a real X server', () => {
  beforeAll(async () => {
    xvfb = spawn('Xvfb', [DISPLAY, '-screen', '0', '1280x800x24', '-nolisten', 'tcp'], {
      stdio: 'ignore',
    });
    const socket = `/tmp/.X11-unix/X${DISPLAY.slice(1)}`;
    for (let i = 0; i < 100 && !existsSync(socket); i++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    // As in a desktop workspace: without a window manager Xvfb ignores pointer warps.
    windowManager = spawn('openbox', [], { env, stdio: 'ignore' });
    await new Promise((resolve) => setTimeout(resolve, 500));
  });
  afterAll(() => {
    windowManager?.kill();
    xvfb?.kill();
  });

  it('takes a screenshot, scaled to fit and never up, with the sizes to map coordinates back', async () => {
    const full = await screenshot({}, env);
    expect(full).toMatchObject({ width: 1280, height: 800, screenWidth: 1280, screenHeight: 800 });
    expect(pngSize(full.png)).toEqual({ width: 1280, height: 800 });
    const small = await screenshot({ maxWidth: 640, maxHeight: 640 }, env);
    expect(small).toMatchObject({ width: 640, height: 400, screenWidth: 1280, screenHeight: 800 });
    expect(pngSize(small.png)).toEqual({ width: 640, height: 400 });
    const big = await screenshot({ maxWidth: 4000 }, env);
    expect(big).toMatchObject({ width: 1280, height: 800 });
  });

  it('moves, clicks, drags and scrolls the pointer, and reports where it is', async () => {
    expect(await desktopInput({ action: 'mouse_move', x: 100, y: 200 }, env)).toMatchObject({
      x: 100,
      y: 200,
    });
    expect(await desktopInput({ action: 'double_click', x: 300, y: 310 }, env)).toMatchObject({
      x: 300,
      y: 310,
    });
    expect(await desktopInput({ action: 'left_click', hold: 'shift' }, env)).toMatchObject({
      x: 300,
      y: 310,
    });
    expect(
      await desktopInput({ action: 'left_click_drag', startX: 10, startY: 10, x: 50, y: 60 }, env),
    ).toMatchObject({ x: 50, y: 60 });
    expect(
      await desktopInput({ action: 'scroll', x: 400, y: 400, direction: 'down', amount: 2 }, env),
    ).toMatchObject({
      x: 400,
      y: 400,
    });
    expect(await desktopInput({ action: 'cursor_position' }, env)).toMatchObject({
      x: 400,
      y: 400,
    });
    // Over the bare desktop a click says so.
    expect((await desktopInput({ action: 'left_click' }, env)).warning).toMatch(/no window/);
    // A click where the pointer already is (xdotool's `mousemove --sync` waited forever there).
    expect(await desktopInput({ action: 'left_click', x: 400, y: 400 }, env)).toMatchObject({
      x: 400,
      y: 400,
    });
    await desktopInput({ action: 'key', keys: 'ctrl+a Escape' }, env);
    await desktopInput({ action: 'type', text: 'x'.repeat(150) }, env);
  });

  describe('keys reach the window that was clicked', () => {
    // Two terminals side by side, each writing what is typed into it to a file of its own.
    const dir = mkdtempSync(join(tmpdir(), 'studio-desktop-'));
    const files = [join(dir, 'left.txt'), join(dir, 'right.txt')];
    const spots = [
      { x: 200, y: 150 },
      { x: 900, y: 150 },
    ];
    let terminals: ChildProcess[] = [];
    const typed: string[][] = [[], []];

    beforeAll(async () => {
      terminals = [
        spawn('xterm', ['-geometry', '60x20+40+40', '-e', 'sh', '-c', `cat > ${files[0]}`], {
          env,
        }),
        spawn('xterm', ['-geometry', '60x20+700+40', '-e', 'sh', '-c', `cat > ${files[1]}`], {
          env,
        }),
      ];
      for (let i = 0; i < 200 && (await desktopWindows(env)).windows.length < 2; i++)
        await new Promise((resolve) => setTimeout(resolve, 50));
    });
    afterAll(() => {
      for (const terminal of terminals) terminal.kill();
      rmSync(dir, { recursive: true, force: true });
    });

    const lines = (file: string) =>
      existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];

    async function clickAndType(side: 0 | 1, line: string, beforeTyping?: () => void) {
      const click = await desktopInput({ action: 'left_click', ...spots[side]! }, env);
      beforeTyping?.();
      const type = await desktopInput({ action: 'type', text: `${line}\n` }, env);
      typed[side]!.push(line);
      return { click, type };
    }

    it('lists the windows with the focused one', async () => {
      await desktopInput({ action: 'left_click', ...spots[1]! }, env);
      const { windows } = await desktopWindows(env);
      expect(windows.map((window) => window.type)).toEqual(['normal', 'normal']);
      expect(windows.filter((window) => window.focused)).toHaveLength(1);
    });

    it('waits for a window manager that is slow to move the focus', async () => {
      // The window manager is held still while it should move the focus, as a loaded machine
      // does to it: the click waits for the focus to arrive and says nothing went wrong.
      const windowManagerPid = windowManager.pid!;
      for (const side of [0, 1, 0] as const) {
        const held = new Promise<void>((resolve) => {
          process.kill(windowManagerPid, 'SIGSTOP');
          setTimeout(() => {
            process.kill(windowManagerPid, 'SIGCONT');
            resolve();
          }, 600);
        });
        const clicked = desktopInput({ action: 'left_click', ...spots[side]! }, env);
        await held;
        expect((await clicked).warning).toBeUndefined();
        const line = `slow-window-manager-${side}-${typed[side]!.length}`;
        expect(
          (await desktopInput({ action: 'type', text: `${line}\n` }, env)).warning,
        ).toBeUndefined();
        typed[side]!.push(line);
      }
      await expect.poll(() => lines(files[0]!)).toEqual(typed[0]);
      await expect.poll(() => lines(files[1]!)).toEqual(typed[1]);
    });

    it('types into the clicked window with every core busy', async () => {
      const busy = cpus().map(() =>
        spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' }),
      );
      try {
        for (let round = 0; round < 10; round++) {
          const side = (round % 2) as 0 | 1;
          const { click, type } = await clickAndType(side, `busy-round-${round}`);
          expect(click.warning).toBeUndefined();
          expect(type.warning).toBeUndefined();
        }
      } finally {
        for (const loop of busy) loop.kill('SIGKILL');
      }
      await expect.poll(() => lines(files[0]!)).toEqual(typed[0]);
      await expect.poll(() => lines(files[1]!)).toEqual(typed[1]);
    });

    it('says when a click hits no window, and when keys may have gone elsewhere', async () => {
      const empty = await desktopInput({ action: 'left_click', x: 1000, y: 700 }, env);
      expect(empty.warning).toMatch(/no window at 1000,700/);
      // Keys typed while the focus moves to another window (typing 200 keys takes over 1.6 s).
      let moved: Promise<unknown> = Promise.resolve();
      const { type } = await clickAndType(0, 'y'.repeat(200), () => {
        moved = new Promise((resolve) => setTimeout(resolve, 300)).then(() =>
          desktopInput({ action: 'left_click', ...spots[1]! }, env),
        );
      });
      await moved;
      expect(type.warning).toMatch(/focus moved to another window while typing/);
    });
  });

  it('says clearly when there is no desktop', async () => {
    const failure = await screenshot({}, { ...process.env, DISPLAY: ':77' }).catch(
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(DaemonFailure);
    expect(failure).toMatchObject({ code: 'unavailable' });
    expect((failure as Error).message).toMatch(/no desktop running \(display :77\)/);
  });
});
