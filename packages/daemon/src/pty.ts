import { randomUUID } from 'node:crypto';
import { access, stat } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import path from 'node:path';
import type * as NodePtyModule from '@lydell/node-pty';
import type { IPty } from '@lydell/node-pty';
import type { CollabPeer, DaemonParsedParams, PtyInfo } from '@studio/protocol';
import { DaemonFailure } from './errors.ts';
import { resolveInRoot } from './paths.ts';
import type { OutStream } from './streams.ts';

/** How often the others are told that someone attached is typing. */
const TYPING_EVERY_MS = 1000;
/** Scrollback kept per PTY for replay on re-attach: enough for a screenful of history many times over. */
export const PTY_SCROLLBACK_BYTES = 1024 * 1024;
// An exited PTY stays listed this long so a reconnecting client can see how it ended.
const EXITED_RETENTION_MS = 10 * 60_000;

type NodePty = typeof NodePtyModule;
let nodePty: Promise<NodePty> | null = null;

// node-pty and its native addon cost a few MB; load them on the first terminal, not at start.
function loadNodePty(): Promise<NodePty> {
  nodePty ??= import('@lydell/node-pty').then(
    (module) => ((module as { default?: NodePty }).default ?? module) as NodePty,
  );
  return nodePty;
}

/** A byte ring buffer: appends whole chunks and drops the oldest bytes past its capacity. */
export class ScrollbackBuffer {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly capacity = PTY_SCROLLBACK_BYTES) {}

  /** Append output. */
  push(chunk: Buffer): void {
    if (chunk.byteLength >= this.capacity) {
      this.chunks = [Buffer.from(chunk.subarray(chunk.byteLength - this.capacity))];
      this.size = this.capacity;
      return;
    }
    this.chunks.push(chunk);
    this.size += chunk.byteLength;
    while (this.size > this.capacity) {
      const first = this.chunks[0]!;
      const excess = this.size - this.capacity;
      if (first.byteLength <= excess) {
        this.chunks.shift();
        this.size -= first.byteLength;
      } else {
        this.chunks[0] = first.subarray(excess);
        this.size -= excess;
      }
    }
  }

  /** Everything kept, oldest first. */
  contents(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }
}

interface PtySession {
  info: PtyInfo;
  pty: IPty;
  scrollback: ScrollbackBuffer;
  attachers: Set<OutStream>;
  blocked: Set<OutStream>;
  paused: boolean;
  removeTimer: NodeJS.Timeout | null;
  /** The foreground program's name as last told to the attachers. */
  process: string;
  processTimer: NodeJS.Timeout | null;
}

/** How often a terminal's foreground program is looked at, while someone is attached. */
const PROCESS_POLL_MS = 1000;

/** Settings the PTY manager gets from the daemon's configuration. */
export interface PtyManagerOptions {
  root: string;
  /** The environment every child inherits (the daemon's, minus its own settings). */
  env: NodeJS.ProcessEnv;
  /** Login shell when `pty.open` names no command; `null` picks bash, else sh. */
  shell: string | null;
}

/** Every PTY of the workspace. PTYs belong to the daemon, not to a connection: they outlive clients. */
export class PtyManager {
  private readonly sessions = new Map<string, PtySession>();

  constructor(private readonly options: PtyManagerOptions) {}

  /** Start a PTY. */
  async open(params: DaemonParsedParams<'pty.open'>): Promise<PtyInfo> {
    const cwd = await resolveInRoot(this.options.root, params.cwd ?? '.');
    if (!(await stat(cwd)).isDirectory()) {
      throw new DaemonFailure('not_a_directory', `"${params.cwd}" is not a directory`);
    }
    const command = params.command ?? (await this.defaultShell());
    // A bare shell is a login shell, so profile files set PATH the way a user expects.
    const args = params.command === undefined && params.args.length === 0 ? ['-l'] : params.args;
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(this.options.env)) {
      if (value !== undefined) env[key] = value;
    }
    Object.assign(env, { TERM: 'xterm-256color', COLORTERM: 'truecolor' }, params.env);
    const { spawn } = await loadNodePty();
    let pty: IPty;
    try {
      pty = spawn(command, args, {
        name: env.TERM ?? 'xterm-256color',
        cols: params.cols,
        rows: params.rows,
        cwd,
        env,
        // Raw bytes: a UTF-8 sequence split across reads must reach the terminal intact.
        encoding: null,
      } as Parameters<NodePty['spawn']>[2]);
    } catch (error) {
      throw new DaemonFailure(
        'not_found',
        `Cannot start "${command}": ${(error as Error).message}`,
      );
    }
    const session: PtySession = {
      info: {
        id: randomUUID(),
        pid: pty.pid,
        title: params.title ?? path.basename(command),
        command: [command, ...args].join(' '),
        cwd: params.cwd ?? '.',
        cols: params.cols,
        rows: params.rows,
        createdAt: Date.now(),
        exited: null,
        attached: 0,
      },
      pty,
      scrollback: new ScrollbackBuffer(),
      attachers: new Set(),
      blocked: new Set(),
      paused: false,
      removeTimer: null,
      process: path.basename(command),
      processTimer: null,
    };
    this.sessions.set(session.info.id, session);
    pty.onData((data: string | Buffer) => {
      const chunk = typeof data === 'string' ? Buffer.from(data) : data;
      session.scrollback.push(chunk);
      for (const stream of session.attachers) stream.write(chunk);
    });
    pty.onExit(({ exitCode, signal }) => {
      this.stopWatchingProcess(session);
      session.info.exited = { code: exitCode, signal: signal ? signal : null };
      for (const stream of session.attachers) this.finishAttacher(session, stream);
      session.attachers.clear();
      session.blocked.clear();
      session.info.attached = 0;
      if (this.sessions.get(session.info.id) === session) {
        session.removeTimer = setTimeout(
          () => this.sessions.delete(session.info.id),
          EXITED_RETENTION_MS,
        );
        session.removeTimer.unref();
      }
    });
    return { ...session.info };
  }

  /** Attach a stream: replay the scrollback, then live output; the stream's input goes to the PTY. */
  attach(id: string, stream: OutStream, user?: CollabPeer): void {
    const session = this.get(id);
    stream.write(session.scrollback.contents());
    if (session.info.exited) {
      this.finishAttacher(session, stream);
      return;
    }
    session.attachers.add(stream);
    session.info.attached = session.attachers.size;
    stream.event({ kind: 'process', name: session.process });
    this.watchProcess(session);
    let toldAt = 0;
    stream.handlers = {
      onInput: (payload) => {
        if (session.info.exited) return;
        session.pty.write(Buffer.from(payload) as unknown as string);
        // The others watching see who types, once a second at most.
        if (user && Date.now() - toldAt >= TYPING_EVERY_MS) {
          toldAt = Date.now();
          for (const other of session.attachers)
            if (other !== stream) other.event({ kind: 'typing', name: user.name });
        }
      },
      // Detaching never ends the shell: a reload or a server restart attaches again.
      onCancel: () => this.detach(session, stream),
      onClientEnd: () => this.detach(session, stream),
      onBlocked: (blocked) => {
        if (blocked) session.blocked.add(stream);
        else session.blocked.delete(stream);
        this.updatePause(session);
      },
    };
    if (stream.isBlocked) stream.handlers.onBlocked?.(true);
  }

  /** Change a PTY's size. */
  resize(id: string, cols: number, rows: number): void {
    const session = this.get(id);
    if (session.info.exited) return;
    session.pty.resize(cols, rows);
    session.info.cols = cols;
    session.info.rows = rows;
  }

  /** Kill a PTY's process and forget it. */
  close(id: string): void {
    const session = this.get(id);
    this.sessions.delete(id);
    if (session.removeTimer) clearTimeout(session.removeTimer);
    if (session.info.exited) return;
    killPty(session.pty);
  }

  /** Every PTY, running or recently exited. */
  list(): PtyInfo[] {
    return [...this.sessions.values()].map((session) => ({ ...session.info }));
  }

  /** Kill every PTY (daemon shutdown). */
  closeAll(): void {
    for (const id of [...this.sessions.keys()]) this.close(id);
  }

  rename(id: string, title: string): PtyInfo {
    const session = this.get(id);
    session.info.title = title;
    return { ...session.info };
  }

  private get(id: string): PtySession {
    const session = this.sessions.get(id);
    if (!session) throw new DaemonFailure('not_found', `No terminal with id "${id}"`);
    return session;
  }

  /**
   * While someone watches, tell them when the terminal's foreground program changes (node-pty
   * reads it from the PTY's foreground process group), so the tab can say what runs.
   */
  private watchProcess(session: PtySession): void {
    if (session.processTimer) return;
    session.processTimer = setInterval(() => {
      if (session.attachers.size === 0) return this.stopWatchingProcess(session);
      let name: string;
      try {
        // node-pty gives the program as it was started: "/bin/bash", or "-bash" for a login shell.
        name = path.basename(session.pty.process).replace(/^-/, '');
      } catch {
        return;
      }
      if (!name || name === session.process) return;
      session.process = name;
      for (const stream of session.attachers) stream.event({ kind: 'process', name });
    }, PROCESS_POLL_MS);
    session.processTimer.unref();
  }

  private stopWatchingProcess(session: PtySession): void {
    if (session.processTimer) clearInterval(session.processTimer);
    session.processTimer = null;
  }

  private detach(session: PtySession, stream: OutStream): void {
    session.attachers.delete(stream);
    session.blocked.delete(stream);
    session.info.attached = session.attachers.size;
    stream.end();
    this.updatePause(session);
  }

  private finishAttacher(session: PtySession, stream: OutStream): void {
    const exited = session.info.exited!;
    stream.event({
      kind: 'exit',
      code: exited.code,
      signal: exited.signal === null || exited.signal === 0 ? null : signalName(exited.signal),
      timedOut: false,
      truncated: false,
    });
    stream.end();
  }

  // One slow attacher pauses the shell for everyone: the alternative is buffering without bound.
  private updatePause(session: PtySession): void {
    const shouldPause = session.blocked.size > 0 && !session.info.exited;
    if (shouldPause === session.paused) return;
    session.paused = shouldPause;
    if (shouldPause) session.pty.pause();
    else session.pty.resume();
  }

  private async defaultShell(): Promise<string> {
    if (this.options.shell) return this.options.shell;
    for (const candidate of ['/bin/bash', '/bin/sh']) {
      try {
        await access(candidate);
        return candidate;
      } catch {
        // Try the next one.
      }
    }
    return '/bin/sh';
  }
}

function killPty(pty: IPty): void {
  try {
    pty.kill('SIGHUP');
  } catch {
    return;
  }
  // A shell that ignores SIGHUP (nohup, trap) is killed for real shortly after.
  const timer = setTimeout(() => {
    try {
      process.kill(pty.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }, 2000);
  timer.unref();
  pty.onExit(() => clearTimeout(timer));
}

/** The name of a signal number (`9` → `SIGKILL`). */
export function signalName(signal: number): string {
  const entry = Object.entries(osConstants.signals).find(([, value]) => value === signal);
  return entry ? entry[0] : String(signal);
}
