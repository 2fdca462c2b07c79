// One workspace's debugging: its breakpoints (kept across reloads) and at most one session with a
// debug adapter in the workspace (debugpy, Delve, the daemon's Node.js adapter), as an external
// store React reads with useSyncExternalStore. The editor draws breakpoints and the paused line
// from it; the Run panel drives it.
import type { DebugProtocol } from '@vscode/debugprotocol';
import { parse, type ParseError } from 'jsonc-parser';
import type { DebugAdapter } from '@studio/protocol';
import { readFile } from '../../../api/files.ts';
import { DapClient } from './dap-client.ts';

/** How the page names the workspace's home to the adapter (the server rebases it). */
export const HOME = '/workspace';

export interface Breakpoint {
  line: number;
  condition?: string;
}

/** A launch configuration, as in `.vscode/launch.json`. */
export interface LaunchConfig {
  name: string;
  type: string;
  request: 'launch' | 'attach';
  [key: string]: unknown;
}

export type SessionStatus = 'starting' | 'running' | 'paused' | 'ended';

export interface ConsoleLine {
  kind: 'output' | 'error' | 'input' | 'result' | 'info';
  text: string;
}

export interface Watch {
  expression: string;
  value?: string;
  error?: string;
}

export interface DebugState {
  breakpoints: Readonly<Record<string, readonly Breakpoint[]>>;
  watches: readonly Watch[];
  session: {
    config: LaunchConfig;
    status: SessionStatus;
    /** Why it stopped ("breakpoint", "step", "exception") or ended (the adapter's words). */
    reason?: string;
    threadId?: number;
    frames: readonly DebugProtocol.StackFrame[];
    frameId?: number;
    scopes: readonly DebugProtocol.Scope[];
    /** The children of each expanded scope or variable, by its variablesReference. */
    children: Readonly<Record<number, readonly DebugProtocol.Variable[]>>;
    console: readonly ConsoleLine[];
  } | null;
  /** Where the program is paused, as a workspace path, when it is inside the home. */
  location: { path: string; line: number; frameId: number } | null;
  /** A breakpoint whose condition the Run panel should put the cursor in. */
  editing: { path: string; line: number } | null;
}

const ADAPTER_OF_TYPE: Record<string, DebugAdapter> = {
  python: 'python',
  debugpy: 'python',
  go: 'go',
  node: 'node',
  'pwa-node': 'node',
};

const MAX_CONSOLE_LINES = 2000;

/** The workspace path of a DAP path under the home, or null for one outside it. */
export function workspacePathOf(dapPath: string | undefined): string | null {
  return dapPath?.startsWith(`${HOME}/`) ? dapPath.slice(HOME.length + 1) : null;
}

/** The adapter a configuration's `type` runs on, or null for one this IDE cannot debug. */
export function adapterOf(config: Pick<LaunchConfig, 'type'>): DebugAdapter | null {
  return ADAPTER_OF_TYPE[config.type] ?? null;
}

/** "Debug this file": a zero-config launch for the file's language, or null. */
export function configForFile(path: string): LaunchConfig | null {
  const name = path.split('/').at(-1) ?? path;
  if (path.endsWith('.py'))
    return {
      name: `Python: ${name}`,
      type: 'python',
      request: 'launch',
      program: '${file}',
      cwd: '${workspaceFolder}',
      console: 'internalConsole',
      justMyCode: true,
    };
  if (/\.[cm]?js$/.test(path))
    return {
      name: `Node.js: ${name}`,
      type: 'node',
      request: 'launch',
      program: '${file}',
      cwd: '${workspaceFolder}',
    };
  if (path.endsWith('.go'))
    return {
      name: `Go: ${path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : 'package'}`,
      type: 'go',
      request: 'launch',
      mode: 'debug',
      program: '${fileDirname}',
    };
  return null;
}

/** Fills VS Code's `${file}`-style variables in every string of a configuration. */
export function substitute<T>(value: T, file: string | null): T {
  const absolute = file ? `${HOME}/${file}` : '';
  const variables: Record<string, string> = {
    workspaceFolder: HOME,
    workspaceRoot: HOME,
    workspaceFolderBasename: 'workspace',
    file: absolute,
    relativeFile: file ?? '',
    fileBasename: absolute.split('/').at(-1) ?? '',
    fileBasenameNoExtension: (absolute.split('/').at(-1) ?? '').replace(/\.[^.]*$/, ''),
    fileDirname: absolute ? absolute.slice(0, absolute.lastIndexOf('/')) : HOME,
    fileExtname: /\.[^./]*$/.exec(absolute)?.[0] ?? '',
    pathSeparator: '/',
  };
  if (typeof value === 'string')
    return value.replace(/\$\{(\w+)\}/g, (whole, key: string) => variables[key] ?? whole) as T;
  if (Array.isArray(value)) return value.map((item) => substitute(item, file)) as T;
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, substitute(item, file)]),
    ) as T;
  return value;
}

/**
 * The configurations in `.vscode/launch.json` (comments and trailing commas allowed, as VS Code
 * allows them); none when there is no such file, and a clear error when it cannot be read.
 */
export async function readLaunchConfigs(workspace: string): Promise<LaunchConfig[]> {
  let content: string;
  try {
    content = (await readFile(workspace, '.vscode/launch.json')).content;
  } catch {
    return [];
  }
  const errors: ParseError[] = [];
  const parsed = parse(content, errors, { allowTrailingComma: true }) as {
    configurations?: unknown;
  } | null;
  if (errors.length > 0 || !Array.isArray(parsed?.configurations))
    throw new Error('.vscode/launch.json is not valid: it needs a "configurations" list');
  return parsed.configurations.filter(
    (item): item is LaunchConfig =>
      typeof item === 'object' &&
      item !== null &&
      typeof (item as LaunchConfig).name === 'string' &&
      typeof (item as LaunchConfig).type === 'string',
  );
}

/** `list` with a breakpoint added at `line`, in line order. */
function withLine(list: readonly Breakpoint[], line: number): Breakpoint[] {
  return [...list, { line }].sort((a, b) => a.line - b.line);
}

function storageKey(workspace: string) {
  return `studio.ide.debug.${workspace}`;
}

export class DebugController {
  private state: DebugState;
  private readonly listeners = new Set<() => void>();
  private client: DapClient | null = null;
  private capabilities: DebugProtocol.Capabilities = {};
  /** Clients whose program has ended (`terminated`), while they say their last words. */
  private readonly terminated = new WeakSet<DapClient>();

  constructor(private readonly workspace: string) {
    let stored: Partial<Pick<DebugState, 'breakpoints' | 'watches'>> = {};
    try {
      stored = JSON.parse(
        window.localStorage.getItem(storageKey(workspace)) ?? '{}',
      ) as typeof stored;
    } catch {
      // Unreadable: start without breakpoints.
    }
    this.state = {
      breakpoints: stored.breakpoints ?? {},
      watches: (stored.watches ?? []).map(({ expression }) => ({ expression })),
      session: null,
      location: null,
      editing: null,
    };
  }

  subscribe = (listener: () => void) => {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  };

  getState = () => this.state;

  private set(next: Partial<DebugState>) {
    this.state = { ...this.state, ...next };
    if ('breakpoints' in next || 'watches' in next)
      try {
        window.localStorage.setItem(
          storageKey(this.workspace),
          JSON.stringify({
            breakpoints: this.state.breakpoints,
            watches: this.state.watches.map(({ expression }) => ({ expression })),
          }),
        );
      } catch {
        // Storage blocked: breakpoints last until the page goes.
      }
    for (const listener of this.listeners) listener();
  }

  private setSession(next: Partial<NonNullable<DebugState['session']>>) {
    if (this.state.session) this.set({ session: { ...this.state.session, ...next } });
  }

  private print(kind: ConsoleLine['kind'], text: string) {
    const session = this.state.session;
    if (!session) return;
    const last = session.console.at(-1);
    // The program's output comes in pieces (print writes "answer", " ", "12", "\n"): a line
    // goes on until its newline.
    const continues =
      (kind === 'output' || kind === 'error') && last?.kind === kind && !last.text.endsWith('\n');
    const console = continues
      ? [...session.console.slice(0, -1), { kind, text: last.text + text }]
      : [...session.console, { kind, text }];
    this.setSession({ console: console.slice(-MAX_CONSOLE_LINES) });
  }

  // --- breakpoints ---

  toggleBreakpoint(path: string, line: number) {
    const current = this.state.breakpoints[path] ?? [];
    this.setBreakpoints(
      path,
      current.some((item) => item.line === line)
        ? current.filter((item) => item.line !== line)
        : withLine(current, line),
    );
  }

  /** Adds (or keeps) a breakpoint at `line` and asks the Run panel to edit its condition. */
  editCondition(path: string, line: number) {
    const current = this.state.breakpoints[path] ?? [];
    if (!current.some((item) => item.line === line))
      this.setBreakpoints(path, withLine(current, line));
    this.set({ editing: { path, line } });
  }

  setCondition(path: string, line: number, condition: string) {
    const trimmed = condition.trim();
    this.setBreakpoints(
      path,
      (this.state.breakpoints[path] ?? []).map((item) =>
        item.line === line ? { line, ...(trimmed ? { condition: trimmed } : {}) } : item,
      ),
    );
    this.set({ editing: null });
  }

  stopEditing() {
    this.set({ editing: null });
  }

  removeBreakpoint(path: string, line: number) {
    this.setBreakpoints(
      path,
      (this.state.breakpoints[path] ?? []).filter((item) => item.line !== line),
    );
  }

  private setBreakpoints(path: string, breakpoints: Breakpoint[]) {
    const { [path]: _, ...others } = this.state.breakpoints;
    this.set({ breakpoints: breakpoints.length > 0 ? { ...others, [path]: breakpoints } : others });
    void this.sendBreakpoints(path);
  }

  /** `setBreakpoints` for every breakpoint of `path` (an empty list clears the file's). */
  private breakpointsArguments(path: string): DebugProtocol.SetBreakpointsArguments {
    return {
      source: { path: `${HOME}/${path}`, name: path.split('/').at(-1) },
      breakpoints: (this.state.breakpoints[path] ?? []).map(({ line, condition }) => ({
        line,
        ...(condition ? { condition } : {}),
      })),
    };
  }

  private async sendBreakpoints(path: string) {
    const client = this.client;
    if (!client || this.state.session?.status === 'starting') return;
    try {
      await client.request('setBreakpoints', this.breakpointsArguments(path));
    } catch (error) {
      this.print('error', `Breakpoints in ${path}: ${(error as Error).message}`);
    }
  }

  // --- watch ---

  addWatch(expression: string) {
    if (!expression.trim()) return;
    this.set({ watches: [...this.state.watches, { expression: expression.trim() }] });
    void this.evaluateWatches();
  }

  removeWatch(index: number) {
    this.set({ watches: this.state.watches.filter((_, at) => at !== index) });
  }

  private async evaluateWatches() {
    const frameId = this.state.session?.frameId;
    if (!this.client || this.state.session?.status !== 'paused' || frameId === undefined) return;
    const watches = await Promise.all(
      this.state.watches.map(async ({ expression }) => {
        try {
          const { result } = await this.client!.request<DebugProtocol.EvaluateResponse['body']>(
            'evaluate',
            { expression, frameId, context: 'watch' },
          );
          return { expression, value: result };
        } catch (error) {
          return { expression, error: (error as Error).message };
        }
      }),
    );
    this.set({ watches });
  }

  // --- the session ---

  /** Starts `config` (variables filled for `activeFile`), ending any session still running. */
  async start(config: LaunchConfig, activeFile: string | null) {
    const adapter = adapterOf(config);
    if (this.client) await this.stop();
    const resolved = substitute(config, activeFile);
    this.set({
      session: {
        config,
        status: 'starting',
        frames: [],
        scopes: [],
        children: {},
        console: [{ kind: 'info', text: `Starting ${config.name}…` }],
      },
      location: null,
    });
    if (!adapter) {
      this.end(
        `No debugger for "${config.type}" configurations here: Python (debugpy), Node.js and Go (Delve) are supported.`,
      );
      return;
    }
    // Delve builds the Go module found from the program's folder.
    const program = typeof resolved.program === 'string' ? resolved.program : '';
    const folder = workspacePathOf(
      program.endsWith('.go') ? program.slice(0, program.lastIndexOf('/')) : program,
    );
    const query = adapter === 'go' && folder ? `?cwd=${encodeURIComponent(folder)}` : '';
    const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(
      `${scheme}//${window.location.host}/api/workspaces/${encodeURIComponent(this.workspace)}/dap/${adapter}${query}`,
    );
    const client = new DapClient(socket);
    this.client = client;
    client.onEvent((event) => this.onEvent(client, event));
    client.onClose((reason) => {
      if (this.client !== client) return;
      this.client = null;
      // An adapter that ends after the program did is not an error.
      this.end(this.terminated.has(client) ? undefined : reason);
    });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.addEventListener('open', () => resolve());
        client.onClose((reason) => reject(new Error(reason)));
      });
      this.capabilities =
        (await client.request<DebugProtocol.Capabilities>('initialize', {
          clientID: 'prometheus-studio',
          clientName: 'Prometheus Studio',
          adapterID: adapter,
          linesStartAt1: true,
          columnsStartAt1: true,
          pathFormat: 'path',
          supportsVariableType: true,
          supportsRunInTerminalRequest: false,
        })) ?? {};
      const initialized = client.next('initialized');
      const launched = client.request(resolved.request, resolved);
      // A launch that fails answers before `initialized` ever comes (a Go build error, …).
      await Promise.race([initialized, launched]);
      for (const path of Object.keys(this.state.breakpoints))
        await client.request('setBreakpoints', this.breakpointsArguments(path));
      const filters = (this.capabilities.exceptionBreakpointFilters ?? [])
        .filter((filter) => filter.default || filter.filter === 'uncaught')
        .map((filter) => filter.filter);
      await client.request('setExceptionBreakpoints', { filters });
      if (this.capabilities.supportsConfigurationDoneRequest)
        await client.request('configurationDone');
      await launched;
      if (this.state.session?.status === 'starting') this.setSession({ status: 'running' });
    } catch (error) {
      if (this.client === client) {
        this.print('error', (error as Error).message);
        this.client = null;
        client.close();
        this.end((error as Error).message);
      }
    }
  }

  private onEvent(client: DapClient, event: DebugProtocol.Event) {
    if (this.client !== client) return;
    switch (event.event) {
      case 'output': {
        const { category, output } = (event as DebugProtocol.OutputEvent).body;
        if (category === 'telemetry') return;
        this.print(category === 'stderr' ? 'error' : 'output', output);
        return;
      }
      case 'stopped': {
        const { threadId, reason, description } = (event as DebugProtocol.StoppedEvent).body;
        this.setSession({ status: 'paused', reason: description ?? reason });
        void this.loadStop(threadId);
        return;
      }
      case 'continued':
        this.resumed();
        return;
      case 'exited':
        this.print(
          'info',
          `The program exited with code ${(event as DebugProtocol.ExitedEvent).body.exitCode}.`,
        );
        return;
      case 'terminated':
        void this.finish(client);
        return;
    }
  }

  /**
   * The program ended: as VS Code does, answer with `disconnect`, taking the output the adapter
   * still sends until it replies (under load the last lines can come after `terminated`).
   */
  private async finish(client: DapClient) {
    this.terminated.add(client);
    await Promise.race([
      client.request('disconnect', { restart: false }).catch(() => {}),
      new Promise((resolve) => setTimeout(resolve, 2000)),
    ]);
    if (this.client !== client) return;
    this.client = null;
    client.close();
    this.end();
  }

  /** After a stop: the threads' stack (the stopped one's), its top frame's scopes and values. */
  private async loadStop(threadId: number | undefined) {
    const client = this.client;
    if (!client) return;
    try {
      const thread =
        threadId ??
        (await client.request<DebugProtocol.ThreadsResponse['body']>('threads')).threads[0]?.id;
      if (thread === undefined) return;
      const { stackFrames } = await client.request<DebugProtocol.StackTraceResponse['body']>(
        'stackTrace',
        { threadId: thread, startFrame: 0, levels: 50 },
      );
      this.setSession({ threadId: thread, frames: stackFrames, children: {} });
      const top =
        stackFrames.find((frame) => workspacePathOf(frame.source?.path)) ?? stackFrames[0];
      if (top) await this.selectFrame(top.id);
    } catch (error) {
      this.print('error', (error as Error).message);
    }
  }

  /** Shows `frameId`'s variables and moves the editor to it. */
  async selectFrame(frameId: number) {
    const client = this.client;
    const frame = this.state.session?.frames.find((item) => item.id === frameId);
    if (!client || !frame) return;
    const path = workspacePathOf(frame.source?.path);
    this.set({ location: path ? { path, line: frame.line, frameId } : null });
    this.setSession({ frameId });
    try {
      const { scopes } = await client.request<DebugProtocol.ScopesResponse['body']>('scopes', {
        frameId,
      });
      this.setSession({ scopes, children: {} });
      // The first scope (locals) opens by itself, as in VS Code.
      const first = scopes.find((scope) => !scope.expensive);
      if (first) await this.expand(first.variablesReference);
      await this.evaluateWatches();
    } catch (error) {
      this.print('error', (error as Error).message);
    }
  }

  /** Loads the children of a scope or a structured variable. */
  async expand(variablesReference: number) {
    if (!this.client || variablesReference <= 0) return;
    const { variables } = await this.client.request<DebugProtocol.VariablesResponse['body']>(
      'variables',
      { variablesReference },
    );
    const session = this.state.session;
    if (session)
      this.setSession({ children: { ...session.children, [variablesReference]: variables } });
  }

  collapse(variablesReference: number) {
    const session = this.state.session;
    if (!session) return;
    const { [variablesReference]: _, ...rest } = session.children;
    this.setSession({ children: rest });
  }

  private resumed() {
    this.setSession({ status: 'running', frames: [], scopes: [], children: {}, reason: undefined });
    this.set({ location: null });
  }

  private async step(command: 'continue' | 'next' | 'stepIn' | 'stepOut') {
    const threadId = this.state.session?.threadId;
    if (!this.client || this.state.session?.status !== 'paused' || threadId === undefined) return;
    this.resumed();
    try {
      await this.client.request(command, { threadId });
    } catch (error) {
      this.print('error', (error as Error).message);
    }
  }

  continue = () => this.step('continue');
  stepOver = () => this.step('next');
  stepInto = () => this.step('stepIn');
  stepOut = () => this.step('stepOut');

  pause = async () => {
    if (!this.client || this.state.session?.status !== 'running') return;
    const threadId =
      this.state.session.threadId ??
      (await this.client.request<DebugProtocol.ThreadsResponse['body']>('threads')).threads[0]?.id;
    await this.client.request('pause', { threadId }).catch(() => {});
  };

  /** Ends the session and the program being debugged. */
  stop = async () => {
    const client = this.client;
    if (!client) return;
    this.client = null;
    await Promise.race([
      client.request('disconnect', { terminateDebuggee: true }).catch(() => {}),
      new Promise((resolve) => setTimeout(resolve, 2000)),
    ]);
    client.close();
    this.end('stopped');
  };

  restart = async (activeFile: string | null) => {
    const config = this.state.session?.config;
    if (config) await this.start(config, activeFile);
  };

  /** Evaluates what was typed in the debug console, in the selected frame. */
  async evaluate(expression: string) {
    if (!expression.trim()) return;
    this.print('input', expression);
    if (!this.client) {
      this.print('error', 'No program is being debugged.');
      return;
    }
    try {
      const { result } = await this.client.request<DebugProtocol.EvaluateResponse['body']>(
        'evaluate',
        {
          expression,
          context: 'repl',
          ...(this.state.session?.frameId !== undefined && this.state.session.status === 'paused'
            ? { frameId: this.state.session.frameId }
            : {}),
        },
      );
      this.print('result', result);
    } catch (error) {
      this.print('error', (error as Error).message);
    }
  }

  private end(reason?: string) {
    const session = this.state.session;
    if (!session || session.status === 'ended') return;
    this.set({
      session: {
        ...session,
        status: 'ended',
        reason,
        frames: [],
        scopes: [],
        children: {},
        console: [
          ...session.console,
          ...(reason && reason !== 'stopped' ? [{ kind: 'error' as const, text: reason }] : []),
          { kind: 'info' as const, text: 'Debugging ended.' },
        ].slice(-MAX_CONSOLE_LINES),
      },
      location: null,
      watches: this.state.watches.map(({ expression }) => ({ expression })),
    });
  }
}

const controllers = new Map<string, DebugController>();

/** The one debugging controller of `workspace` in this page. */
export function debugControllerFor(workspace: string): DebugController {
  let controller = controllers.get(workspace);
  if (!controller) {
    controller = new DebugController(workspace);
    controllers.set(workspace, controller);
  }
  return controller;
}
