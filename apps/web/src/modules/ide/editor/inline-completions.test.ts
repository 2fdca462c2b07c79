import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../../../api/http.ts';
import {
  clipContext,
  createCompletionSource,
  locateFileModel,
  waitUnlessCancelled,
  type CancelToken,
  type CompletionInput,
  type CompletionRequest,
} from './inline-completions.ts';

/** A CancellationToken like Monaco's: `cancel()` is the next keystroke. */
class FakeToken implements CancelToken {
  isCancellationRequested = false;
  private listeners = new Set<() => void>();
  onCancellationRequested(listener: () => void) {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }
  cancel() {
    this.isCancellationRequested = true;
    for (const listener of [...this.listeners]) listener();
  }
  get listenerCount() {
    return this.listeners.size;
  }
}

const INPUT: CompletionInput = {
  workspace: 'demo',
  path: 'src/main.ts',
  language: 'typescript',
  prefix: 'const x = ',
  suffix: ';\n',
};

describe('clipContext', () => {
  it('keeps the text nearest the cursor', () => {
    expect(clipContext('abcdef', 'uvwxyz', 3, 2)).toEqual({ prefix: 'def', suffix: 'uv' });
    expect(clipContext('ab', 'yz', 3, 2)).toEqual({ prefix: 'ab', suffix: 'yz' });
  });

  it('never splits a surrogate pair at a cut', () => {
    // '😀' is two UTF-16 units; a cut through it drops the orphaned half.
    expect(clipContext('a😀b', '', 2, 0).prefix).toBe('b');
    expect(clipContext('a😀b', '', 3, 0).prefix).toBe('😀b');
    expect(clipContext('', 'a😀b', 0, 2).suffix).toBe('a');
    expect(clipContext('😀b', '', 3, 0).prefix).toBe('😀b');
  });

  it('caps at 8 000 characters before and 2 000 after by default', () => {
    const { prefix, suffix } = clipContext('p'.repeat(9_000), 's'.repeat(3_000));
    expect(prefix).toHaveLength(8_000);
    expect(suffix).toHaveLength(2_000);
  });
});

describe('locateFileModel', () => {
  it('reads the workspace and path from the editor model URI', () => {
    expect(locateFileModel({ scheme: 'file', authority: 'demo', path: '/src/a b.ts' })).toEqual({
      workspace: 'demo',
      path: 'src/a b.ts',
    });
  });

  it('ignores models that are not workspace files', () => {
    expect(locateFileModel({ scheme: 'inmemory', authority: 'model', path: '/1' })).toBeNull();
    expect(locateFileModel({ scheme: 'file', authority: '', path: '/x' })).toBeNull();
  });
});

describe('waitUnlessCancelled', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('resolves true after the delay', async () => {
    const token = new FakeToken();
    const waited = waitUnlessCancelled(250, token);
    await vi.advanceTimersByTimeAsync(250);
    await expect(waited).resolves.toBe(true);
    expect(token.listenerCount).toBe(0);
  });

  it('resolves false at once when cancelled during the wait', async () => {
    const token = new FakeToken();
    const waited = waitUnlessCancelled(250, token);
    await vi.advanceTimersByTimeAsync(100);
    token.cancel();
    await expect(waited).resolves.toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('does not wait for an already cancelled token', async () => {
    const token = new FakeToken();
    token.cancel();
    await expect(waitUnlessCancelled(250, token)).resolves.toBe(false);
  });
});

describe('createCompletionSource', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('asks once the typing pauses and returns the text', async () => {
    const request = vi.fn<CompletionRequest>().mockResolvedValue('42');
    const source = createCompletionSource({ request });
    const result = source.complete(INPUT, new FakeToken());
    await vi.advanceTimersByTimeAsync(249);
    expect(request).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    await expect(result).resolves.toBe('42');
    expect(request).toHaveBeenCalledWith(
      'demo',
      { path: 'src/main.ts', language: 'typescript', prefix: 'const x = ', suffix: ';\n' },
      expect.any(AbortSignal),
    );
  });

  it('never asks when typing goes on during the debounce', async () => {
    const request = vi.fn<CompletionRequest>().mockResolvedValue('42');
    const source = createCompletionSource({ request });
    const token = new FakeToken();
    const result = source.complete(INPUT, token);
    await vi.advanceTimersByTimeAsync(100);
    token.cancel();
    await vi.advanceTimersByTimeAsync(500);
    await expect(result).resolves.toBeNull();
    expect(request).not.toHaveBeenCalled();
  });

  it('aborts the request when the token is cancelled mid-flight', async () => {
    let signal: AbortSignal | undefined;
    const request = vi.fn<CompletionRequest>((_workspace, _body, abort) => {
      signal = abort;
      return new Promise((_resolve, reject) =>
        abort.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))),
      );
    });
    const source = createCompletionSource({ request });
    const token = new FakeToken();
    const result = source.complete(INPUT, token);
    await vi.advanceTimersByTimeAsync(250);
    expect(signal?.aborted).toBe(false);
    token.cancel();
    expect(signal?.aborted).toBe(true);
    await expect(result).resolves.toBeNull();
    expect(token.listenerCount).toBe(0);
  });

  it('skips the debounce when asked for explicitly', async () => {
    const request = vi.fn<CompletionRequest>().mockResolvedValue('x');
    const source = createCompletionSource({ request });
    await expect(source.complete({ ...INPUT, explicit: true }, new FakeToken())).resolves.toBe('x');
  });

  it('returns nothing for an empty answer; a refusal pauses asking, with its reason, until resumed', async () => {
    const request = vi
      .fn<CompletionRequest>()
      .mockResolvedValueOnce('')
      .mockRejectedValueOnce(new ApiError('ai_provider_failed', 'model down', 502))
      .mockResolvedValueOnce('ok');
    let reason: string | null = null;
    const pause = { get: () => reason, pause: (why: string) => (reason = why) };
    const source = createCompletionSource({ request, delayMs: 0, pause });
    const ask = async () => {
      const result = source.complete(INPUT, new FakeToken());
      await vi.advanceTimersByTimeAsync(0);
      return result;
    };
    await expect(ask()).resolves.toBeNull();
    await expect(ask()).resolves.toBeNull();
    expect(reason).toBe('Model down');
    expect(source.stopped).toBe(true);
    await expect(ask()).resolves.toBeNull();
    expect(request).toHaveBeenCalledTimes(2);
    reason = null;
    await expect(ask()).resolves.toBe('ok');
  });

  it('stops asking once no completion model is configured', async () => {
    const request = vi
      .fn<CompletionRequest>()
      .mockRejectedValue(new ApiError('ai_not_configured', 'no model', 409));
    let reason: string | null = null;
    const pause = { get: () => reason, pause: (why: string) => (reason = why) };
    const source = createCompletionSource({ request, delayMs: 0, pause });
    const first = source.complete(INPUT, new FakeToken());
    await vi.advanceTimersByTimeAsync(0);
    await expect(first).resolves.toBeNull();
    expect(source.stopped).toBe(true);
    await expect(source.complete(INPUT, new FakeToken())).resolves.toBeNull();
    expect(request).toHaveBeenCalledTimes(1);
  });
});
