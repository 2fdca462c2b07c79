import type { IncomingHttpHeaders } from 'node:http';
import type { TokenScope } from '@studio/protocol';
import type { Auth } from './auth.ts';
import type { TokenService } from './tokens.ts';
import type { UserRow } from './user-service.ts';

/** Who is making a request, and how they proved it. */
export interface Principal {
  user: UserRow;
  via: 'session' | 'token';
  sessionId?: string;
  tokenId?: string;
  /** What the API token may do; a session may do everything its user may. */
  scope?: TokenScope;
  /** The one workspace a `workspace` token acts on. */
  workspaceId?: string | null;
}

/** Resolves a request's credentials: `Authorization: Bearer <API token>` first, else the session cookie. */
export class Authenticator {
  constructor(
    private readonly auth: Auth,
    private readonly tokens: TokenService,
  ) {}

  /** The principal, plus any Set-Cookie headers better-auth wants sent (a refreshed session expiry). */
  async authenticate(
    headers: IncomingHttpHeaders,
  ): Promise<{ principal: Principal | null; setCookies: string[] }> {
    const authorization = headers.authorization;
    if (authorization !== undefined) {
      // A request that presents a token is judged by the token alone, never by a cookie beside it.
      const match = /^Bearer\s+(\S+)$/i.exec(authorization);
      const resolved = match ? await this.tokens.resolve(match[1]!) : null;
      return {
        principal: resolved
          ? {
              user: resolved.user,
              via: 'token',
              tokenId: resolved.tokenId,
              scope: resolved.scope,
              workspaceId: resolved.workspaceId,
            }
          : null,
        setCookies: [],
      };
    }
    if (!headers.cookie) return { principal: null, setCookies: [] };
    const { headers: responseHeaders, response } = await this.auth.api.getSession({
      headers: toFetchHeaders(headers),
      returnHeaders: true,
    });
    const setCookies = responseHeaders.getSetCookie();
    // getSession read the user from the database just now (no cookie cache), so it is current.
    if (!response || response.user.disabled) return { principal: null, setCookies };
    const { user } = response;
    const row: UserRow = {
      id: user.id,
      name: user.name,
      email: user.email,
      emailVerified: user.emailVerified,
      image: user.image ?? null,
      role: user.role === 'admin' ? 'admin' : 'member',
      disabled: false,
      createdAt: user.createdAt,
      updatedAt: user.updatedAt,
    };
    return { principal: { user: row, via: 'session', sessionId: response.session.id }, setCookies };
  }
}

/** Node's header object as a fetch `Headers`. */
export function toFetchHeaders(headers: IncomingHttpHeaders): Headers {
  const result = new Headers();
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || name.startsWith(':')) continue;
    for (const item of Array.isArray(value) ? value : [value]) result.append(name, item);
  }
  return result;
}
