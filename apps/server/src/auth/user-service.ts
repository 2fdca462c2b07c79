import { randomUUID } from 'node:crypto';
import { accounts, invites, sessions, users, type Database } from '@studio/db';
import type { Role, User } from '@studio/protocol';
import { and, asc, count, eq, gt, isNull, ne } from 'drizzle-orm';
import { AppError, isUniqueViolation } from '../errors.ts';
import { assertPasswordAllowed } from './password-rules.ts';
import type { Auth } from './auth.ts';
import { hashSecret, newSecret } from './tokens.ts';

/** How long an invite link works. */
const INVITE_DAYS = 7;

/** A user row as stored. */
export type UserRow = typeof users.$inferSelect;

/** Users, their passwords, sessions and invites; the one place that writes them outside better-auth's own flows. */
export class UserService {
  constructor(
    private readonly db: Database,
    private readonly auth: Auth,
    /** Told after a person's row changed, so what is remembered about them is forgotten. */
    private readonly onChange: (userId: string) => Promise<void>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async count(): Promise<number> {
    const [row] = await this.db.select({ value: count() }).from(users);
    return row?.value ?? 0;
  }

  async find(id: string): Promise<UserRow | undefined> {
    const [row] = await this.db.select().from(users).where(eq(users.id, id));
    return row;
  }

  async list(): Promise<UserRow[]> {
    return this.db.select().from(users).orderBy(asc(users.createdAt));
  }

  /** Creates a user; with a password they can sign in at once, without one they need an invite. */
  async create(input: {
    email: string;
    name: string;
    role: Role;
    password?: string | undefined;
  }): Promise<UserRow> {
    if (input.password) await assertPasswordAllowed(input.password, 'password', input);
    const ctx = await this.auth.$context;
    const id = randomUUID();
    try {
      await this.db.transaction(async (tx) => {
        await tx
          .insert(users)
          .values({ id, email: input.email, name: input.name, role: input.role });
        if (input.password) {
          await tx.insert(accounts).values({
            id: randomUUID(),
            userId: id,
            accountId: id,
            providerId: 'credential',
            password: await ctx.password.hash(input.password),
          });
        }
      });
    } catch (error) {
      if (isUniqueViolation(error))
        throw new AppError('conflict', `a user with email ${input.email} already exists`);
      throw error;
    }
    return (await this.find(id))!;
  }

  /** Sets a password whether or not the user had one (invites, first password). */
  async setPassword(userId: string, password: string, field = 'password'): Promise<void> {
    await assertPasswordAllowed(password, field, { email: (await this.find(userId))?.email });
    const ctx = await this.auth.$context;
    const hash = await ctx.password.hash(password);
    const existing = await ctx.internalAdapter.findCredentialAccount(userId);
    if (existing) await ctx.internalAdapter.updatePassword(userId, hash);
    else
      await this.db.insert(accounts).values({
        id: randomUUID(),
        userId,
        accountId: userId,
        providerId: 'credential',
        password: hash,
      });
  }

  async verifyPassword(userId: string, password: string): Promise<boolean> {
    const ctx = await this.auth.$context;
    const account = await ctx.internalAdapter.findCredentialAccount(userId);
    if (!account?.password) return false;
    return ctx.password.verify({ hash: account.password, password });
  }

  async update(
    userId: string,
    changes: { name?: string; role?: Role; disabled?: boolean },
  ): Promise<UserRow> {
    const [row] = await this.db.update(users).set(changes).where(eq(users.id, userId)).returning();
    if (!row) throw new AppError('not_found', 'no such user');
    // Tokens carry their person: a new role, name or a disabling reaches every replica now.
    await this.onChange(userId);
    return row;
  }

  async countActiveAdmins(): Promise<number> {
    const [row] = await this.db
      .select({ value: count() })
      .from(users)
      .where(and(eq(users.role, 'admin'), eq(users.disabled, false)));
    return row?.value ?? 0;
  }

  /** Ends the user's sessions, all of them or all but the one with `keepSessionId`. */
  async endSessions(userId: string, keepSessionId?: string): Promise<void> {
    await this.db
      .delete(sessions)
      .where(
        keepSessionId
          ? and(eq(sessions.userId, userId), ne(sessions.id, keepSessionId))
          : eq(sessions.userId, userId),
      );
  }

  /** Whether a session id still exists and has not expired (for sockets that outlive a request). */
  async isSessionLive(sessionId: string): Promise<boolean> {
    const [row] = await this.db
      .select({ id: sessions.id })
      .from(sessions)
      .innerJoin(users, eq(users.id, sessions.userId))
      .where(
        and(
          eq(sessions.id, sessionId),
          gt(sessions.expiresAt, this.now()),
          eq(users.disabled, false),
        ),
      );
    return row !== undefined;
  }

  /** A one-time link secret for `userId`; only its hash is stored. */
  async createInvite(userId: string, createdBy: string): Promise<string> {
    const secret = newSecret();
    await this.db.insert(invites).values({
      id: randomUUID(),
      userId,
      createdBy,
      secretHash: hashSecret(secret),
      expiresAt: new Date(this.now().getTime() + INVITE_DAYS * 86_400_000),
    });
    return secret;
  }

  /** The user an unused, unexpired invite is for. */
  async findInvite(secret: string): Promise<UserRow> {
    const [row] = await this.db
      .select({ user: users })
      .from(invites)
      .innerJoin(users, eq(users.id, invites.userId))
      .where(
        and(
          eq(invites.secretHash, hashSecret(secret)),
          isNull(invites.usedAt),
          gt(invites.expiresAt, this.now()),
        ),
      );
    if (!row || row.user.disabled)
      throw new AppError('invalid_invite', 'this invite link is invalid, used or expired');
    return row.user;
  }

  /** Marks the invite used and sets the password; a second use of the same link fails. */
  async acceptInvite(secret: string, password: string): Promise<UserRow> {
    const user = await this.findInvite(secret);
    const used = await this.db
      .update(invites)
      .set({ usedAt: this.now() })
      .where(and(eq(invites.secretHash, hashSecret(secret)), isNull(invites.usedAt)))
      .returning({ id: invites.id });
    if (used.length === 0)
      throw new AppError('invalid_invite', 'this invite link is invalid, used or expired');
    await this.setPassword(user.id, password);
    return user;
  }
}

/** The API's view of a user. */
export function toApiUser(row: UserRow): User {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    disabled: row.disabled,
    createdAt: row.createdAt.toISOString(),
  };
}
