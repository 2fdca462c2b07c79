// Quotas: limits an admin sets on a person or a team — workspaces running at once, their total
// CPU, memory and disk, AI spend a month. A team's limits cap the sum over its people. Use is
// counted from the database (what people asked to run, what their workspaces declare), so every
// replica sees the same numbers; a check and the change it allows happen in one transaction
// under one advisory lock, so two creates racing for the last slot cannot both win.
import { randomBytes } from 'node:crypto';
import { quotas, teamMembers, teams, usageSamples, users, type Database } from '@studio/db';
import {
  QUOTA_LIMITS,
  type MyQuota,
  type QuotaLimit,
  type QuotaLimits,
  type QuotaSubject,
  type QuotaUsage,
  type UsagePoint,
  type UsageReport,
} from '@studio/protocol';
import type { FastifyBaseLogger } from 'fastify';
import { asc, eq, gte, inArray, lt, or, sql } from 'drizzle-orm';
import { AppError } from '../errors.ts';
import { rowsOf } from '../sql-results.ts';

/** A transaction, or the database itself. */
type Executor = Pick<Database, 'select' | 'execute'>;

/** What a workspace counts for disk when its template declares no size (Kubernetes' default). */
export const UNDECLARED_DISK_MIB = 10_240;
/** Serializes quota-checked changes across replicas (`pg_advisory_xact_lock`). */
const QUOTA_LOCK_KEY = 7_310_442_001;
const SAMPLE_MS = 5 * 60_000;
const KEEP_SAMPLES_MS = 30 * 24 * 60 * 60_000;

const NO_LIMITS: QuotaLimits = {
  runningWorkspaces: null,
  cpus: null,
  memoryMiB: null,
  diskMiB: null,
  aiUsdPerMonth: null,
};
const NOTHING: QuotaUsage = {
  runningWorkspaces: 0,
  cpus: 0,
  memoryMiB: 0,
  diskMiB: 0,
  aiUsdPerMonth: 0,
};

const WORDS: Record<QuotaLimit, { name: string; amount: (value: number) => string }> = {
  runningWorkspaces: {
    name: 'running workspaces',
    amount: (value) => `${value} running workspace${value === 1 ? '' : 's'}`,
  },
  cpus: { name: 'CPU', amount: (value) => `${round(value)} CPU core${value === 1 ? '' : 's'}` },
  memoryMiB: { name: 'memory', amount: (value) => `${round(value)} MiB of memory` },
  diskMiB: { name: 'disk', amount: (value) => `${round(value)} MiB of disk` },
  aiUsdPerMonth: { name: 'AI spend', amount: (value) => `$${value.toFixed(2)} of AI this month` },
};

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

/** What a workspace of these resources adds when it runs (disk counts whether it runs or not). */
export function needsOf(
  resources: { cpus: number; memoryMiB: number; diskMiB?: number },
  creating: boolean,
): Partial<QuotaUsage> {
  return {
    runningWorkspaces: 1,
    cpus: resources.cpus,
    memoryMiB: resources.memoryMiB,
    ...(creating && { diskMiB: resources.diskMiB ?? UNDECLARED_DISK_MIB }),
  };
}

function add(a: QuotaUsage, b: QuotaUsage): QuotaUsage {
  const sum = { ...a };
  for (const key of QUOTA_LIMITS) sum[key] += b[key];
  return sum;
}

type QuotaRow = typeof quotas.$inferSelect;

function limitsOf(row: QuotaRow | undefined): QuotaLimits {
  if (!row) return { ...NO_LIMITS };
  return {
    runningWorkspaces: row.runningWorkspaces,
    cpus: row.cpus,
    memoryMiB: row.memoryMiB,
    diskMiB: row.diskMiB,
    aiUsdPerMonth: row.aiUsdPerMonth,
  };
}

export class Quotas {
  private sampler: NodeJS.Timeout | null = null;

  constructor(
    private readonly db: Database,
    private readonly log: FastifyBaseLogger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * Runs `change` (which must use the transaction it is given) only if `userId` and each of their
   * teams stay within their limits with `needs` added; otherwise `quota_exceeded` naming the
   * limit and the use, before anything is changed or started.
   */
  async reserve<T>(
    userId: string,
    needs: Partial<QuotaUsage>,
    change: (tx: Executor & Database) => Promise<T>,
  ): Promise<T> {
    return this.db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${QUOTA_LOCK_KEY})`);
      await this.check(tx as unknown as Executor, userId, needs);
      return change(tx as unknown as Executor & Database);
    });
  }

  /** Refuses an AI run once the person or one of their teams has spent its month's limit. */
  async checkAi(userId: string): Promise<void> {
    await this.check(this.db, userId, { aiUsdPerMonth: 0 });
  }

  private async check(exec: Executor, userId: string, needs: Partial<QuotaUsage>): Promise<void> {
    for (const subject of await this.subjectsOf(exec, userId)) {
      for (const key of QUOTA_LIMITS) {
        const limit = subject.limits[key];
        const more = needs[key];
        if (limit === null || more === undefined) continue;
        const used = subject.usage[key];
        const over = key === 'aiUsdPerMonth' ? used >= limit : used + more > limit;
        if (!over) continue;
        const words = WORDS[key];
        const whose =
          subject.kind === 'user'
            ? `Your ${words.name} quota is ${words.amount(limit)} and you use ${words.amount(used)}`
            : `Team "${subject.name}"'s ${words.name} quota is ${words.amount(limit)} and its people use ${words.amount(used)}`;
        const then =
          key === 'aiUsdPerMonth'
            ? 'it renews on the 1st; an admin can raise it.'
            : `this needs ${words.amount(more)} more. Stop a workspace or ask an admin to raise it.`;
        throw new AppError('quota_exceeded', `${whose}; ${then}`);
      }
    }
  }

  /** The person's own quota and their teams', with use (only those that have limits set). */
  private async subjectsOf(exec: Executor, userId: string): Promise<QuotaSubject[]> {
    const rows = await exec
      .select({ quota: quotas, teamName: teams.name, email: users.email })
      .from(quotas)
      .leftJoin(teams, eq(teams.id, quotas.teamId))
      .leftJoin(users, eq(users.id, quotas.userId))
      .where(
        or(
          eq(quotas.userId, userId),
          inArray(
            quotas.teamId,
            exec
              .select({ id: teamMembers.teamId })
              .from(teamMembers)
              .where(eq(teamMembers.userId, userId)),
          ),
        ),
      );
    if (rows.length === 0) return [];
    const teamIds = rows.flatMap((row) => (row.quota.teamId ? [row.quota.teamId] : []));
    const people = teamIds.length
      ? await exec
          .select({ teamId: teamMembers.teamId, userId: teamMembers.userId })
          .from(teamMembers)
          .where(inArray(teamMembers.teamId, teamIds))
      : [];
    const usage = await this.usageByPerson(exec, [
      userId,
      ...people.map((person) => person.userId),
    ]);
    const of = (id: string) => usage.get(id) ?? NOTHING;
    return rows.map(({ quota, teamName, email }) =>
      quota.teamId
        ? {
            kind: 'team' as const,
            id: quota.teamId,
            name: teamName ?? '',
            limits: limitsOf(quota),
            usage: teamUsage(quota.teamId, people, of),
          }
        : {
            kind: 'user' as const,
            id: userId,
            name: email ?? '',
            limits: limitsOf(quota),
            usage: of(userId),
          },
    );
  }

  /** Use per person (every person when `userIds` is undefined). */
  private async usageByPerson(
    exec: Executor,
    userIds?: string[],
  ): Promise<Map<string, QuotaUsage>> {
    const only = (column: string) =>
      userIds
        ? sql`and ${sql.raw(column)} in (${sql.join(
            userIds.map((id) => sql`${id}`),
            sql`, `,
          )})`
        : sql``;
    if (userIds?.length === 0) return new Map();
    const running = sql`w.desired_state = 'running'`;
    const workspaceRows = rowsOf<{
      id: string;
      running: number | string;
      cpus: number | string;
      memory: number | string;
      disk: number | string;
    }>(
      await exec.execute(sql`
        select w.owner_id as id,
          count(*) filter (where ${running}) as running,
          coalesce(sum((w.template->'resources'->>'cpus')::float8) filter (where ${running}), 0) as cpus,
          coalesce(sum((w.template->'resources'->>'memoryMiB')::float8) filter (where ${running}), 0) as memory,
          coalesce(sum(coalesce((w.template->'resources'->>'diskMiB')::float8, ${UNDECLARED_DISK_MIB})), 0) as disk
        from workspaces w
        where w.status <> 'deleting' ${only('w.owner_id')}
        group by w.owner_id`),
    );
    const aiRows = rowsOf<{ id: string; usd: number | string }>(
      await exec.execute(sql`
        select u.user_id as id, u.cost_usd as usd from ai_usage u
        where u.month = ${this.month()} ${only('u.user_id')}`),
    );
    const usage = new Map<string, QuotaUsage>();
    for (const row of workspaceRows)
      usage.set(row.id, {
        runningWorkspaces: Number(row.running),
        cpus: Number(row.cpus),
        memoryMiB: Number(row.memory),
        diskMiB: Number(row.disk),
        aiUsdPerMonth: 0,
      });
    for (const row of aiRows)
      usage.set(row.id, { ...(usage.get(row.id) ?? NOTHING), aiUsdPerMonth: Number(row.usd) });
    return usage;
  }

  /** `GET /api/me/quota`: the caller's limits, and what is left under all of them. */
  async mine(userId: string): Promise<MyQuota> {
    const subjects = await this.subjectsOf(this.db, userId);
    const left: QuotaLimits = { ...NO_LIMITS };
    for (const subject of subjects) {
      for (const key of QUOTA_LIMITS) {
        const limit = subject.limits[key];
        if (limit === null) continue;
        const room = Math.max(0, round(limit - subject.usage[key]));
        left[key] = left[key] === null ? room : Math.min(left[key], room);
      }
    }
    return { subjects, left };
  }

  /** Everyone's limits and use now. */
  private async everyone(): Promise<QuotaSubject[]> {
    const [people, allTeams, limitRows, membership, usage] = await Promise.all([
      this.db.select({ id: users.id, email: users.email }).from(users).orderBy(asc(users.email)),
      this.db.select({ id: teams.id, name: teams.name }).from(teams).orderBy(asc(teams.name)),
      this.db.select().from(quotas),
      this.db.select().from(teamMembers),
      this.usageByPerson(this.db),
    ]);
    const of = (id: string) => usage.get(id) ?? NOTHING;
    return [
      ...people.map((person) => ({
        kind: 'user' as const,
        id: person.id,
        name: person.email,
        limits: limitsOf(limitRows.find((row) => row.userId === person.id)),
        usage: of(person.id),
      })),
      ...allTeams.map((team) => ({
        kind: 'team' as const,
        id: team.id,
        name: team.name,
        limits: limitsOf(limitRows.find((row) => row.teamId === team.id)),
        usage: teamUsage(team.id, membership, of),
      })),
    ];
  }

  /** `GET /api/admin/usage`: everyone's limits and use, and each one's use over the last `days`. */
  async report(days = 7): Promise<UsageReport> {
    const since = new Date(this.now().getTime() - days * 24 * 60 * 60_000);
    const [subjects, samples] = await Promise.all([
      this.everyone(),
      this.db
        .select()
        .from(usageSamples)
        .where(gte(usageSamples.at, since))
        .orderBy(asc(usageSamples.at)),
    ]);
    const point = (at: Date, usage: QuotaUsage): UsagePoint => ({
      at: at.toISOString(),
      runningWorkspaces: usage.runningWorkspaces,
      cpus: usage.cpus,
      memoryMiB: usage.memoryMiB,
      diskMiB: usage.diskMiB,
      aiUsd: usage.aiUsdPerMonth,
    });
    return {
      subjects: subjects.map((subject) => ({
        ...subject,
        // The samples, then use as it is now: the chart ends at the present.
        history: [
          ...samples
            .filter((row) => row.subjectKind === subject.kind && row.subjectId === subject.id)
            .map((row) => point(row.at, { ...row, aiUsdPerMonth: row.aiUsd })),
          point(this.now(), subject.usage),
        ],
      })),
    };
  }

  /**
   * Sets (replaces) the limits of the person signing in as `who` or of the team named `who`; all
   * null removes them. Answers the id of the person or team.
   */
  async set(kind: 'user' | 'team', who: string, limits: QuotaLimits): Promise<string> {
    const [subject] =
      kind === 'user'
        ? await this.db
            .select({ id: users.id })
            .from(users)
            .where(eq(users.email, who.toLowerCase()))
        : await this.db.select({ id: teams.id }).from(teams).where(eq(teams.name, who));
    if (!subject)
      throw new AppError(
        'not_found',
        kind === 'user' ? `Nobody here signs in as ${who}.` : `There is no team named "${who}".`,
      );
    const column = kind === 'user' ? quotas.userId : quotas.teamId;
    if (QUOTA_LIMITS.every((key) => limits[key] === null)) {
      await this.db.delete(quotas).where(eq(column, subject.id));
      return subject.id;
    }
    await this.db
      .insert(quotas)
      .values({
        id: randomBytes(8).toString('hex'),
        ...(kind === 'user' ? { userId: subject.id } : { teamId: subject.id }),
        ...limits,
      })
      .onConflictDoUpdate({ target: column, set: { ...limits, updatedAt: this.now() } });
    return subject.id;
  }

  /**
   * Records everyone's use in the current five-minute bucket (a replica that comes second finds
   * the row there and skips it) and forgets samples older than 30 days.
   */
  async sample(): Promise<void> {
    const at = new Date(Math.floor(this.now().getTime() / SAMPLE_MS) * SAMPLE_MS);
    const rows = (await this.everyone())
      .filter(
        (subject) => subject.kind === 'team' || QUOTA_LIMITS.some((key) => subject.usage[key] > 0),
      )
      .map(({ kind, id, usage }) => ({
        subjectKind: kind,
        subjectId: id,
        at,
        runningWorkspaces: usage.runningWorkspaces,
        cpus: usage.cpus,
        memoryMiB: Math.round(usage.memoryMiB),
        diskMiB: Math.round(usage.diskMiB),
        aiUsd: usage.aiUsdPerMonth,
      }));
    if (rows.length) await this.db.insert(usageSamples).values(rows).onConflictDoNothing();
    await this.db
      .delete(usageSamples)
      .where(lt(usageSamples.at, new Date(this.now().getTime() - KEEP_SAMPLES_MS)));
  }

  startSampling(): void {
    const tick = () =>
      this.sample().catch((error: unknown) =>
        this.log.warn({ err: error }, 'could not sample usage'),
      );
    void tick();
    this.sampler = setInterval(tick, SAMPLE_MS);
    this.sampler.unref();
  }

  stopSampling(): void {
    if (this.sampler) clearInterval(this.sampler);
    this.sampler = null;
  }

  private month(): string {
    return this.now().toISOString().slice(0, 7);
  }
}

/** What a team's people use together. */
function teamUsage(
  teamId: string,
  membership: Array<{ teamId: string; userId: string }>,
  usageOf: (userId: string) => QuotaUsage,
): QuotaUsage {
  return membership
    .filter((member) => member.teamId === teamId)
    .reduce((sum, member) => add(sum, usageOf(member.userId)), NOTHING);
}
