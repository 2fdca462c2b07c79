import { WS_CLOSE } from '@studio/protocol';
import { describe, expect, it } from 'vitest';
import { afterDisconnect, MAX_RECONNECT_ATTEMPTS, reconnectDelay } from './desktop-connection.ts';

const middle = () => 0.5;

describe('reconnectDelay', () => {
  it('doubles from one second and stops at thirty', () => {
    expect([0, 1, 2, 3, 4, 5, 6].map((attempt) => reconnectDelay(attempt, middle))).toEqual([
      1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000,
    ]);
  });

  it('spreads each wait by a quarter either way', () => {
    expect(reconnectDelay(2, () => 0)).toBe(3_000);
    expect(reconnectDelay(2, () => 1)).toBe(5_000);
  });
});

describe('afterDisconnect', () => {
  const closed = (code: number, reason = '') => ({ kind: 'closed' as const, code, reason });

  it('does not retry when the workspace is gone or the session ended', () => {
    expect(afterDisconnect(closed(WS_CLOSE.notFound.code, 'not_found'), 0)).toEqual({
      message: 'This workspace no longer exists.',
      retryInMs: null,
    });
    expect(afterDisconnect(closed(WS_CLOSE.sessionEnded.code), 0).retryInMs).toBeNull();
    expect(afterDisconnect(closed(WS_CLOSE.forbidden.code), 0).retryInMs).toBeNull();
  });

  it('retries a workspace that is not running yet, showing the server’s reason', () => {
    expect(
      afterDisconnect(closed(WS_CLOSE.unavailable.code, 'The workspace is not running'), 1, middle),
    ).toEqual({ message: 'The workspace is not running', retryInMs: 2_000 });
  });

  it('keeps a bare close code out of the message', () => {
    expect(afterDisconnect(closed(WS_CLOSE.unavailable.code, 'unavailable'), 0).message).toBe(
      'The desktop is not available right now.',
    );
  });

  it('retries dropped connections and server restarts', () => {
    expect(afterDisconnect(closed(1006), 0, middle)).toEqual({
      message: 'The connection dropped.',
      retryInMs: 1_000,
    });
    expect(afterDisconnect(closed(WS_CLOSE.serverShutdown.code), 3, middle).retryInMs).toBe(8_000);
    expect(afterDisconnect({ kind: 'failed' }, 0, middle).retryInMs).toBe(1_000);
  });

  it('does not retry a normal close, a password prompt or a refused handshake', () => {
    expect(afterDisconnect(closed(1000), 0).retryInMs).toBeNull();
    expect(afterDisconnect({ kind: 'credentials' }, 0).retryInMs).toBeNull();
    expect(afterDisconnect({ kind: 'security', reason: 'Authentication failed' }, 0)).toEqual({
      message: 'Authentication failed',
      retryInMs: null,
    });
  });

  it('gives up after the last attempt and waits for the person', () => {
    const end = closed(1006);
    expect(afterDisconnect(end, MAX_RECONNECT_ATTEMPTS - 1).retryInMs).not.toBeNull();
    expect(afterDisconnect(end, MAX_RECONNECT_ATTEMPTS)).toEqual({
      message: 'The connection dropped.',
      retryInMs: null,
    });
  });
});
