import { z } from 'zod';
import { oneLine } from './text.ts';
import { workspaceSchema } from './workspaces.ts';

/** Roles a user can hold. */
export const ROLES = ['admin', 'member'] as const;
/** A user's role. */
export type Role = (typeof ROLES)[number];

const email = z
  .email()
  .max(254)
  .transform((value) => value.toLowerCase());
/** Passwords: 10–128 characters (NIST 800-63B favours length over composition rules). */
export const passwordSchema = z.string().min(10).max(128);
const displayName = oneLine(1, 100);

/** A user as the API shows it. */
export const userSchema = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  disabled: z.boolean(),
  createdAt: z.string(),
});
/** A user as the API shows it. */
export type User = z.infer<typeof userSchema>;

/** `GET /api/me`: the signed-in user and how they are authenticated. */
export const meSchema = z.object({
  user: userSchema,
  via: z.enum(['session', 'token']),
});
/** Response of `GET /api/me`. */
export type Me = z.infer<typeof meSchema>;

/** `POST /api/session`: sign in with email and password. */
export const signInBodySchema = z.strictObject({ email, password: z.string().min(1).max(128) });
/** Body of `POST /api/session`. */
export type SignInBody = z.infer<typeof signInBodySchema>;

/** `GET /api/setup`: whether the first admin still has to be created, and how people can sign in. */
export const setupStatusSchema = z.object({
  needsSetup: z.boolean(),
  providers: z.object({
    github: z.boolean(),
    oidc: z.object({ id: z.string(), name: z.string() }).nullable(),
  }),
});
/** Response of `GET /api/setup`. */
export type SetupStatus = z.infer<typeof setupStatusSchema>;

/** `POST /api/setup`: create the first admin with the one-time token from the server log. */
export const setupBodySchema = z.strictObject({
  token: z.string().min(1).max(200),
  name: displayName,
  email,
  password: passwordSchema,
});
/** Body of `POST /api/setup`. */
export type SetupBody = z.infer<typeof setupBodySchema>;

/** `PATCH /api/me`: change the profile. */
export const updateProfileBodySchema = z.strictObject({ name: displayName });
/** Body of `PATCH /api/me`. */
export type UpdateProfileBody = z.infer<typeof updateProfileBodySchema>;

/** `POST /api/me/password`: change the password; every other session of the user ends. */
export const changePasswordBodySchema = z.strictObject({
  currentPassword: z.string().min(1).max(128),
  newPassword: passwordSchema,
});
/** Body of `POST /api/me/password`. */
export type ChangePasswordBody = z.infer<typeof changePasswordBodySchema>;

/**
 * What an API token may do: everything its owner may (`full`), only read (`read`: GET requests,
 * no sockets), act on one workspace (`workspace`), or read `/metrics` (`metrics`, for a scraper).
 */
export const TOKEN_SCOPES = ['full', 'read', 'workspace', 'metrics'] as const;
/** What an API token may do. */
export type TokenScope = (typeof TOKEN_SCOPES)[number];

/** An API token as listed (the secret itself is shown only once, at creation). */
export const apiTokenSchema = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string(),
  scope: z.enum(TOKEN_SCOPES),
  /** The workspace a `workspace` token is limited to. */
  workspace: z.object({ id: z.string(), name: z.string() }).nullable(),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  expiresAt: z.string().nullable(),
});
/** An API token as listed. */
export type ApiToken = z.infer<typeof apiTokenSchema>;

/** `POST /api/tokens`. */
export const createTokenBodySchema = z
  .strictObject({
    name: oneLine(1, 100),
    expiresInDays: z.number().int().min(1).max(3650).optional(),
    scope: z.enum(TOKEN_SCOPES).default('full'),
    /** With scope `workspace`: the name of one of your workspaces. */
    workspace: z.string().min(1).max(64).optional(),
  })
  .refine((body) => (body.scope === 'workspace') === (body.workspace !== undefined), {
    path: ['workspace'],
    message: 'is required with scope "workspace", and only then',
  });
/** Body of `POST /api/tokens`. */
export type CreateTokenBody = z.input<typeof createTokenBodySchema>;

/** Response of `POST /api/tokens`: the token's secret, shown this once. */
export const createdTokenSchema = z.object({ token: apiTokenSchema, secret: z.string() });
/** Response of `POST /api/tokens`. */
export type CreatedToken = z.infer<typeof createdTokenSchema>;

/** `POST /api/admin/users`: create a user with a password, or without one to get an invite link. */
export const adminCreateUserBodySchema = z.strictObject({
  email,
  name: displayName,
  role: z.enum(ROLES).default('member'),
  password: passwordSchema.optional(),
});
/** Body of `POST /api/admin/users`. */
export type AdminCreateUserBody = z.input<typeof adminCreateUserBodySchema>;

/** Response of `POST /api/admin/users`. */
export const adminCreatedUserSchema = z.object({
  user: userSchema,
  inviteUrl: z.string().nullable(),
});
/** Response of `POST /api/admin/users`. */
export type AdminCreatedUser = z.infer<typeof adminCreatedUserSchema>;

/** `PATCH /api/admin/users/:id`: change role or disable/enable. Disabling ends every session and socket. */
export const adminUpdateUserBodySchema = z.strictObject({
  role: z.enum(ROLES).optional(),
  disabled: z.boolean().optional(),
});
/** Body of `PATCH /api/admin/users/:id`. */
export type AdminUpdateUserBody = z.infer<typeof adminUpdateUserBodySchema>;

/** `GET /api/admin/workspaces`: every workspace on the server, with its owner. */
export const adminWorkspaceSchema = workspaceSchema.extend({
  owner: z.object({ id: z.string(), email: z.string(), name: z.string() }),
});
/** A workspace as an admin sees it. */
export type AdminWorkspace = z.infer<typeof adminWorkspaceSchema>;

/** `GET /api/invites/:token`: who the invite is for. */
export const inviteSchema = z.object({ email: z.string(), name: z.string() });
/** Response of `GET /api/invites/:token`. */
export type Invite = z.infer<typeof inviteSchema>;

/** `POST /api/invites/:token`: accept an invite by choosing a password. */
export const acceptInviteBodySchema = z.strictObject({ password: passwordSchema });
/** Body of `POST /api/invites/:token`. */
export type AcceptInviteBody = z.infer<typeof acceptInviteBodySchema>;

/** Messages the server sends on the `/api/events` WebSocket. */
export const serverEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('hello'), userId: z.string() }),
  z.object({ type: z.literal('ping'), at: z.number() }),
  /** A workspace of this user changed (status, name, activity). */
  z.object({ type: z.literal('workspace'), workspace: workspaceSchema }),
  /** A step while creating or starting a workspace: building the image, starting, cloning. */
  z.object({
    type: z.literal('workspace.progress'),
    id: z.string(),
    name: z.string(),
    step: z.string(),
    detail: z.string().optional(),
  }),
  z.object({ type: z.literal('workspace.deleted'), id: z.string(), name: z.string() }),
]);
/** A message on the `/api/events` WebSocket. */
export type ServerEvent = z.infer<typeof serverEventSchema>;
