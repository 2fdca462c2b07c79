import type { DaemonStreamEvent } from '@studio/protocol';
import type { DaemonConnection } from '@studio/runtime';
import type { FastifyBaseLogger } from 'fastify';
import type { GitCredentialStore } from './credential-store.ts';

type CredentialRequest = Extract<DaemonStreamEvent, { kind: 'credential.request' }>;

// Tokens go to git over these only; anything else (ssh, file) never gets one.
const PROTOCOLS = new Set(['https', 'http']);

/**
 * Answers git's credential requests from a workspace: it keeps one `credentials.serve` stream open
 * on each daemon connection and answers each request with the workspace owner's token for the
 * host git named, or with nothing. The token travels only in that answer.
 */
export class GitCredentialBroker {
  private readonly served = new WeakSet<DaemonConnection>();

  constructor(
    private readonly store: GitCredentialStore,
    private readonly log: FastifyBaseLogger,
  ) {}

  /**
   * Serve a new daemon connection of `ownerId`'s workspace. Call it before the connection carries
   * anything else: the daemon handles requests in order, so a git command started afterwards on
   * the same connection finds the stream in place.
   */
  attach(ownerId: string, workspaceId: string, daemon: DaemonConnection): void {
    if (this.served.has(daemon) || daemon.closed) return;
    this.served.add(daemon);
    daemon.open('credentials.serve', {}).then(
      (stream) => {
        stream.onEvent((event) => {
          if (event.kind === 'credential.request') {
            void this.answer(ownerId, workspaceId, daemon, event);
          }
        });
        stream.onEnd(() => this.served.delete(daemon));
      },
      (error: unknown) => {
        this.served.delete(daemon);
        // A daemon from before this method, or one that went away: git there just gets no token.
        this.log.warn({ err: error, workspace: workspaceId }, 'git credentials not served');
      },
    );
  }

  private async answer(
    ownerId: string,
    workspaceId: string,
    daemon: DaemonConnection,
    request: CredentialRequest,
  ): Promise<void> {
    let found: { username: string; token: string } | null = null;
    try {
      if (PROTOCOLS.has(request.protocol)) found = await this.store.lookup(ownerId, request.host);
    } catch (error) {
      this.log.error({ err: error, workspace: workspaceId }, 'git credential lookup failed');
    }
    this.log.info(
      { workspace: workspaceId, host: request.host, protocol: request.protocol, found: !!found },
      'git asked for a credential',
    );
    await daemon
      .call(
        'credentials.answer',
        found
          ? { id: request.id, username: found.username, password: found.token }
          : { id: request.id },
      )
      .catch(() => undefined);
  }
}
