import { accounts, sessions, users, verifications, type Database } from '@studio/db';
import { betterAuth } from 'better-auth';
import { drizzleAdapter } from 'better-auth/adapters/drizzle';
import { APIError } from 'better-auth/api';
import { genericOAuth } from 'better-auth/plugins';
import { eq } from 'drizzle-orm';
import type { Config } from '../config.ts';

/** Session lifetime; `updateAge` slides it forward at most once a day of use. */
const SESSION_DAYS = 7;

/** The better-auth instance: password hashing (scrypt), sessions in cookies, GitHub and OIDC sign-in. */
export function createAuth(db: Database, config: Config) {
  return betterAuth({
    appName: 'Prometheus Studio',
    baseURL: config.publicUrl.origin,
    basePath: '/api/auth',
    secret: config.secret,
    trustedOrigins: [config.publicUrl.origin],
    database: drizzleAdapter(db, {
      provider: 'pg',
      usePlural: true,
      schema: { users, sessions, accounts, verifications },
    }),
    // People join through the first-run setup, an admin, or an invite; never by signing themselves up.
    emailAndPassword: {
      enabled: true,
      disableSignUp: true,
      minPasswordLength: 10,
      maxPasswordLength: 128,
    },
    socialProviders: config.github
      ? { github: { clientId: config.github.clientId, clientSecret: config.github.clientSecret } }
      : {},
    plugins: config.oidc
      ? [
          genericOAuth({
            config: [
              {
                providerId: 'oidc',
                clientId: config.oidc.clientId,
                clientSecret: config.oidc.clientSecret,
                discoveryUrl: `${config.oidc.issuer}/.well-known/openid-configuration`,
                scopes: ['openid', 'email', 'profile'],
                pkce: true,
              },
            ],
          }),
        ]
      : [],
    user: {
      additionalFields: {
        role: { type: 'string', required: false, defaultValue: 'member', input: false },
        disabled: { type: 'boolean', required: false, defaultValue: false, input: false },
      },
    },
    session: {
      expiresIn: SESSION_DAYS * 24 * 60 * 60,
      updateAge: 24 * 60 * 60,
      // No cookie cache: a revoked session must stop working on the next request.
      cookieCache: { enabled: false },
    },
    // Rate limits are ours (per IP and per account), applied before better-auth is called.
    rateLimit: { enabled: false },
    advanced: {
      cookiePrefix: 'studio',
      useSecureCookies: config.publicUrl.protocol === 'https:',
      defaultCookieAttributes: { httpOnly: true, sameSite: 'lax' },
      ipAddress: { disableIpTracking: false },
    },
    telemetry: { enabled: false },
    logger: { disabled: true },
    databaseHooks: {
      session: {
        create: {
          before: async (session) => {
            const [user] = await db
              .select({ disabled: users.disabled })
              .from(users)
              .where(eq(users.id, session.userId));
            if (user?.disabled) throw new APIError('FORBIDDEN', { message: 'user_disabled' });
          },
        },
      },
    },
  });
}

/** The configured better-auth instance. */
export type Auth = ReturnType<typeof createAuth>;
