import type { XDisplay } from 'x11';
import { DaemonFailure } from './errors.ts';

/**
 * What the X server itself says about the keyboard focus, the pointer and the window manager's
 * windows, through the X protocol (the `x11` package, loaded on first use so workspaces without
 * a desktop never parse it). xdotool cannot answer "did the focus move to the window I clicked":
 * it reports the window manager's frame under the pointer but the client inside it as focused.
 */
export interface XSession {
  /** The top-level window (a child of the root) under the pointer; 0 over the bare desktop. */
  windowUnderPointer(): Promise<number>;
  /** The top-level window holding the keyboard focus; 0 when no window has it. */
  focusedWindow(): Promise<number>;
  /** The windows the window manager manages (EWMH `_NET_CLIENT_LIST`), with their kind and title. */
  clients(): Promise<Array<{ window: number; topLevel: number; type: string; title: string }>>;
  close(): void;
}

const CONNECT_TIMEOUT_MS = 5_000;

function call<T>(run: (cb: (error: unknown, value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) =>
    run((error, value) => (error ? reject(toError(error)) : resolve(value))),
  );
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** Connects to the workspace's display; a display that does not answer is `unavailable`. */
export async function openXSession(display: string): Promise<XSession> {
  // CommonJS: its exports arrive as the default export.
  const { createClient } = (await import('x11')).default;
  const { client, screen } = await new Promise<XDisplay>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(noDisplay(display, 'it did not answer')),
      CONNECT_TIMEOUT_MS,
    );
    const connection = createClient({ display }, (error, opened) => {
      clearTimeout(timer);
      if (error) reject(noDisplay(display, toError(error).message));
      else resolve(opened);
    });
    connection.on('error', (error) => {
      clearTimeout(timer);
      reject(noDisplay(display, toError(error).message));
    });
  });
  // Errors after setup (a window that vanished between two requests) arrive on the callbacks.
  client.on('error', () => {});
  const root = screen[0]!.root;
  const atoms = new Map<string, number>();
  const atom = async (name: string) => {
    const known = atoms.get(name);
    if (known !== undefined) return known;
    const value = await call<number>((cb) => client.InternAtom(false, name, cb));
    atoms.set(name, value);
    return value;
  };
  const property = async (window: number, name: string) => {
    const id = await atom(name);
    return call<{ data: Buffer; type: number }>((cb) =>
      client.GetProperty(0, window, id, 0, 0, 1 << 16, cb),
    ).catch(() => ({ data: Buffer.alloc(0), type: 0 }));
  };

  /** Walks up to the child of the root that holds `window` (a frame, or the window itself). */
  const topLevelOf = async (window: number): Promise<number> => {
    // Focus None (0) and PointerRoot (1) are not windows.
    if (window <= 1 || window === root) return 0;
    let current = window;
    for (let depth = 0; depth < 32; depth++) {
      const tree = await call<{ parent: number }>((cb) => client.QueryTree(current, cb)).catch(
        () => null,
      );
      if (!tree) return 0;
      if (tree.parent === root || tree.parent === 0) return current;
      current = tree.parent;
    }
    return 0;
  };

  return {
    async windowUnderPointer() {
      return (await call<{ child: number }>((cb) => client.QueryPointer(root, cb))).child;
    },
    async focusedWindow() {
      const { focus } = await call<{ focus: number }>((cb) => client.GetInputFocus(cb));
      return topLevelOf(focus);
    },
    async clients() {
      const list = await property(root, '_NET_CLIENT_LIST');
      const windows: number[] = [];
      for (let at = 0; at + 4 <= list.data.length; at += 4)
        windows.push(list.data.readUInt32LE(at));
      return Promise.all(
        windows.map(async (window) => {
          const types = await property(window, '_NET_WM_WINDOW_TYPE');
          const first = types.data.length >= 4 ? types.data.readUInt32LE(0) : 0;
          const typeName = first
            ? await call<string>((cb) => client.GetAtomName(first, cb)).catch(() => '')
            : '';
          const name = await property(window, '_NET_WM_NAME');
          const title = (name.data.length ? name : await property(window, 'WM_NAME')).data
            .toString('utf8')
            .replace(/\0+$/, '');
          return {
            window,
            topLevel: await topLevelOf(window),
            // `_NET_WM_WINDOW_TYPE_NORMAL` → `normal`; no type at all is a normal window too.
            type: typeName.replace(/^_NET_WM_WINDOW_TYPE_/, '').toLowerCase() || 'normal',
            title,
          };
        }),
      );
    },
    close() {
      client.terminate();
    },
  };
}

function noDisplay(display: string, why: string): DaemonFailure {
  return new DaemonFailure(
    'unavailable',
    `this workspace has no desktop running (display ${display}: ${why})`,
  );
}
