// Ghost-text completions from the assistant's completion model, for every editor of the page.
import type * as Monaco from 'monaco-editor/editor';
import type { CompletionBody } from '@studio/protocol';
import { requestCompletion } from '../../../api/ai-settings.ts';
import { completionPause } from '../../../api/completion-pause.ts';
import { ApiError, hasCode } from '../../../api/http.ts';

/** Characters sent before the cursor: enough context for a model, small enough to answer fast. */
export const PREFIX_LIMIT = 8_000;
/** Characters sent after the cursor (fill-in-the-middle). */
export const SUFFIX_LIMIT = 2_000;
/** Quiet time after a keystroke before asking; Monaco cancels the token on the next keystroke. */
export const DEBOUNCE_MS = 250;

/** The part of Monaco's CancellationToken we use, so the logic is testable without Monaco. */
export interface CancelToken {
  readonly isCancellationRequested: boolean;
  onCancellationRequested(listener: () => void): { dispose(): void };
}

/** Where a model's file lives, or `null` for models that are not workspace files (diffs). */
export interface FileLocation {
  workspace: string;
  path: string;
}

/** Asks the server for the completion text; rejects with an ApiError, or on abort. */
export type CompletionRequest = (
  workspace: string,
  body: CompletionBody,
  signal: AbortSignal,
) => Promise<string>;

/** Timers, injectable so tests control time. */
export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: Timers = {
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * The file behind a model URI as the editor builds it (`file://<workspace>/<path>`, see
 * CodeEditor's `fileUri`); diff and conflict views use `inmemory:` models and get no completions.
 */
export function locateFileModel(uri: {
  scheme: string;
  authority: string;
  path: string;
}): FileLocation | null {
  if (uri.scheme !== 'file' || !uri.authority || uri.path.length < 2) return null;
  return { workspace: uri.authority, path: uri.path.slice(1) };
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/** The last `prefixLimit` characters before the cursor and the first `suffixLimit` after it. */
export function clipContext(
  before: string,
  after: string,
  prefixLimit = PREFIX_LIMIT,
  suffixLimit = SUFFIX_LIMIT,
): { prefix: string; suffix: string } {
  let prefix = before.length > prefixLimit ? before.slice(before.length - prefixLimit) : before;
  let suffix = after.length > suffixLimit ? after.slice(0, suffixLimit) : after;
  // Never send half of an emoji: a lone surrogate is not valid UTF-8 on the way out.
  if (prefix.length < before.length && isLowSurrogate(prefix.charCodeAt(0))) {
    prefix = prefix.slice(1);
  }
  if (suffix.length < after.length && isHighSurrogate(suffix.charCodeAt(suffix.length - 1))) {
    suffix = suffix.slice(0, -1);
  }
  return { prefix, suffix };
}

/** Wait `ms`; `false` as soon as `token` is cancelled (before or during the wait). */
export function waitUnlessCancelled(
  ms: number,
  token: CancelToken,
  timers: Timers = realTimers,
): Promise<boolean> {
  if (token.isCancellationRequested) return Promise.resolve(false);
  return new Promise((resolve) => {
    const subscription = token.onCancellationRequested(() => {
      timers.clearTimeout(handle);
      subscription.dispose();
      resolve(false);
    });
    const handle = timers.setTimeout(() => {
      subscription.dispose();
      resolve(!token.isCancellationRequested);
    }, ms);
  });
}

/** Where the source records that it stopped asking, and why (shown once, in the editor). */
export interface PauseSwitch {
  get(): string | null;
  pause(reason: string, quietly?: boolean): void;
}

/** Options of {@link createCompletionSource}. */
export interface CompletionSourceOptions {
  request: CompletionRequest;
  delayMs?: number;
  timers?: Timers;
  pause?: PauseSwitch;
}

/** What the editor knows at the cursor. */
export interface CompletionInput extends FileLocation {
  language: string;
  /** Text before the cursor, already clipped. */
  prefix: string;
  /** Text after the cursor, already clipped. */
  suffix: string;
  /** Asked for by the person (Alt+\): no debounce. */
  explicit?: boolean;
}

/**
 * The completion logic without Monaco: debounce, cancel (the token aborts the fetch), and on the
 * server's first refusal (no model, a model that fails) stop asking and say why once, instead of
 * failing on every pause; asking resumes when the AI settings change.
 */
export function createCompletionSource({
  request,
  delayMs = DEBOUNCE_MS,
  timers = realTimers,
  pause = completionPause,
}: CompletionSourceOptions) {
  return {
    /** True while paused by a refusal. */
    get stopped(): boolean {
      return pause.get() !== null;
    },
    /** The ghost text for `input`, or `null` (cancelled, empty, failed, paused). */
    async complete(input: CompletionInput, token: CancelToken): Promise<string | null> {
      if (this.stopped) return null;
      if (!input.explicit && !(await waitUnlessCancelled(delayMs, token, timers))) return null;
      if (token.isCancellationRequested || this.stopped) return null;

      const controller = new AbortController();
      const subscription = token.onCancellationRequested(() => controller.abort());
      try {
        const text = await request(
          input.workspace,
          {
            path: input.path,
            language: input.language,
            prefix: input.prefix,
            suffix: input.suffix,
          },
          controller.signal,
        );
        return token.isCancellationRequested || !text ? null : text;
      } catch (error) {
        // An abort is the next keystroke; anything the server answered stops the asking.
        // No model at all is nothing to warn about in the editor: stop asking, quietly.
        if (error instanceof ApiError && !token.isCancellationRequested)
          pause.pause(error.message, hasCode(error, 'ai_not_configured'));
        return null;
      } finally {
        subscription.dispose();
      }
    },
  };
}

/** Options of {@link registerInlineCompletions}. */
export interface InlineCompletionsOptions {
  request?: CompletionRequest;
  /** The workspace and path of a model; by default read from its `file://<workspace>/<path>` URI. */
  locate?: (model: Monaco.editor.ITextModel) => FileLocation | null;
  delayMs?: number;
}

/**
 * Register the assistant as an inline completions provider for every language. Monaco shows the
 * answer as ghost text at the cursor; Tab accepts it. Returns the registration to dispose.
 */
export function registerInlineCompletions(
  monaco: typeof Monaco,
  {
    request = requestCompletion,
    locate = (model) => locateFileModel(model.uri),
    delayMs,
  }: InlineCompletionsOptions = {},
): Monaco.IDisposable {
  const source = createCompletionSource({ request, delayMs });

  return monaco.languages.registerInlineCompletionsProvider('*', {
    displayName: 'Prometheus Studio assistant',
    async provideInlineCompletions(model, position, context, token) {
      if (source.stopped) return { items: [] };
      const location = locate(model);
      if (!location) return { items: [] };

      // One character past each limit, so clipContext can tell a cut from the file's edge.
      const offset = model.getOffsetAt(position);
      const start = model.getPositionAt(Math.max(0, offset - PREFIX_LIMIT - 1));
      const end = model.getPositionAt(offset + SUFFIX_LIMIT + 1);
      const { prefix, suffix } = clipContext(
        model.getValueInRange(monaco.Range.fromPositions(start, position)),
        model.getValueInRange(monaco.Range.fromPositions(position, end)),
      );

      const text = await source.complete(
        {
          ...location,
          language: model.getLanguageId(),
          prefix,
          suffix,
          explicit: context.triggerKind === monaco.languages.InlineCompletionTriggerKind.Explicit,
        },
        token,
      );
      if (text === null || model.isDisposed()) return { items: [] };
      return {
        items: [{ insertText: text, range: monaco.Range.fromPositions(position, position) }],
      };
    },
    disposeInlineCompletions() {
      // Nothing is held per list: the fetch is finished or aborted by the time Monaco lets go.
    },
  });
}
