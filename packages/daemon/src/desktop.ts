import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DaemonParsedParams, DesktopAction } from '@studio/protocol';
import { DaemonFailure } from './errors.ts';
import { openXSession, type XSession } from './x-session.ts';

/** The display desktop templates start Xvfb on, unless the workspace's env names another. */
const DEFAULT_DISPLAY = ':1';
const TOOL_TIMEOUT_MS = 15_000;
/** xdotool types this many characters per call, so a long text neither blocks nor overflows argv. */
const TYPE_CHUNK = 64;
const BUTTON = { left_click: 1, middle_click: 2, right_click: 3 } as const;
const WHEEL = { up: 4, down: 5, left: 6, right: 7 } as const;

/** Run an X tool against the workspace's display; a missing tool or display is `unavailable`. */
function x11(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      {
        env: { ...env, DISPLAY: env.DISPLAY ?? DEFAULT_DISPLAY },
        encoding: 'buffer',
        maxBuffer: 64 * 1024 * 1024,
        timeout: TOOL_TIMEOUT_MS,
      },
      (error, stdout, stderr) => {
        if (!error) return resolve(stdout);
        const code = (error as NodeJS.ErrnoException).code;
        const said = stderr.toString('utf8').trim();
        if (code === 'ENOENT')
          return reject(
            new DaemonFailure(
              'unavailable',
              `this workspace has no desktop: ${command} is not installed`,
            ),
          );
        if (/can't open display|cannot open display|unable to open display/i.test(said))
          return reject(
            new DaemonFailure(
              'unavailable',
              `this workspace has no desktop running (display ${env.DISPLAY ?? DEFAULT_DISPLAY})`,
            ),
          );
        reject(new DaemonFailure('internal', `${command} failed: ${said || error.message}`));
      },
    );
  });
}

const xdotool = (args: string[], env: NodeJS.ProcessEnv) => x11('xdotool', args, env);

async function screenSize(env: NodeJS.ProcessEnv): Promise<{ width: number; height: number }> {
  const [width, height] = (await xdotool(['getdisplaygeometry'], env))
    .toString('utf8')
    .trim()
    .split(/\s+/)
    .map(Number);
  if (!width || !height) throw new DaemonFailure('internal', 'could not read the screen size');
  return { width, height };
}

async function pointer(env: NodeJS.ProcessEnv): Promise<{ x: number; y: number }> {
  const shell = (await xdotool(['getmouselocation', '--shell'], env)).toString('utf8');
  return { x: Number(/X=(\d+)/.exec(shell)?.[1] ?? 0), y: Number(/Y=(\d+)/.exec(shell)?.[1] ?? 0) };
}

/** A PNG of the whole screen, scaled down (never up) to fit the requested box. */
export async function screenshot(
  params: DaemonParsedParams<'desktop.screenshot'>,
  env: NodeJS.ProcessEnv,
) {
  const screen = await screenSize(env);
  const scale = Math.min(
    1,
    (params.maxWidth ?? screen.width) / screen.width,
    (params.maxHeight ?? screen.height) / screen.height,
  );
  const width = Math.max(1, Math.round(screen.width * scale));
  const height = Math.max(1, Math.round(screen.height * scale));
  const resize = scale < 1 ? ['-resize', `${width}x${height}!`] : [];
  const png = await x11('import', ['-window', 'root', ...resize, 'png:-'], env);
  return {
    png: png.toString('base64'),
    width,
    height,
    screenWidth: screen.width,
    screenHeight: screen.height,
  };
}

/**
 * How long a click waits for the window manager to give the clicked window the keyboard focus.
 * It is a bound, not a delay: the wait ends as soon as the X server reports the new focus (a
 * fixed 150 ms lost keys on a loaded machine).
 */
const FOCUS_BOUND_MS = 3_000;
const FOCUS_POLL_MS = 15;
/** Clicks after which a window manager moves the keyboard focus to the window clicked. */
const FOCUSING = new Set(['left_click', 'double_click', 'triple_click']);

/** Where the pointer is after an action, and what the action could not confirm. */
export interface DesktopInputResult {
  x: number;
  y: number;
  /** Set when the action's effect could not be confirmed (keys that may have gone elsewhere). */
  warning?: string;
}

function displayOf(env: NodeJS.ProcessEnv): string {
  return env.DISPLAY ?? DEFAULT_DISPLAY;
}

async function withX<T>(env: NodeJS.ProcessEnv, use: (x: XSession) => Promise<T>): Promise<T> {
  const x = await openXSession(displayOf(env));
  try {
    return await use(x);
  } finally {
    x.close();
  }
}

/**
 * After a click: waits until the window under the pointer holds the keyboard focus, so keys typed
 * next reach it. Answers why not when that does not happen within the bound.
 */
async function awaitFocus(env: NodeJS.ProcessEnv, at: { x: number; y: number }) {
  return withX(env, async (x) => {
    const deadline = performance.now() + FOCUS_BOUND_MS;
    for (;;) {
      const [under, focused] = await Promise.all([x.windowUnderPointer(), x.focusedWindow()]);
      if (under === 0)
        return `there is no window at ${at.x},${at.y} (the click landed on the desktop background); take a screenshot to see where windows are`;
      if (under === focused) return undefined;
      if (performance.now() > deadline)
        return `the window at ${at.x},${at.y} did not take the keyboard focus within ${FOCUS_BOUND_MS / 1000} s; keys typed next may go to another window. Take a screenshot before typing`;
      await sleep(FOCUS_POLL_MS);
    }
  });
}

/** Runs `send` (keys or text) and says whether they could have gone to the window that had the focus. */
async function sendKeys(env: NodeJS.ProcessEnv, send: () => Promise<void>) {
  const before = await withX(env, (x) => x.focusedWindow());
  await send();
  if (before === 0)
    return 'no window had the keyboard focus, so the keys went nowhere; click into a window first';
  const after = await withX(env, (x) => x.focusedWindow());
  if (after !== before)
    return 'the keyboard focus moved to another window while typing; some keys may have gone there. Take a screenshot to check';
  return undefined;
}

/**
 * One mouse, keyboard or wait action; answers where the pointer is afterwards, and a warning
 * when its effect could not be confirmed. Moves are not `--sync`: Debian's xdotool then waits
 * for a motion that never comes when the pointer is already there (a second click on the same
 * spot hung until the tool timeout). The X server handles the move and the click after it in
 * order, so the click lands where the pointer went.
 */
export async function desktopInput(
  action: DesktopAction,
  env: NodeJS.ProcessEnv,
): Promise<DesktopInputResult> {
  let warning: string | undefined;
  switch (action.action) {
    case 'mouse_move':
      await xdotool(['mousemove', String(action.x), String(action.y)], env);
      break;
    case 'left_click':
    case 'middle_click':
    case 'right_click':
    case 'double_click':
    case 'triple_click': {
      const button = action.action in BUTTON ? BUTTON[action.action as keyof typeof BUTTON] : 1;
      const repeat =
        action.action === 'double_click' ? 2 : action.action === 'triple_click' ? 3 : 1;
      const held = action.hold ? action.hold.split('+').filter(Boolean) : [];
      const args = [
        ...(action.x !== undefined && action.y !== undefined
          ? ['mousemove', String(action.x), String(action.y)]
          : []),
        ...(held.length ? ['keydown', ...held] : []),
        'click',
        '--repeat',
        String(repeat),
        '--delay',
        '80',
        String(button),
        ...(held.length ? ['keyup', ...held] : []),
      ];
      await xdotool(args, env);
      // The window manager moves the focus after it sees the click: keys typed before that
      // would still go to the old window.
      if (FOCUSING.has(action.action)) warning = await awaitFocus(env, await pointer(env));
      break;
    }
    case 'left_click_drag':
      await xdotool(
        [
          'mousemove',
          String(action.startX),
          String(action.startY),
          'mousedown',
          '1',
          'mousemove',
          String(action.x),
          String(action.y),
          'mouseup',
          '1',
        ],
        env,
      );
      break;
    case 'scroll':
      await xdotool(
        [
          'mousemove',
          String(action.x),
          String(action.y),
          'click',
          '--repeat',
          String(action.amount),
          '--delay',
          '30',
          String(WHEEL[action.direction]),
        ],
        env,
      );
      break;
    case 'key':
      // Space-separated combos press in sequence ("ctrl+a Delete").
      warning = await sendKeys(env, async () => {
        await xdotool(
          ['key', '--clearmodifiers', '--delay', '30', ...action.keys.split(/\s+/).filter(Boolean)],
          env,
        );
      });
      break;
    case 'type':
      warning = await sendKeys(env, async () => {
        for (let at = 0; at < action.text.length; at += TYPE_CHUNK)
          await xdotool(
            ['type', '--delay', '8', '--', action.text.slice(at, at + TYPE_CHUNK)],
            env,
          );
      });
      break;
    case 'cursor_position':
      break;
    case 'wait':
      await sleep(action.ms);
      break;
  }
  const at = await pointer(env);
  return warning === undefined ? at : { ...at, warning };
}

/** The windows the desktop's window manager shows, and which one has the keyboard focus. */
export async function desktopWindows(env: NodeJS.ProcessEnv) {
  return withX(env, async (x) => {
    const [clients, focused] = await Promise.all([x.clients(), x.focusedWindow()]);
    return {
      windows: clients.map(({ topLevel, type, title }) => ({
        type,
        title,
        focused: focused !== 0 && topLevel === focused,
      })),
    };
  });
}
