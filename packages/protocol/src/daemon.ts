// zod/mini: the daemon validates every request with these schemas, and the full zod build
// would add ~12 MB to each workspace daemon's memory (measured; see bench). Same core, same
// types, functions instead of chained methods.
import * as z from 'zod/mini';
import { ERROR_CODES } from './error-codes.ts';

/**
 * The workspace daemon protocol: requests, responses and streams multiplexed over one WebSocket.
 *
 * - Text frames carry JSON messages (`DaemonClientMessage` / `DaemonServerMessage`).
 * - Binary frames carry stream bytes: a 4-byte big-endian stream id, a 1-byte channel, then the
 *   payload (see `encodeFrame`). Channel 0 is data (PTY output, stdout, tunnel bytes, tar bytes),
 *   channel 1 is stderr.
 * - A request that opens a stream (PTY attach, exec, tunnel, watch, upload, download) answers with
 *   `{ stream }`; the stream then carries frames and `event` messages until an `end` message.
 * - Flow control: the daemon sends at most `STREAM_WINDOW_BYTES` unacknowledged bytes per stream;
 *   the client acknowledges what it has consumed with `ack`. A slow client therefore pauses the
 *   source (the PTY, the process, the socket) instead of growing memory on either side.
 */

/**
 * Protocol version. Bump on any incompatible change; the daemon and its client refuse to talk
 * across versions and say which side to update, instead of misbehaving.
 */
export const DAEMON_PROTOCOL_VERSION = 1;
/** Header the client sends with its protocol version on the WebSocket upgrade. */
export const DAEMON_PROTOCOL_HEADER = 'x-studio-daemon-protocol';
/** Unacknowledged bytes a stream may have in flight before its source is paused. */
export const STREAM_WINDOW_BYTES = 256 * 1024;
/** Binary frame channels. */
export const CHANNEL = { data: 0, stderr: 1 } as const;

/** A daemon error: the same `{ code, message, detail }` shape as the HTTP API. */
export const daemonErrorSchema = z.object({
  code: z.enum(ERROR_CODES),
  message: z.string(),
  detail: z.optional(z.unknown()),
});

// --- shared shapes ---

/** A workspace-relative path (absolute paths are taken relative to the workspace root). */
const path = z.string().check(
  z.maxLength(4096),
  z.refine((value) => !value.includes('\0'), 'must not contain NUL bytes'),
);
const envMap = z.record(
  z.string().check(z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/)),
  z.string().check(z.maxLength(32_768)),
);
const int = (min: number, max?: number) =>
  z.int().check(z.gte(min), ...(max === undefined ? [] : [z.lte(max)]));

/** One directory entry. */
export const fileEntrySchema = z.object({
  name: z.string(),
  path: z.string(),
  type: z.enum(['file', 'directory', 'symlink', 'other']),
  size: z.number(),
  mtimeMs: z.number(),
});
/** One directory entry. */
export type FileEntry = z.infer<typeof fileEntrySchema>;

/** A running or exited PTY. */
export const ptyInfoSchema = z.object({
  id: z.string(),
  pid: z.number(),
  title: z.string(),
  command: z.string(),
  cwd: z.string(),
  cols: z.number(),
  rows: z.number(),
  createdAt: z.number(),
  exited: z.nullable(z.object({ code: z.number(), signal: z.nullable(z.number()) })),
  attached: z.number(),
});
/** A running or exited PTY. */
export type PtyInfo = z.infer<typeof ptyInfoSchema>;

/** A TCP port listening inside the workspace. */
export const listeningPortSchema = z.object({
  port: z.number(),
  address: z.string(),
  pid: z.nullable(z.number()),
  process: z.nullable(z.string()),
});
/** A TCP port listening inside the workspace. */
export type ListeningPort = z.infer<typeof listeningPortSchema>;

/** One search hit. */
export const searchMatchSchema = z.object({
  path: z.string(),
  line: z.number(),
  column: z.number(),
  /** The match's length in characters (from `column`, on that line). */
  length: z.number(),
  text: z.string(),
});
/** One search hit. */
export type SearchMatch = z.infer<typeof searchMatchSchema>;

/** What the daemon says about itself. */
export const daemonInfoSchema = z.object({
  version: z.string(),
  protocol: z.number(),
  pid: z.number(),
  uptimeMs: z.number(),
  root: z.string(),
  user: z.object({ uid: z.number(), gid: z.number(), name: z.string() }),
  cpu: z.object({ cores: z.number(), loadavg: z.array(z.number()), usageMicros: z.number() }),
  memory: z.object({ daemonRss: z.number(), limit: z.nullable(z.number()), used: z.number() }),
});
/** What the daemon says about itself. */
export type DaemonInfo = z.infer<typeof daemonInfoSchema>;

/** A change seen by `files.watch`. */
export const fileChangeSchema = z.object({
  path: z.string(),
  kind: z.enum(['created', 'changed', 'deleted']),
});
/** A change seen by `files.watch`. */
export type FileChange = z.infer<typeof fileChangeSchema>;

const streamResult = z.object({ stream: z.number() });

/** The languages whose servers a workspace can run (`lsp.open`), by Monaco's language id. */
export const LSP_LANGUAGES = [
  'python',
  'typescript',
  'javascript',
  'go',
  'cpp',
  'c',
  'rust',
] as const;
export type LspLanguage = (typeof LSP_LANGUAGES)[number];

/** The debug adapters a workspace can run (`dap.open`), by the language they debug. */
export const DEBUG_ADAPTERS = ['python', 'go', 'node'] as const;
export type DebugAdapter = (typeof DEBUG_ADAPTERS)[number];

const coordinate = int(0, 16_384);

/**
 * One desktop action, the Anthropic computer-use set: coordinates are the screen's own pixels
 * (callers that showed a scaled screenshot map back with its sizes). Keys use xdotool names
 * (`ctrl+s`, `Return`, `super`).
 */
export const desktopActionSchema = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('mouse_move'), x: coordinate, y: coordinate }),
  z.strictObject({
    action: z.enum(['left_click', 'right_click', 'middle_click', 'double_click', 'triple_click']),
    x: z.optional(coordinate),
    y: z.optional(coordinate),
    /** Keys held during the click, e.g. `shift` or `ctrl+shift`. */
    hold: z.optional(z.string().check(z.maxLength(100))),
  }),
  z.strictObject({
    action: z.literal('left_click_drag'),
    startX: coordinate,
    startY: coordinate,
    x: coordinate,
    y: coordinate,
  }),
  z.strictObject({
    action: z.literal('scroll'),
    x: coordinate,
    y: coordinate,
    direction: z.enum(['up', 'down', 'left', 'right']),
    amount: z._default(int(1, 50), 3),
  }),
  z.strictObject({
    action: z.literal('key'),
    keys: z.string().check(z.minLength(1), z.maxLength(200)),
  }),
  z.strictObject({
    action: z.literal('type'),
    text: z.string().check(z.minLength(1), z.maxLength(20_000)),
  }),
  z.strictObject({ action: z.literal('cursor_position') }),
  z.strictObject({ action: z.literal('wait'), ms: int(1, 60_000) }),
]);
/** One desktop action. */
export type DesktopAction = z.infer<typeof desktopActionSchema>;

/** A peer in a shared document, as the others see it: a person or an agent run. */
export const collabPeerSchema = z.strictObject({
  name: z.string().check(z.minLength(1), z.maxLength(100)),
  /** Stable per person (their id): the same colour on every screen. */
  key: z.string().check(z.minLength(1), z.maxLength(64)),
  kind: z._default(z.enum(['person', 'agent']), 'person'),
});
export type CollabPeer = z.infer<typeof collabPeerSchema>;

/**
 * Every daemon method: its params and its result. Methods whose result is `{ stream }` open a
 * stream; their events are listed in `daemonStreamEventSchema`.
 */
export const daemonMethods = {
  info: { params: z.strictObject({}), result: daemonInfoSchema },

  'files.list': {
    params: z.strictObject({ path }),
    result: z.object({ entries: z.array(fileEntrySchema) }),
  },
  'files.stat': {
    params: z.strictObject({ path }),
    result: z.extend(fileEntrySchema, { version: z.nullable(z.string()) }),
  },
  'files.read': {
    params: z.strictObject({
      path,
      /** Refuse files larger than this (default 5 MiB) with `payload_too_large`. */
      maxBytes: z.optional(int(1, 64 * 1024 * 1024)),
    }),
    result: z.object({
      /** UTF-8 text, or base64 when `binary` is true. */
      content: z.string(),
      encoding: z.enum(['utf8', 'base64']),
      binary: z.boolean(),
      size: z.number(),
      /** Opaque content version; pass it back as `expectedVersion` to detect a newer change. */
      version: z.string(),
    }),
  },
  'files.write': {
    params: z.strictObject({
      path,
      content: z.string(),
      encoding: z._default(z.enum(['utf8', 'base64']), 'utf8'),
      /** `null` means "the file must not exist yet"; a string means "must still be this version". */
      expectedVersion: z.optional(z.nullable(z.string())),
      createParents: z._default(z.boolean(), false),
      /**
       * Who wrote it, when not a person at the editor (an agent run): if the file is open as a
       * shared document, the change lands in it as an edit by this peer, with its cursor.
       */
      author: z.optional(collabPeerSchema),
    }),
    result: z.object({ version: z.string(), size: z.number() }),
  },
  'files.mkdir': {
    params: z.strictObject({ path, recursive: z._default(z.boolean(), false) }),
    result: z.object({}),
  },
  'files.move': {
    params: z.strictObject({ from: path, to: path, overwrite: z._default(z.boolean(), false) }),
    result: z.object({}),
  },
  'files.delete': {
    params: z.strictObject({ path, recursive: z._default(z.boolean(), false) }),
    result: z.object({}),
  },
  /** Stream: `changes` events, debounced. */
  'files.watch': { params: z.strictObject({ path }), result: streamResult },
  /** Stream: tar bytes on channel 0, then `end`. */
  'files.download': { params: z.strictObject({ path }), result: streamResult },
  /** Stream: the client sends tar bytes then `end`; the daemon answers `uploaded` then `end`. */
  'files.upload': {
    params: z.strictObject({
      path,
      /** Refuse archives that unpack to more than this (default 1 GiB): zip bombs. */
      maxBytes: z.optional(int(1)),
    }),
    result: streamResult,
  },

  'pty.open': {
    params: z.strictObject({
      command: z.optional(z.string().check(z.maxLength(4096))),
      args: z._default(z.array(z.string().check(z.maxLength(32_768))).check(z.maxLength(256)), []),
      cwd: z.optional(path),
      env: z._default(envMap, {}),
      cols: z._default(int(1, 1000), 80),
      rows: z._default(int(1, 1000), 24),
      title: z.optional(z.string().check(z.maxLength(200))),
    }),
    result: ptyInfoSchema,
  },
  /** Stream: scrollback replay then live output on channel 0; input as binary frames; `exit`. */
  'pty.attach': {
    params: z.strictObject({
      id: z.string(),
      /** Who is attached: the others attached are told when this one types (`typing`). */
      user: z.optional(collabPeerSchema),
    }),
    result: streamResult,
  },
  'pty.resize': {
    params: z.strictObject({
      id: z.string(),
      cols: int(1, 1000),
      rows: int(1, 1000),
    }),
    result: z.object({}),
  },
  'pty.close': { params: z.strictObject({ id: z.string() }), result: z.object({}) },
  /** Rename a terminal; the name lives with the PTY, so every client (and a reload) sees it. */
  'pty.rename': {
    params: z.strictObject({
      id: z.string(),
      title: z.string().check(z.minLength(1), z.maxLength(200)),
    }),
    result: ptyInfoSchema,
  },
  'pty.list': { params: z.strictObject({}), result: z.object({ ptys: z.array(ptyInfoSchema) }) },

  /** Stream: stdout on channel 0, stderr on channel 1, stdin as binary frames; `exit`. */
  'exec.start': {
    params: z.strictObject({
      command: z.string().check(z.minLength(1), z.maxLength(4096)),
      args: z._default(
        z.array(z.string().check(z.maxLength(131_072))).check(z.maxLength(4096)),
        [],
      ),
      cwd: z.optional(path),
      env: z._default(envMap, {}),
      /** Kill the process (SIGKILL to its group) after this long; default 10 minutes. */
      timeoutMs: z.optional(int(1, 24 * 3600_000)),
      /** Stop forwarding output past this many bytes (the process keeps running); default 16 MiB. */
      maxOutputBytes: z.optional(int(1)),
    }),
    result: streamResult,
  },

  'ports.list': {
    params: z.strictObject({}),
    result: z.object({ ports: z.array(listeningPortSchema) }),
  },
  /**
   * Stream: the shared document of a text file — the Yjs sync and awareness protocol (as
   * y-websocket speaks it), one message per binary frame on channel 0 both ways. Everyone who has
   * the file open shares one document; `readOnly` peers receive but their edits are dropped; the
   * daemon stamps each peer's awareness with `user` so nobody can show as someone else.
   * `generation` is the document a reconnecting editor had: a different one (the daemon restarted)
   * is `conflict`, and the editor starts over from the document as it is.
   */
  'collab.open': {
    params: z.strictObject({
      path,
      readOnly: z._default(z.boolean(), false),
      user: collabPeerSchema,
      generation: z.optional(z.string().check(z.maxLength(64))),
    }),
    result: streamResult,
  },
  /**
   * Stream: who is where in the workspace's IDE — y-websocket's awareness protocol over an empty
   * document nobody writes; each peer's state says its file and line, stamped with `user`.
   */
  'presence.open': {
    params: z.strictObject({ user: collabPeerSchema }),
    result: streamResult,
  },
  /** Write a shared document's text to its file (anyone's Ctrl+S). */
  'collab.save': {
    params: z.strictObject({ path }),
    result: z.object({ version: z.string(), size: z.number() }),
  },
  /**
   * Stream: a language server for `language` started in the workspace, its stdio both ways on
   * channel 0 (LSP's Content-Length framing); `not_found` says how to install a missing one.
   */
  'lsp.open': {
    params: z.strictObject({ language: z.enum(LSP_LANGUAGES) }),
    result: streamResult,
  },
  /**
   * Stream: a debug adapter (debugpy, Delve) started in the workspace, the Debug Adapter
   * Protocol both ways on channel 0 (Content-Length framing); `not_found` says how to install it.
   * `cwd` is the folder it starts in (Delve builds the Go module found from there).
   */
  'dap.open': {
    params: z.strictObject({ adapter: z.enum(DEBUG_ADAPTERS), cwd: z.optional(path) }),
    result: streamResult,
  },
  /** Stream: raw TCP bytes both ways on channel 0; `end` from either side closes it. */
  'tunnel.open': {
    params: z.strictObject({ port: int(1, 65_535) }),
    result: streamResult,
  },

  /**
   * Stream: `credential.request` events, one per time git in the workspace asks the daemon's
   * credential helper for a password; the client answers each with `credentials.answer`. The
   * daemon asks the most recently opened stream, so one client per workspace should serve.
   */
  'credentials.serve': { params: z.strictObject({}), result: streamResult },
  /** The answer to a `credential.request`; no `password` means "no credential for that host". */
  'credentials.answer': {
    params: z.strictObject({
      id: z.string().check(z.maxLength(64)),
      username: z.optional(z.string().check(z.maxLength(1024))),
      password: z.optional(z.string().check(z.maxLength(16_384))),
    }),
    result: z.object({}),
  },

  /** A PNG of the workspace's display, scaled down to fit `maxWidth`×`maxHeight` (never up). */
  'desktop.screenshot': {
    params: z.strictObject({
      maxWidth: z.optional(int(16, 8192)),
      maxHeight: z.optional(int(16, 8192)),
    }),
    result: z.object({
      /** Base64 PNG. */
      png: z.string(),
      width: z.number(),
      height: z.number(),
      /** The screen's own size: multiply a screenshot coordinate by screenWidth / width. */
      screenWidth: z.number(),
      screenHeight: z.number(),
    }),
  },
  /**
   * Mouse, keyboard and waits; answers the pointer position after the action, and a warning when
   * its effect could not be confirmed (a click whose window did not take the focus, keys typed
   * while no window had it).
   */
  'desktop.input': {
    params: desktopActionSchema,
    result: z.object({ x: z.number(), y: z.number(), warning: z.optional(z.string()) }),
  },
  /** The windows the desktop's window manager shows (EWMH), and which one has the focus. */
  'desktop.windows': {
    params: z.strictObject({}),
    result: z.object({
      windows: z.array(
        z.object({
          /** `normal`, `dock`, `dialog`, … from `_NET_WM_WINDOW_TYPE`. */
          type: z.string(),
          title: z.string(),
          focused: z.boolean(),
        }),
      ),
    }),
  },

  'search.text': {
    params: z.strictObject({
      query: z.string().check(z.minLength(1), z.maxLength(1000)),
      path: z._default(path, '.'),
      regex: z._default(z.boolean(), false),
      caseSensitive: z._default(z.boolean(), false),
      maxResults: z._default(int(1, 10_000), 500),
    }),
    result: z.object({
      matches: z.array(searchMatchSchema),
      truncated: z.boolean(),
      engine: z.enum(['ripgrep', 'builtin']),
    }),
  },
} as const;

/** A daemon method name. */
export type DaemonMethod = keyof typeof daemonMethods;
/** Params a caller passes for a method (defaults may be omitted). */
export type DaemonParams<M extends DaemonMethod> = z.input<(typeof daemonMethods)[M]['params']>;
/** Params as the daemon sees them after validation (defaults filled in). */
export type DaemonParsedParams<M extends DaemonMethod> = z.output<
  (typeof daemonMethods)[M]['params']
>;
/** The result of a method. */
export type DaemonResult<M extends DaemonMethod> = z.output<(typeof daemonMethods)[M]['result']>;

/** Events on a stream besides its binary frames. */
export const daemonStreamEventSchema = z.discriminatedUnion('kind', [
  /** A process (PTY or exec) ended. */
  z.object({
    kind: z.literal('exit'),
    code: z.nullable(z.number()),
    signal: z.nullable(z.string()),
    timedOut: z._default(z.boolean(), false),
    truncated: z._default(z.boolean(), false),
  }),
  /** What runs in the foreground of a PTY now (its shell, or the command typed in it). */
  z.object({ kind: z.literal('process'), name: z.string() }),
  /** Someone else attached to this PTY typed into it (at most once a second each). */
  z.object({ kind: z.literal('typing'), name: z.string() }),
  z.object({ kind: z.literal('changes'), changes: z.array(fileChangeSchema) }),
  z.object({ kind: z.literal('uploaded'), files: z.number(), bytes: z.number() }),
  /** git asked for a credential (`credentials.serve`): what its credential protocol named. */
  z.object({
    kind: z.literal('credential.request'),
    id: z.string(),
    protocol: z.string(),
    host: z.string(),
    path: z.optional(z.string()),
  }),
]);
/** An event on a stream. */
export type DaemonStreamEvent = z.infer<typeof daemonStreamEventSchema>;

/** Messages from the client (the server) to the daemon. */
export const daemonClientMessageSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('request'),
    id: int(0),
    method: z.string(),
    params: z.unknown(),
  }),
  /** The client consumed `bytes` of a stream: the daemon may send that much more. */
  z.object({ type: z.literal('ack'), stream: z.number(), bytes: int(1) }),
  /** The client has no more input for a stream (upload done, tunnel half-close, stdin EOF). */
  z.object({ type: z.literal('end'), stream: z.number() }),
  /** Tear a stream down: kill an exec, detach from a PTY, close a tunnel or a watch. */
  z.object({ type: z.literal('cancel'), stream: z.number() }),
]);
/** A message from the client to the daemon. */
export type DaemonClientMessage = z.infer<typeof daemonClientMessageSchema>;

/** Messages from the daemon to the client. */
export const daemonServerMessageSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('hello'),
    protocol: z.number(),
    version: z.string(),
    pid: z.number(),
  }),
  z.object({ type: z.literal('result'), id: z.number(), result: z.unknown() }),
  z.object({ type: z.literal('error'), id: z.number(), error: daemonErrorSchema }),
  z.object({ type: z.literal('event'), stream: z.number(), event: daemonStreamEventSchema }),
  /** The stream is over; `error` says why when it ended abnormally. */
  z.object({ type: z.literal('end'), stream: z.number(), error: z.optional(daemonErrorSchema) }),
]);
/** A message from the daemon to the client. */
export type DaemonServerMessage = z.infer<typeof daemonServerMessageSchema>;

/** Build a binary stream frame: `[u32 stream][u8 channel][payload]`. */
export function encodeFrame(stream: number, channel: number, payload: Uint8Array): Uint8Array {
  const frame = new Uint8Array(5 + payload.byteLength);
  const view = new DataView(frame.buffer);
  view.setUint32(0, stream);
  view.setUint8(4, channel);
  frame.set(payload, 5);
  return frame;
}

/** Split a binary stream frame; `null` when it is too short to be one. */
export function decodeFrame(
  frame: Uint8Array,
): { stream: number; channel: number; payload: Uint8Array } | null {
  if (frame.byteLength < 5) return null;
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  return {
    stream: view.getUint32(0),
    channel: view.getUint8(4),
    payload: frame.subarray(5),
  };
}
