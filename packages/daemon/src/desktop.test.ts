import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonFailure } from './errors.ts';
import { desktopInput, screenshot } from './desktop.ts';

// A real X server (Xvfb) with the same tools desktop images carry. CI installs them; elsewhere
// the suite says why it skips.
const tools = ['Xvfb', 'openbox', 'xdotool', 'import'].filter(
  (tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0,
);
if (tools.length && process.env.CI === 'true')
  throw new Error(
    `CI needs ${tools.join(', ')} for the desktop tests (apt: xvfb openbox xdotool imagemagick)`,
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
    expect(await desktopInput({ action: 'mouse_move', x: 100, y: 200 }, env)).toEqual({
      x: 100,
      y: 200,
    });
    expect(await desktopInput({ action: 'double_click', x: 300, y: 310 }, env)).toEqual({
      x: 300,
      y: 310,
    });
    expect(await desktopInput({ action: 'left_click', hold: 'shift' }, env)).toEqual({
      x: 300,
      y: 310,
    });
    expect(
      await desktopInput({ action: 'left_click_drag', startX: 10, startY: 10, x: 50, y: 60 }, env),
    ).toEqual({ x: 50, y: 60 });
    expect(
      await desktopInput({ action: 'scroll', x: 400, y: 400, direction: 'down', amount: 2 }, env),
    ).toEqual({
      x: 400,
      y: 400,
    });
    expect(await desktopInput({ action: 'cursor_position' }, env)).toEqual({ x: 400, y: 400 });
    // A click where the pointer already is (xdotool's `mousemove --sync` waited forever there).
    expect(await desktopInput({ action: 'left_click', x: 400, y: 400 }, env)).toEqual({
      x: 400,
      y: 400,
    });
    await desktopInput({ action: 'key', keys: 'ctrl+a Escape' }, env);
    await desktopInput({ action: 'type', text: 'x'.repeat(150) }, env);
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
