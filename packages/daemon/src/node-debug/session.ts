// A Debug Adapter Protocol adapter for Node.js, over the V8 inspector Node has built in. VS Code's
// own adapter (js-debug) is not published on npm, so the daemon brings this one: the IDE talks
// DAP to it exactly as it does to debugpy and Delve. It runs the program with `--inspect-brk` and
// drives it through the Chrome DevTools Protocol: breakpoints (conditional too) by file URL,
// pauses on uncaught or all exceptions, steps, stack, scopes, variables and evaluation.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  Breakpoint,
  ExitedEvent,
  Handles,
  InitializedEvent,
  DebugSession,
  OutputEvent,
  Scope,
  Source,
  StackFrame,
  StoppedEvent,
  TerminatedEvent,
  Thread,
  Variable,
} from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { Protocol } from 'devtools-protocol';
import { allOnPath } from '../stdio-server.ts';
import { Inspector } from './inspector.ts';

/** What a `launch` configuration of type `node` may say (VS Code's names). */
export interface NodeLaunchArguments extends DebugProtocol.LaunchRequestArguments {
  program: string;
  args?: string[];
  cwd?: string;
  env?: Record<string, string>;
  runtimeExecutable?: string;
  runtimeArgs?: string[];
  stopOnEntry?: boolean;
}

const THREAD = 1;
const MAX_VARIABLES = 1000;
/** What the inspector itself prints on the program's stderr; not the program's output. */
const INSPECTOR_LINES =
  /^(Debugger listening on |For help, see: |Debugger attached\.|Waiting for the debugger to disconnect\.\.\.)/;

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A value as a debugger shows it in one line: `"text"`, `42`, `{a: 1, b: 'x'}`, `Array(3)`. */
export function describe(value: Protocol.Runtime.RemoteObject): string {
  if (value.unserializableValue) return value.unserializableValue;
  switch (value.type) {
    case 'string':
      return JSON.stringify(value.value);
    case 'undefined':
      return 'undefined';
    case 'number':
    case 'boolean':
      return String(value.value);
    case 'function':
      // `ƒ total(list)`: the signature without the body.
      return `ƒ ${/^(?:async\s+)?(?:function\s*\*?\s*)?([^(]*\([^)]*\))/.exec(value.description ?? '')?.[1] ?? value.className ?? ''}`;
    case 'object': {
      if (value.subtype === 'null') return 'null';
      const preview = value.preview;
      if (!preview) return value.description ?? 'Object';
      const items = preview.properties.map((property) =>
        preview.subtype === 'array'
          ? previewValue(property)
          : `${property.name}: ${previewValue(property)}`,
      );
      if (preview.overflow) items.push('…');
      if (preview.subtype === 'array') return `(${items.length}) [${items.join(', ')}]`;
      if (preview.entries || preview.subtype) return value.description ?? 'Object';
      const name = value.className && value.className !== 'Object' ? `${value.className} ` : '';
      return `${name}{${items.join(', ')}}`;
    }
    default:
      return value.description ?? String(value.value);
  }
}

function previewValue(property: Protocol.Runtime.PropertyPreview): string {
  if (property.type === 'string') return JSON.stringify(property.value);
  if (property.type === 'object' && property.subtype !== 'null' && !property.value) return '{…}';
  return property.value ?? property.type;
}

/** The file a script URL names, or null for Node's own (`node:internal/…`) and eval'd code. */
function pathOfUrl(url: string): string | null {
  if (url.startsWith('file://')) return fileURLToPath(url);
  return url.startsWith('/') ? url : null;
}

export class NodeDebugSession extends DebugSession {
  private child: ChildProcessWithoutNullStreams | null = null;
  private inspector: Inspector | null = null;
  private stopOnEntry = false;
  private entered = false;
  private readonly scripts = new Map<string, string>();
  /** Our breakpoint ids per file, to replace them all when the file's set changes. */
  private readonly breakpoints = new Map<string, string[]>();
  private frames: Protocol.Debugger.CallFrame[] = [];
  private handles = new Handles<string>();
  /** The last thing the person asked for, to tell a pause from the end of a step. */
  private lastCommand = '';

  /** `environment`: the workspace's, which the daemon started this adapter with. */
  constructor(private readonly environment: NodeJS.ProcessEnv) {
    super();
    this.setDebuggerLinesStartAt1(true);
    this.setDebuggerColumnsStartAt1(true);
  }

  /** Runs `work` for a request and answers it: its result as the body, a failure as an error. */
  private answer(response: DebugProtocol.Response, work: () => Promise<unknown>): void {
    work().then(
      (body) => {
        if (body !== undefined) response.body = body;
        this.sendResponse(response);
      },
      (error: Error) => this.sendErrorResponse(response, 1, error.message),
    );
  }

  private get connected(): Inspector {
    if (!this.inspector) throw new Error('The program is not running.');
    return this.inspector;
  }

  protected override initializeRequest(response: DebugProtocol.InitializeResponse): void {
    response.body = {
      supportsConfigurationDoneRequest: true,
      supportsConditionalBreakpoints: true,
      supportsEvaluateForHovers: true,
      supportsTerminateRequest: true,
      exceptionBreakpointFilters: [
        { filter: 'uncaught', label: 'Uncaught Exceptions', default: true },
        { filter: 'all', label: 'All Exceptions', default: false },
      ],
    };
    this.sendResponse(response);
  }

  protected override launchRequest(
    response: DebugProtocol.LaunchResponse,
    args: NodeLaunchArguments,
  ): void {
    this.answer(response, () => this.launch(args));
  }

  private async launch(args: NodeLaunchArguments): Promise<void> {
    if (typeof args.program !== 'string' || args.program === '')
      throw new Error('The configuration names no "program" to run.');
    const cwd = args.cwd ?? path.dirname(args.program);
    const program = path.resolve(cwd, args.program);
    if (!(await stat(program).catch(() => null))?.isFile())
      throw new Error(`There is no program at ${program}.`);
    const env = { ...this.environment, ...args.env };
    // The workspace's Node first; the one the daemon runs on when the workspace has none.
    const runtime =
      args.runtimeExecutable ?? (await allOnPath(['node'], env.PATH))[0] ?? process.execPath;
    this.stopOnEntry = args.stopOnEntry === true;
    const child = spawn(
      runtime,
      [...(args.runtimeArgs ?? []), '--inspect-brk=127.0.0.1:0', program, ...(args.args ?? [])],
      { cwd, env, stdio: 'pipe' },
    );
    this.child = child;
    child.stdout.on('data', (chunk: Buffer) =>
      this.sendEvent(new OutputEvent(chunk.toString(), 'stdout')),
    );
    const url = new Promise<string>((resolve, reject) => {
      let line = '';
      child.stderr.on('data', (chunk: Buffer) => {
        const lines = (line + chunk.toString()).split('\n');
        line = lines.pop()!;
        for (const text of lines) {
          const listening = /^Debugger listening on (ws:\/\/\S+)/.exec(text);
          if (listening) resolve(listening[1]!);
          if (!INSPECTOR_LINES.test(text)) this.sendEvent(new OutputEvent(`${text}\n`, 'stderr'));
        }
      });
      child.on('error', (error) =>
        reject(new Error(`Could not start ${runtime}: ${error.message}`)),
      );
      child.on('exit', (code) =>
        reject(new Error(`${runtime} stopped before its debugger listened (exit code ${code}).`)),
      );
    });
    child.on('exit', (code, signal) => {
      this.inspector?.close();
      this.sendEvent(new ExitedEvent(code ?? (signal ? 128 : 0)));
      this.sendEvent(new TerminatedEvent());
    });
    const inspector = await Inspector.connect(await url);
    this.inspector = inspector;
    inspector.on('Debugger.scriptParsed', (script: Protocol.Debugger.ScriptParsedEvent) =>
      this.scripts.set(script.scriptId, script.url),
    );
    inspector.on('Debugger.paused', (paused: Protocol.Debugger.PausedEvent) => this.paused(paused));
    // The program has ended; Node waits for the debugger to let go before it exits.
    inspector.on('Runtime.executionContextDestroyed', () => inspector.close());
    await inspector.send('Runtime.enable');
    await inspector.send('Debugger.enable');
    await inspector.send('Debugger.setPauseOnExceptions', { state: 'uncaught' });
    this.sendEvent(new InitializedEvent());
  }

  protected override configurationDoneRequest(
    response: DebugProtocol.ConfigurationDoneResponse,
  ): void {
    this.answer(response, () => this.connected.send('Runtime.runIfWaitingForDebugger'));
  }

  private paused(paused: Protocol.Debugger.PausedEvent): void {
    // `--inspect-brk` stops before the program's first line; that is a stop only if asked for.
    const entry = !this.entered;
    this.entered = true;
    if (entry && !this.stopOnEntry) {
      void this.inspector?.send('Debugger.resume').catch(() => {});
      return;
    }
    this.frames = paused.callFrames;
    this.handles = new Handles<string>();
    const exception = paused.reason === 'exception' || paused.reason === 'promiseRejection';
    const reason = entry
      ? 'entry'
      : exception
        ? 'exception'
        : paused.hitBreakpoints?.length
          ? 'breakpoint'
          : this.lastCommand === 'Debugger.pause'
            ? 'pause'
            : 'step';
    const stopped = new StoppedEvent(reason, THREAD) as DebugProtocol.StoppedEvent;
    if (exception && paused.data) {
      const error = paused.data as Protocol.Runtime.RemoteObject;
      stopped.body.description = `Paused on exception: ${describe(error).split('\n')[0]}`;
      stopped.body.text = error.description;
    }
    this.sendEvent(stopped);
  }

  protected override setBreakPointsRequest(
    response: DebugProtocol.SetBreakpointsResponse,
    args: DebugProtocol.SetBreakpointsArguments,
  ): void {
    this.answer(response, async () => {
      const inspector = this.connected;
      const file = args.source.path ?? '';
      for (const id of this.breakpoints.get(file) ?? [])
        await inspector.send('Debugger.removeBreakpoint', { breakpointId: id }).catch(() => {});
      const ids: string[] = [];
      const breakpoints: DebugProtocol.Breakpoint[] = [];
      // CommonJS and ES modules are both named by their file URL; a plain path covers older Nodes.
      const urlRegex = `^(?:${escapeRegExp(pathToFileURL(file).href)}|${escapeRegExp(file)})$`;
      for (const wanted of args.breakpoints ?? []) {
        const set = await inspector.send<Protocol.Debugger.SetBreakpointByUrlResponse>(
          'Debugger.setBreakpointByUrl',
          { urlRegex, lineNumber: wanted.line - 1, condition: wanted.condition ?? '' },
        );
        ids.push(set.breakpointId);
        const line = (set.locations[0]?.lineNumber ?? wanted.line - 1) + 1;
        breakpoints.push(new Breakpoint(true, line));
      }
      this.breakpoints.set(file, ids);
      return { breakpoints };
    });
  }

  protected override setExceptionBreakPointsRequest(
    response: DebugProtocol.SetExceptionBreakpointsResponse,
    args: DebugProtocol.SetExceptionBreakpointsArguments,
  ): void {
    const state = args.filters.includes('all')
      ? 'all'
      : args.filters.includes('uncaught')
        ? 'uncaught'
        : 'none';
    this.answer(response, () => this.connected.send('Debugger.setPauseOnExceptions', { state }));
  }

  protected override threadsRequest(response: DebugProtocol.ThreadsResponse): void {
    response.body = { threads: [new Thread(THREAD, 'main')] };
    this.sendResponse(response);
  }

  protected override stackTraceRequest(
    response: DebugProtocol.StackTraceResponse,
    args: DebugProtocol.StackTraceArguments,
  ): void {
    const start = args.startFrame ?? 0;
    const end = args.levels ? start + args.levels : this.frames.length;
    const stackFrames = this.frames.slice(start, end).map((frame, index) => {
      const url = this.scripts.get(frame.location.scriptId) ?? frame.url;
      const file = pathOfUrl(url);
      const source = new Source(file ? path.basename(file) : url, file ?? undefined);
      if (!file) (source as DebugProtocol.Source).presentationHint = 'deemphasize';
      return new StackFrame(
        start + index + 1,
        frame.functionName || '(anonymous)',
        source,
        frame.location.lineNumber + 1,
        (frame.location.columnNumber ?? 0) + 1,
      );
    });
    response.body = { stackFrames, totalFrames: this.frames.length };
    this.sendResponse(response);
  }

  private frame(frameId: number): Protocol.Debugger.CallFrame {
    const frame = this.frames[frameId - 1];
    if (!frame) throw new Error('That frame is gone: the program is no longer paused there.');
    return frame;
  }

  protected override scopesRequest(
    response: DebugProtocol.ScopesResponse,
    args: DebugProtocol.ScopesArguments,
  ): void {
    this.answer(response, async () => ({
      scopes: this.frame(args.frameId)
        .scopeChain.filter((scope) => scope.object.objectId)
        .map((scope) => {
          const name = scope.type[0]!.toUpperCase() + scope.type.slice(1);
          return new Scope(
            name,
            this.handles.create(scope.object.objectId!),
            scope.type === 'global',
          );
        }),
    }));
  }

  private variable(name: string, value: Protocol.Runtime.RemoteObject): DebugProtocol.Variable {
    const expandable =
      value.objectId &&
      (value.type === 'object' || value.type === 'function') &&
      value.subtype !== 'null';
    const variable = new Variable(
      name,
      describe(value),
      expandable && value.type === 'object' ? this.handles.create(value.objectId!) : 0,
    ) as DebugProtocol.Variable;
    variable.type = value.subtype ?? value.type;
    return variable;
  }

  protected override variablesRequest(
    response: DebugProtocol.VariablesResponse,
    args: DebugProtocol.VariablesArguments,
  ): void {
    this.answer(response, async () => {
      const objectId = this.handles.get(args.variablesReference);
      if (!objectId) return { variables: [] };
      const { result, internalProperties = [] } =
        await this.connected.send<Protocol.Runtime.GetPropertiesResponse>('Runtime.getProperties', {
          objectId,
          ownProperties: true,
          generatePreview: true,
        });
      const variables = [
        ...result.filter((property) => property.value && property.name !== '__proto__'),
        ...internalProperties.filter((property) => property.name === '[[Entries]]'),
      ]
        .slice(0, MAX_VARIABLES)
        .map((property) => this.variable(property.name, property.value!));
      return { variables };
    });
  }

  protected override evaluateRequest(
    response: DebugProtocol.EvaluateResponse,
    args: DebugProtocol.EvaluateArguments,
  ): void {
    this.answer(response, async () => {
      const options = {
        expression: args.expression,
        generatePreview: true,
        silent: args.context === 'hover',
      };
      const { result, exceptionDetails } = args.frameId
        ? await this.connected.send<Protocol.Debugger.EvaluateOnCallFrameResponse>(
            'Debugger.evaluateOnCallFrame',
            { ...options, callFrameId: this.frame(args.frameId).callFrameId },
          )
        : await this.connected.send<Protocol.Runtime.EvaluateResponse>('Runtime.evaluate', options);
      if (exceptionDetails)
        throw new Error(
          (exceptionDetails.exception?.description ?? exceptionDetails.text).split('\n')[0],
        );
      const variable = this.variable(args.expression, result);
      return {
        result: variable.value,
        type: variable.type,
        variablesReference: variable.variablesReference,
      };
    });
  }

  private command(response: DebugProtocol.Response, method: string): void {
    this.lastCommand = method;
    this.answer(response, async () => {
      await this.connected.send(method);
      return method === 'Debugger.resume' ? { allThreadsContinued: true } : undefined;
    });
  }

  protected override continueRequest(response: DebugProtocol.ContinueResponse): void {
    this.command(response, 'Debugger.resume');
  }

  protected override nextRequest(response: DebugProtocol.NextResponse): void {
    this.command(response, 'Debugger.stepOver');
  }

  protected override stepInRequest(response: DebugProtocol.StepInResponse): void {
    this.command(response, 'Debugger.stepInto');
  }

  protected override stepOutRequest(response: DebugProtocol.StepOutResponse): void {
    this.command(response, 'Debugger.stepOut');
  }

  protected override pauseRequest(response: DebugProtocol.PauseResponse): void {
    this.command(response, 'Debugger.pause');
  }

  /** Ends the program (SIGTERM, then SIGKILL if it lingers) and lets go of its inspector. */
  stopProgram(): void {
    const child = this.child;
    this.inspector?.close();
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 2000).unref();
  }

  protected override terminateRequest(response: DebugProtocol.TerminateResponse): void {
    this.stopProgram();
    this.sendResponse(response);
  }

  protected override disconnectRequest(
    response: DebugProtocol.DisconnectResponse,
    args: DebugProtocol.DisconnectArguments,
    request?: DebugProtocol.Request,
  ): void {
    this.stopProgram();
    super.disconnectRequest(response, args, request);
  }
}
