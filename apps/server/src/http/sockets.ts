import type { WebSocket } from 'ws';
import { WS_CLOSE } from '@studio/protocol';
import type { WorkspaceRole } from '@studio/protocol';
import type { Principal } from '../auth/authenticator.ts';

interface Tracked {
  socket: WebSocket;
  /** Whose it is; a socket through a public preview link is nobody's. */
  userId: string | undefined;
  sessionId: string | undefined;
  /** The workspace it is on, once known, when it reaches it as a member (not its owner). */
  member?: { workspaceId: string; role: WorkspaceRole };
  /** The preview link it came through. */
  linkId?: string;
}

/** Every open WebSocket by user, so ending a session or disabling a user closes their sockets at once. */
export class SocketRegistry {
  private readonly open = new Set<Tracked>();

  constructor(private readonly onCountChange: (count: number) => void = () => {}) {}

  get size(): number {
    return this.open.size;
  }

  /**
   * Tracks `socket` of `principal`; the answer says which workspace it turned out to be on, for
   * a member (so removing them, or changing their role, closes it).
   */
  track(
    socket: WebSocket,
    principal: Principal,
  ): { onWorkspace(workspaceId: string, role: WorkspaceRole): void } {
    const entry = this.add({ socket, userId: principal.user.id, sessionId: principal.sessionId });
    return {
      onWorkspace: (workspaceId, role) => {
        if (role !== 'owner') entry.member = { workspaceId, role };
      },
    };
  }

  /**
   * Tracks a socket opened through preview link `linkId` (by `principal` for a team link), so
   * revoking the link, or its expiry, closes it.
   */
  trackLink(socket: WebSocket, linkId: string, principal: Principal | undefined): void {
    this.add({
      socket,
      userId: principal?.user.id,
      sessionId: principal?.sessionId,
      linkId,
    });
  }

  private add(entry: Tracked): Tracked {
    this.open.add(entry);
    this.onCountChange(this.open.size);
    entry.socket.once('close', () => {
      this.open.delete(entry);
      this.onCountChange(this.open.size);
    });
    return entry;
  }

  /** Closes the sockets opened through a preview link: it was revoked or has expired. */
  closeLink(linkId: string): void {
    for (const entry of this.open)
      if (entry.linkId === linkId)
        entry.socket.close(WS_CLOSE.forbidden.code, 'this preview link was revoked or has expired');
  }

  /** The preview links that sockets here came through, for a periodic check that they still work. */
  links(): string[] {
    return [...new Set([...this.open].flatMap((entry) => entry.linkId ?? []))];
  }

  /** Closes a member's sockets on a workspace: their role there changed or ended. */
  closeMember(workspaceId: string, userId: string): void {
    for (const entry of this.open)
      if (entry.userId === userId && entry.member?.workspaceId === workspaceId)
        entry.socket.close(WS_CLOSE.forbidden.code, 'your role on this workspace changed');
  }

  /** Sockets members hold on others' workspaces, for a periodic check that they still may. */
  members(): Array<{
    userId: string;
    workspaceId: string;
    role: WorkspaceRole;
    close: () => void;
  }> {
    return [...this.open]
      .filter((entry) => entry.member !== undefined && entry.userId !== undefined)
      .map((entry) => ({
        userId: entry.userId!,
        workspaceId: entry.member!.workspaceId,
        role: entry.member!.role,
        close: () =>
          entry.socket.close(
            WS_CLOSE.forbidden.code,
            'you are no longer a member of this workspace',
          ),
      }));
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
