import type { DaemonParams, DaemonResult } from '@studio/protocol';
import { z } from 'zod';
import { ToolError, defineTool, type AgentTool, type ToolDaemon, type ToolResult } from './tool.ts';

/** The display size screenshots are scaled to fit, as in Anthropic's computer-use guidance (WXGA). */
export const DEFAULT_DISPLAY = { displayWidth: 1280, displayHeight: 800 } as const;

// Anthropic's computer_20250124 set without hold_key and left_mouse_down/up: the daemon has no
// key-down or button-down of its own. On Claude they still arrive (Anthropic's schema lists them)
// and are answered with an error naming what to use instead.
const ACTIONS = [
  'screenshot',
  'left_click',
  'right_click',
  'middle_click',
  'double_click',
  'triple_click',
  'mouse_move',
  'left_click_drag',
  'scroll',
  'key',
  'type',
  'cursor_position',
  'wait',
] as const;

const point = z
  .array(z.int().min(0))
  .length(2)
  .describe('[x, y] in the pixels of the latest screenshot.');

const computerInputSchema = z.object({
  action: z.enum(ACTIONS),
  coordinate: point.optional(),
  start_coordinate: point.optional().describe('left_click_drag: where the drag starts.'),
  text: z
    .string()
    .max(20_000)
    .optional()
    .describe(
      'key: the combination in xdotool names (ctrl+s, Return, alt+Tab); type: the text; ' +
        'clicks: keys held during the click (shift).',
    ),
  scroll_direction: z.enum(['up', 'down', 'left', 'right']).optional(),
  scroll_amount: z.int().min(1).max(50).optional().describe('Wheel clicks (default 3).'),
  duration: z.number().positive().max(60).optional().describe('wait: seconds.'),
});

/** The computer tool's input: Anthropic's computer-use fields. */
export type ComputerInput = z.output<typeof computerInputSchema>;

/** A screenshot's size and the screen's: the ratio maps the model's coordinates to the screen. */
interface Sizes {
  width: number;
  height: number;
  screenWidth: number;
  screenHeight: number;
}

type Action = DaemonParams<'desktop.input'>;

/**
 * The `computer` tool: screenshots of the workspace's desktop and mouse and keyboard input, with
 * coordinates in the screenshot's pixels (scaled to fit `displayWidth`×`displayHeight`).
 */
export function computerTool(
  display: { displayWidth: number; displayHeight: number } = DEFAULT_DISPLAY,
): AgentTool<unknown, ToolResult> {
  const { displayWidth, displayHeight } = display;
  // The sizes of the latest screenshot per desktop: the model's coordinates refer to it.
  const latest = new WeakMap<ToolDaemon, Sizes>();

  async function screenshot(daemon: ToolDaemon): Promise<DaemonResult<'desktop.screenshot'>> {
    const shot = await daemon.call('desktop.screenshot', {
      maxWidth: displayWidth,
      maxHeight: displayHeight,
    });
    latest.set(daemon, shot);
    return shot;
  }

  async function sizesOf(daemon: ToolDaemon): Promise<Sizes> {
    // A click before any screenshot: the model still thinks in the scaled space, so learn it once.
    return latest.get(daemon) ?? (await screenshot(daemon));
  }

  return defineTool({
    name: 'computer',
    description:
      "Use the workspace's graphical desktop: take a screenshot, move and click the mouse, drag, " +
      'scroll, press keys and type text. Coordinates are [x, y] in the pixels of the latest ' +
      `screenshot (at most ${displayWidth}×${displayHeight}); take a screenshot first, and again ` +
      'after actions to see their effect. Actions and their fields: screenshot; ' +
      'left_click/right_click/middle_click/double_click/triple_click (coordinate?, text = held ' +
      'keys?); mouse_move (coordinate); left_click_drag (start_coordinate, coordinate); scroll ' +
      '(scroll_direction, scroll_amount?, coordinate?); key (text, e.g. ctrl+s or Return); type ' +
      '(text); cursor_position; wait (duration in seconds).',
    kind: 'exec',
    inputSchema: computerInputSchema,
    computerUse: { displayWidth, displayHeight },
    subject: computerSubject,
    describe: async (input) => {
      const subject = computerSubject(input);
      return {
        summary: `computer: ${subject}`,
        ...(input.action === 'type' || input.action === 'key' ? { command: input.text ?? '' } : {}),
      };
    },
    async execute(input, context): Promise<ToolResult> {
      const { daemon } = context;
      // What the desktop could not confirm (keys that may have gone to another window) is part
      // of the answer, so the model and the person watching see it.
      const warned = (result: { warning?: string }) =>
        result.warning ? `; warning: ${result.warning}` : '';
      const act = async (action: Action) => {
        const result = await daemon.call('desktop.input', action);
        const { x, y } = toShot(result, await sizesOf(daemon));
        return `pointer at ${x},${y}${warned(result)}`;
      };
      const at = async (field: 'coordinate' | 'start_coordinate') => {
        const value = input[field];
        if (!value) throw new ToolError(`${input.action} needs ${field}: [x, y]`);
        return toScreen(value, await sizesOf(daemon), field);
      };
      const needText = (what: string) => {
        if (!input.text) throw new ToolError(`${input.action} needs text: ${what}`);
        return input.text;
      };

      switch (input.action) {
        case 'screenshot': {
          const shot = await screenshot(daemon);
          return {
            text: `screenshot ${shot.width}×${shot.height} (screen ${shot.screenWidth}×${shot.screenHeight})`,
            image: { base64: shot.png, mediaType: 'image/png' },
          };
        }
        case 'left_click':
        case 'right_click':
        case 'middle_click':
        case 'double_click':
        case 'triple_click': {
          const point = input.coordinate ? await at('coordinate') : {};
          const hold = input.text ? { hold: input.text } : {};
          return `${input.action} done; ${await act({ action: input.action, ...point, ...hold })}`;
        }
        case 'mouse_move':
          return `moved; ${await act({ action: 'mouse_move', ...(await at('coordinate')) })}`;
        case 'left_click_drag': {
          const start = await at('start_coordinate');
          const end = await at('coordinate');
          const drag: Action = {
            action: 'left_click_drag',
            startX: start.x,
            startY: start.y,
            ...end,
          };
          return `dragged; ${await act(drag)}`;
        }
        case 'scroll': {
          const direction = input.scroll_direction;
          if (!direction)
            throw new ToolError('scroll needs scroll_direction: up, down, left or right');
          // Without a coordinate the wheel turns where the pointer is.
          const point = input.coordinate
            ? await at('coordinate')
            : await daemon.call('desktop.input', { action: 'cursor_position' });
          const amount = input.scroll_amount ?? 3;
          return `scrolled ${direction} ${amount}; ${await act({ action: 'scroll', ...point, direction, amount })}`;
        }
        case 'key': {
          const keys = needText('the keys in xdotool names, e.g. ctrl+s or Return');
          const result = await daemon.call('desktop.input', { action: 'key', keys });
          return `pressed ${keys}${warned(result)}`;
        }
        case 'type': {
          const text = needText('what to type');
          const result = await daemon.call('desktop.input', { action: 'type', text });
          return `typed ${text.length} characters${warned(result)}`;
        }
        case 'cursor_position': {
          const pointer = await daemon.call('desktop.input', { action: 'cursor_position' });
          const { x, y } = toShot(pointer, await sizesOf(daemon));
          return `X=${x},Y=${y}`;
        }
        case 'wait': {
          if (input.duration === undefined)
            throw new ToolError('wait needs duration: the seconds to wait (at most 60)');
          await daemon.call('desktop.input', {
            action: 'wait',
            ms: Math.max(1, Math.round(input.duration * 1000)),
          });
          return `waited ${input.duration} s`;
        }
        default:
          throw new ToolError(
            `the action ${String(input.action as unknown)} is not available here; use ` +
              `left_click_drag to drag, and text on a click to hold keys during it`,
          );
      }
    },
  });
}

/** The computer tool at the default display size. */
export const computer = computerTool();

/** The one-line subject the policy and the audit log match: `left_click 640,400`, `key Return`. */
export function computerSubject(input: ComputerInput): string {
  const xy = (value: number[] | undefined) => (value ? ` ${value.join(',')}` : '');
  // One line: a typed newline shows as \n.
  const text = (input.text ?? '').replaceAll('\n', '\\n');
  switch (input.action) {
    case 'key':
    case 'type':
      return `${input.action} ${text}`;
    case 'left_click_drag':
      return `left_click_drag${xy(input.start_coordinate)} to${xy(input.coordinate)}`;
    case 'scroll':
      return `scroll ${input.scroll_direction ?? ''} ${input.scroll_amount ?? 3}${xy(input.coordinate)}`;
    case 'wait':
      return `wait ${input.duration ?? ''} s`;
    default:
      return `${input.action}${xy(input.coordinate)}${input.text ? ` +${text}` : ''}`;
  }
}

/** A point in the screenshot to the screen's own pixels. */
function toScreen([x = 0, y = 0]: number[], sizes: Sizes, field: string): { x: number; y: number } {
  if (x >= sizes.width || y >= sizes.height)
    throw new ToolError(
      `${field} ${x},${y} is outside the screenshot (${sizes.width}×${sizes.height}); ` +
        'use a point inside it',
    );
  return {
    x: Math.min(sizes.screenWidth - 1, Math.round((x * sizes.screenWidth) / sizes.width)),
    y: Math.min(sizes.screenHeight - 1, Math.round((y * sizes.screenHeight) / sizes.height)),
  };
}

/** A point on the screen in the screenshot's pixels. */
function toShot(pointer: { x: number; y: number }, sizes: Sizes): { x: number; y: number } {
  return {
    x: Math.round((pointer.x * sizes.width) / sizes.screenWidth),
    y: Math.round((pointer.y * sizes.height) / sizes.screenHeight),
  };
}
