import {
  meSchema,
  setupStatusSchema,
  type ChangePasswordBody,
  type Me,
  type SetupBody,
  type SignInBody,
  type UpdateProfileBody,
} from '@studio/protocol';
import { queryOptions } from '@tanstack/react-query';
import { hasCode, requestJson, requestVoid } from './http.ts';
import { queryKeys } from './query-keys.ts';

/** `GET /api/setup`: whether the first admin must be created, and which sign-in providers exist. */
export function setupStatusQueryOptions() {
  return queryOptions({
    queryKey: queryKeys.setupStatus(),
    queryFn: () => requestJson('GET', '/api/setup', setupStatusSchema),
    staleTime: 60_000,
  });
}

/** `GET /api/me`: the signed-in user, or `null` when nobody is signed in. */
export function meQueryOptions() {
  return queryOptions({
    queryKey: queryKeys.me(),
    queryFn: async (): Promise<Me | null> => {
      try {
        return await requestJson('GET', '/api/me', meSchema);
      } catch (error) {
        // Not being signed in is a state, not a failure.
        if (hasCode(error, 'unauthenticated')) return null;
        throw error;
      }
    },
    staleTime: 30_000,
  });
}

/** `POST /api/setup`: create the first admin and sign them in. */
export function completeSetup(body: SetupBody): Promise<Me> {
  return requestJson('POST', '/api/setup', meSchema, body);
}

/** `POST /api/session`: sign in with email and password. */
export function signIn(body: SignInBody): Promise<Me> {
  return requestJson('POST', '/api/session', meSchema, body);
}

/** `DELETE /api/session`: end this browser's session. */
export function signOut(): Promise<void> {
  return requestVoid('DELETE', '/api/session');
}

/** `POST /api/session/revoke-all`: end every session of this user, this one included. */
export function signOutEverywhere(): Promise<void> {
  return requestVoid('POST', '/api/session/revoke-all');
}

/** `PATCH /api/me`: change the profile. */
export function updateProfile(body: UpdateProfileBody): Promise<Me> {
  return requestJson('PATCH', '/api/me', meSchema, body);
}

/** `POST /api/me/password`: change the password; other sessions end, this one stays. */
export function changePassword(body: ChangePasswordBody): Promise<void> {
  return requestVoid('POST', '/api/me/password', body);
}

const redirectSchema = {
  parse(data: unknown): { url: string } {
    const url = (data as { url?: unknown } | null)?.url;
    if (typeof url !== 'string') throw new Error('Sign-in provider answer has no url');
    return { url };
  },
};

/** Start an OAuth sign-in; resolves to the provider URL the browser must open. */
export function startProviderSignIn(
  provider: { kind: 'github' } | { kind: 'oidc'; id: string },
  callbackURL: string,
): Promise<{ url: string }> {
  // GitHub and the generic OIDC provider both start through better-auth's social sign-in.
  return requestJson('POST', '/api/auth/sign-in/social', redirectSchema, {
    provider: provider.kind === 'github' ? 'github' : provider.id,
    callbackURL,
  });
}
