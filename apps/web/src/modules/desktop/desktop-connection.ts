import { WS_CLOSE } from '@studio/protocol';

/** Why a desktop connection ended. */
export type DesktopEnd =
  /** The socket closed with this code and reason (ours from `WS_CLOSE`, or a standard one). */
  | { kind: 'closed'; code: number; reason: string }
  /** The VNC server asked for a password: Studio's desktop is meant to need none. */
  | { kind: 'credentials' }
  /** The VNC server refused the handshake. */
  | { kind: 'security'; reason?: string }
  /** noVNC gave up while the socket was still open (a protocol error). */
  | { kind: 'failed' };

/** What to show after a disconnect, and when to try again (null: wait for the person). */
export interface AfterDisconnect {
  message: string;
  retryInMs: number | null;
}

/** Tries before the viewer stops and waits for "Reconnect" (about three minutes of backoff). */
export const MAX_RECONNECT_ATTEMPTS = 8;

const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 30_000;

/**
 * How long to wait before retry number `attempt` (0 for the first): doubling from 1 s up to 30 s,
 * with ±25% jitter so the viewers a server restart dropped do not all come back at once.
 */
export function reconnectDelay(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(FIRST_RETRY_MS * 2 ** attempt, MAX_RETRY_MS);
  return Math.round(base * (0.75 + random() * 0.5));
}

/** The server's close reason when it is a sentence, not a bare code such as `unavailable`. */
function spokenReason(reason: string | undefined, fallback: string): string {
  const text = reason?.trim() ?? '';
  return text.includes(' ') ? text : fallback;
}

/** The message for an end, and whether trying again could help. */
function describe(end: DesktopEnd): { message: string; retry: boolean } {
  switch (end.kind) {
    case 'credentials':
      return { message: 'The desktop asked for a password.', retry: false };
    case 'security':
      return {
        message: spokenReason(end.reason, 'The desktop refused the connection.'),
        retry: false,
      };
    case 'failed':
      return { message: 'The desktop connection failed.', retry: true };
    case 'closed':
      break;
  }
  switch (end.code) {
    case WS_CLOSE.notFound.code:
      return { message: 'This workspace no longer exists.', retry: false };
    case WS_CLOSE.sessionEnded.code:
      return { message: 'Your session ended. Sign in again to see the desktop.', retry: false };
    case WS_CLOSE.forbidden.code:
      return { message: 'The server refused this page.', retry: false };
    case WS_CLOSE.badMessage.code:
      return { message: 'The server refused the connection.', retry: false };
    // The workspace is starting or its VNC server is restarting: both come back by themselves.
    case WS_CLOSE.unavailable.code:
      return {
        message: spokenReason(end.reason, 'The desktop is not available right now.'),
        retry: true,
      };
    case WS_CLOSE.streamEnded.code:
      return { message: spokenReason(end.reason, 'The desktop stopped.'), retry: true };
    case WS_CLOSE.serverShutdown.code:
      return { message: 'The server restarted.', retry: true };
    // The server said goodbye on purpose; reconnecting would only be refused or closed again.
    case 1000:
      return {
        message: spokenReason(end.reason, 'The server closed the connection.'),
        retry: false,
      };
    default:
      return { message: 'The connection dropped.', retry: true };
  }
}

/**
 * Decide what follows a disconnect: `attempt` counts the retries since the last successful
 * connect. Session and not-found closes never retry; nor does anything after the last attempt.
 */
export function afterDisconnect(
  end: DesktopEnd,
  attempt: number,
  random: () => number = Math.random,
): AfterDisconnect {
  const { message, retry } = describe(end);
  if (!retry || attempt >= MAX_RECONNECT_ATTEMPTS) return { message, retryInMs: null };
  return { message, retryInMs: reconnectDelay(attempt, random) };
}
