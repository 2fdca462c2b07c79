import type { ChildProcess } from 'node:child_process';
import type { DaemonMethod, DaemonParsedParams } from '@studio/protocol';
import { startDownload, startUpload } from './archive.ts';
import { CollabService } from './collab.ts';
import { CredentialBroker } from './credentials.ts';
import { desktopInput, desktopWindows, screenshot } from './desktop.ts';
import { startExec } from './exec.ts';
import { FileService } from './files.ts';
import { daemonInfo } from './info.ts';
import { startDebugAdapter } from './dap.ts';
import { startLanguageServer } from './lsp.ts';
import { listPorts, startTunnel } from './ports.ts';
import { PtyManager } from './pty.ts';
import { findRipgrep, searchText } from './search.ts';
import type { OutStream } from './streams.ts';
import { startWatch } from './watch.ts';

/** What every method handler shares: the workspace root and the daemon-wide state. */
export interface DaemonState {
  root: string;
  env: NodeJS.ProcessEnv;
  startedAt: number;
  files: FileService;
  /** Files open in editors, shared as Yjs documents. */
  collab: CollabService;
  ptys: PtyManager;
  /** Commands started with `exec.start`, killed on shutdown. */
  running: Set<ChildProcess>;
  ripgrep: Promise<string | null>;
  /** Forwards git's credential requests to the server. */
  credentials: CredentialBroker;
}

/** Build the daemon-wide state for a root (a realpath) and the environment children inherit. */
export function createDaemonState(
  root: string,
  env: NodeJS.ProcessEnv,
  shell: string | null,
  credentials = new CredentialBroker(),
) {
  const files = new FileService(root);
  return {
    root,
    env,
    startedAt: Date.now(),
    files,
    collab: new CollabService(root, files),
    ptys: new PtyManager({ root, env, shell }),
    running: new Set<ChildProcess>(),
    ripgrep: findRipgrep(env.PATH),
    credentials,
  } satisfies DaemonState;
}

/** What a handler may do on its connection. */
export interface HandlerContext {
  /** Allocate a stream; it starts sending once the `{ stream }` result is out. */
  openStream(): OutStream;
}

type Handler<M extends DaemonMethod> = (
  params: DaemonParsedParams<M>,
  context: HandlerContext,
  state: DaemonState,
) => Promise<unknown>;

// Stream handlers allocate the stream first so a failure before it starts can cancel it cleanly.
async function withStream(
  context: HandlerContext,
  start: (stream: OutStream) => Promise<unknown> | void,
): Promise<{ stream: number }> {
  const stream = context.openStream();
  try {
    await start(stream);
  } catch (error) {
    stream.cancel();
    throw error;
  }
  return { stream: stream.id };
}

/** Every daemon method's implementation; params arrive already validated. */
export const handlers: { [M in DaemonMethod]: Handler<M> } = {
  info: async (_params, _context, state) => daemonInfo(state.root, state.startedAt),
  'files.list': (params, _context, state) => state.files.list(params),
  'files.stat': (params, _context, state) => state.files.stat(params),
  'files.read': (params, _context, state) => state.files.read(params),
  'files.write': (params, _context, state) =>
    state.collab.write(params, () => state.files.write(params)),
  'files.mkdir': (params, _context, state) => state.files.mkdir(params),
  'files.move': (params, _context, state) => state.files.move(params),
  'files.delete': (params, _context, state) => state.files.delete(params),
  'files.watch': (params, context, state) =>
    withStream(context, (stream) => startWatch(state.root, params.path, stream)),
  'files.download': (params, context, state) =>
    withStream(context, (stream) => startDownload(state.root, params.path, stream)),
  'files.upload': (params, context, state) =>
    withStream(context, (stream) =>
      startUpload(state.root, params.path, { maxBytes: params.maxBytes }, stream),
    ),
  'pty.open': (params, _context, state) => state.ptys.open(params),
  'pty.attach': (params, context, state) =>
    withStream(context, (stream) => state.ptys.attach(params.id, stream, params.user)),
  'pty.resize': async (params, _context, state) => {
    state.ptys.resize(params.id, params.cols, params.rows);
    return {};
  },
  'pty.close': async (params, _context, state) => {
    state.ptys.close(params.id);
    return {};
  },
  'pty.rename': async (params, _context, state) => state.ptys.rename(params.id, params.title),
  'pty.list': async (_params, _context, state) => ({ ptys: state.ptys.list() }),
  'exec.start': (params, context, state) =>
    withStream(context, (stream) =>
      startExec(params, stream, { root: state.root, env: state.env, running: state.running }),
    ),
  'collab.open': (params, context, state) =>
    withStream(context, (stream) => state.collab.open(params, stream)),
  'collab.save': (params, _context, state) => state.collab.save(params),
  'presence.open': (params, context, state) =>
    withStream(context, (stream) => state.collab.joinPresence(params, stream)),
  'ports.list': async () => ({ ports: await listPorts() }),
  'lsp.open': (params, context, state) =>
    withStream(context, (stream) => startLanguageServer(params.language, stream, state)),
  'dap.open': (params, context, state) =>
    withStream(context, (stream) => startDebugAdapter(params, stream, state)),
  'tunnel.open': (params, context) =>
    withStream(context, (stream) => startTunnel(params.port, stream)),
  'credentials.serve': (_params, context, state) =>
    withStream(context, (stream) => state.credentials.serve(stream)),
  'credentials.answer': async (params, _context, state) => {
    state.credentials.answer(params);
    return {};
  },
  'desktop.screenshot': (params, _context, state) => screenshot(params, state.env),
  'desktop.input': (params, _context, state) => desktopInput(params, state.env),
  'desktop.windows': (_params, _context, state) => desktopWindows(state.env),
  'search.text': async (params, _context, state) =>
    searchText(state.root, params, await state.ripgrep),
};
