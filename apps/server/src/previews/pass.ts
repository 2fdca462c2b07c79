import { createHmac, timingSafeEqual } from 'node:crypto';
import { sessions, type Database } from '@studio/db';
import { eq } from 'drizzle-orm';
import type { Principal } from '../auth/authenticator.ts';
import type { UserService } from '../auth/user-service.ts';

/**
 * A preview pass: the path segment `~<session id>.<mac>` after `/w/:name/p/:port/`.
 *
 * A preview runs sandboxed with an opaque origin (so its scripts cannot use the platform as the
 * user), and a document with an opaque origin sends no SameSite cookie with its own requests: its
 * scripts, styles, fetches and WebSockets would all be unauthenticated. The pass rides in the path
 * instead, so every relative URL of the page carries it. It names the session it was made for and
 * is bound by an HMAC to that session, workspace and port: it opens this one port of this one
 * workspace, for as long as the session lives (sign-out, a password change or a disabled account
 * end it), and nothing else — not the API, not another port.
 */
const PASS = /^~([A-Za-z0-9_-]{1,128})\.([A-Za-z0-9_-]{43})$/;

function mac(secret: string, sessionId: string, workspaceId: string, port: number): Buffer {
  return createHmac('sha256', secret)
    .update(`studio-preview\0${sessionId}\0${workspaceId}\0${port}`)
    .digest();
}

/** The pass segment (with its `~`) for a signed-in session's preview of `port`. */
export function issuePass(secret: string, sessionId: string, workspaceId: string, port: number) {
  return `~${sessionId}.${mac(secret, sessionId, workspaceId, port).toString('base64url')}`;
}

/** The session id a well-formed pass segment names, or null when the segment is no pass. */
export function passSession(segment: string): string | null {
  return PASS.exec(segment)?.[1] ?? null;
}

/** True when the pass was made by this server for this session, workspace and port. */
export function passMatches(
  secret: string,
  segment: string,
  workspaceId: string,
  port: number,
): boolean {
  const match = PASS.exec(segment);
  if (!match) return false;
  const given = Buffer.from(match[2]!, 'base64url');
  const expected = mac(secret, match[1]!, workspaceId, port);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The person behind a live session, or null when it ended or their account is disabled. */
export async function sessionPrincipal(
  db: Database,
  users: UserService,
  sessionId: string,
  now: Date,
): Promise<Principal | null> {
  const [session] = await db.select().from(sessions).where(eq(sessions.id, sessionId)).limit(1);
  if (!session || session.expiresAt <= now) return null;
  const user = await users.find(session.userId);
  if (!user || user.disabled) return null;
  return { user, via: 'session', sessionId };
}
