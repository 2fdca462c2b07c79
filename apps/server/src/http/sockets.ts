import type { WebSocket } from 'ws';
import { WS_CLOSE } from '@studio/protocol';
import type { Principal } from '../auth/authenticator.ts';

interface Tracked {
  socket: WebSocket;
  userId: string;
  sessionId: string | undefined;
}

/** Every open WebSocket by user, so ending a session or disabling a user closes their sockets at once. */
export class SocketRegistry {
  private readonly open = new Set<Tracked>();

  constructor(private readonly onCountChange: (count: number) => void = () => {}) {}

  get size(): number {
    return this.open.size;
  }

  track(socket: WebSocket, principal: Principal): void {
    const entry: Tracked = { socket, userId: principal.user.id, sessionId: principal.sessionId };
    this.open.add(entry);
    this.onCountChange(this.open.size);
    socket.once('close', () => {
      this.open.delete(entry);
      this.onCountChange(this.open.size);
    });
  }

  /** Closes the user's sockets (all, or all but those of session `keepSessionId`). */
  closeUser(userId: string, keepSessionId?: string): void {
    for (const entry of this.open) {
      if (
        entry.userId === userId &&
        (keepSessionId === undefined || entry.sessionId !== keepSessionId)
      ) {
        entry.socket.close(WS_CLOSE.sessionEnded.code, WS_CLOSE.sessionEnded.reason);
      }
    }
  }

  closeSession(sessionId: string): void {
    for (const entry of this.open) {
      if (entry.sessionId === sessionId)
        entry.socket.close(WS_CLOSE.sessionEnded.code, WS_CLOSE.sessionEnded.reason);
    }
  }

  /** Session-authenticated sockets, for a periodic check that catches sessions ended by another replica. */
  sessions(): Array<{ sessionId: string; close: () => void }> {
    return [...this.open]
      .filter((entry) => entry.sessionId !== undefined)
      .map((entry) => ({
        sessionId: entry.sessionId!,
        close: () => entry.socket.close(WS_CLOSE.sessionEnded.code, WS_CLOSE.sessionEnded.reason),
      }));
  }

  closeAll(): void {
    for (const entry of this.open)
      entry.socket.close(WS_CLOSE.serverShutdown.code, WS_CLOSE.serverShutdown.reason);
  }
}
