import type { DaemonMethod, DaemonParams } from '@studio/protocol';
import { describe, expect, it } from 'vitest';
import { computerSubject, computerTool, type ComputerInput } from './computer.ts';
import { ToolError, type ToolContext, type ToolDaemon } from './tool.ts';

// The desktop itself (xdotool, the X server) is tested in the daemon; here a fake desktop that
// records what the tool asked of it, with a screen larger than the display the model sees.
const PNG = 'iVBORw0KGgo=';

function fakeDesktop(screen = { width: 1920, height: 1080 }, warning?: string) {
  const calls: Array<{ method: DaemonMethod; params: unknown }> = [];
  let pointer = { x: 0, y: 0 };
  const daemon = {
    async call<M extends DaemonMethod>(method: M, params: DaemonParams<M>) {
      calls.push({ method, params });
      if (method === 'desktop.screenshot') {
        const { maxWidth = screen.width, maxHeight = screen.height } =
          params as DaemonParams<'desktop.screenshot'>;
        const scale = Math.min(1, maxWidth / screen.width, maxHeight / screen.height);
        return {
          png: PNG,
          width: Math.round(screen.width * scale),
          height: Math.round(screen.height * scale),
          screenWidth: screen.width,
          screenHeight: screen.height,
        };
      }
      const action = params as DaemonParams<'desktop.input'>;
      if ('x' in action && action.x !== undefined && action.y !== undefined)
        pointer = { x: action.x, y: action.y };
      return warning && action.action !== 'cursor_position' ? { ...pointer, warning } : pointer;
    },
    open: () => Promise.reject(new Error('not used')),
  } as unknown as ToolDaemon;
  const context = { daemon, signal: new AbortController().signal } as ToolContext;
  const inputs = () =>
    calls.filter((call) => call.method === 'desktop.input').map((call) => call.params);
  return { calls, context, inputs };
}

const run = (input: ComputerInput, context: ToolContext, tool = computerTool()) =>
  tool.execute(tool.inputSchema.parse(input), context);

describe('computer', () => {
  it('shows the model a screenshot scaled to the display, saying both sizes', async () => {
    const desktop = fakeDesktop();
    const result = await run({ action: 'screenshot' }, desktop.context);
    expect(result).toEqual({
      text: 'screenshot 1280×720 (screen 1920×1080)',
      image: { base64: PNG, mediaType: 'image/png' },
    });
    expect(desktop.calls[0]).toEqual({
      method: 'desktop.screenshot',
      params: { maxWidth: 1280, maxHeight: 800 },
    });
  });

  it('maps the screenshot’s coordinates to the screen’s, and the pointer back', async () => {
    const desktop = fakeDesktop();
    const tool = computerTool();
    await run({ action: 'screenshot' }, desktop.context, tool);
    const clicked = await run(
      { action: 'left_click', coordinate: [640, 360], text: 'shift' },
      desktop.context,
      tool,
    );
    await run(
      { action: 'left_click_drag', start_coordinate: [0, 0], coordinate: [1279, 719] },
      desktop.context,
      tool,
    );
    await run(
      { action: 'scroll', coordinate: [100, 100], scroll_direction: 'down' },
      desktop.context,
      tool,
    );
    expect(clicked).toBe('left_click done; pointer at 640,360');
    expect(desktop.inputs()).toEqual([
      { action: 'left_click', x: 960, y: 540, hold: 'shift' },
      { action: 'left_click_drag', startX: 0, startY: 0, x: 1919, y: 1079 },
      { action: 'scroll', x: 150, y: 150, direction: 'down', amount: 3 },
    ]);
    expect(await run({ action: 'cursor_position' }, desktop.context, tool)).toBe('X=100,Y=100');
  });

  it('learns the scale with one screenshot when the model clicks before looking', async () => {
    const desktop = fakeDesktop({ width: 2560, height: 1600 });
    await run({ action: 'double_click', coordinate: [1279, 799] }, desktop.context);
    expect(desktop.calls.map((call) => call.method)).toEqual([
      'desktop.screenshot',
      'desktop.input',
    ]);
    expect(desktop.inputs()).toEqual([{ action: 'double_click', x: 2558, y: 1598 }]);
  });

  it('passes coordinates through when the screen fits the display', async () => {
    const desktop = fakeDesktop({ width: 1024, height: 768 });
    await run({ action: 'mouse_move', coordinate: [10, 20] }, desktop.context);
    await run({ action: 'key', text: 'ctrl+s' }, desktop.context);
    await run({ action: 'type', text: 'echo done\n' }, desktop.context);
    await run({ action: 'wait', duration: 0.5 }, desktop.context);
    expect(desktop.inputs()).toEqual([
      { action: 'mouse_move', x: 10, y: 20 },
      { action: 'key', keys: 'ctrl+s' },
      { action: 'type', text: 'echo done\n' },
      { action: 'wait', ms: 500 },
    ]);
  });

  it('tells the model what the desktop could not confirm', async () => {
    const desktop = fakeDesktop(
      { width: 1280, height: 800 },
      'there is no window at 10,20 (the click landed on the desktop background)',
    );
    expect(await run({ action: 'left_click', coordinate: [10, 20] }, desktop.context)).toBe(
      'left_click done; pointer at 10,20; warning: there is no window at 10,20 (the click landed on the desktop background)',
    );
    expect(await run({ action: 'type', text: 'ls' }, desktop.context)).toMatch(
      /^typed 2 characters; warning: there is no window/,
    );
  });

  it.each([
    [{ action: 'mouse_move' }, 'mouse_move needs coordinate: [x, y]'],
    [{ action: 'left_click_drag', coordinate: [1, 1] }, 'left_click_drag needs start_coordinate'],
    [{ action: 'key' }, 'key needs text: the keys in xdotool names'],
    [{ action: 'type' }, 'type needs text: what to type'],
    [{ action: 'scroll', coordinate: [1, 1] }, 'scroll needs scroll_direction'],
    [{ action: 'wait' }, 'wait needs duration'],
    [{ action: 'left_click', coordinate: [1280, 10] }, 'outside the screenshot (1280×720)'],
  ] as const)('says what is missing or wrong: %j', async (input, message) => {
    const desktop = fakeDesktop();
    const failure = run(input as ComputerInput, desktop.context);
    await expect(failure).rejects.toThrow(ToolError);
    await expect(failure).rejects.toThrow(message);
    expect(desktop.inputs()).toEqual([]);
  });

  it('answers Anthropic-only actions with what to use instead', async () => {
    const tool = computerTool();
    const input = { action: 'left_mouse_down' } as unknown as ComputerInput;
    await expect(tool.execute(input, fakeDesktop().context)).rejects.toThrow(
      /left_mouse_down is not available here; use left_click_drag/,
    );
  });

  it('names each call in one line for the policy and the audit log', async () => {
    expect(computerSubject({ action: 'screenshot' })).toBe('screenshot');
    expect(computerSubject({ action: 'left_click', coordinate: [640, 400] })).toBe(
      'left_click 640,400',
    );
    expect(computerSubject({ action: 'left_click', coordinate: [1, 2], text: 'ctrl' })).toBe(
      'left_click 1,2 +ctrl',
    );
    expect(computerSubject({ action: 'type', text: 'echo done > ~/result.txt\n' })).toBe(
      'type echo done > ~/result.txt\\n',
    );
    expect(computerSubject({ action: 'key', text: 'Return' })).toBe('key Return');
    expect(
      computerSubject({ action: 'left_click_drag', start_coordinate: [1, 2], coordinate: [3, 4] }),
    ).toBe('left_click_drag 1,2 to 3,4');
    expect(computerSubject({ action: 'scroll', scroll_direction: 'up', scroll_amount: 5 })).toBe(
      'scroll up 5',
    );
    const tool = computerTool();
    expect(tool.kind).toBe('exec');
    expect(await tool.describe({ action: 'type', text: 'hi' }, fakeDesktop().context)).toEqual({
      summary: 'computer: type hi',
      command: 'hi',
    });
  });
});
