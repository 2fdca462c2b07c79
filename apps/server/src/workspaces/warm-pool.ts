import { createHash, randomBytes } from 'node:crypto';
import { warmWorkspaces, type Database } from '@studio/db';
import type { Template, WarmPoolState } from '@studio/protocol';
import type { WorkspaceRuntime, WorkspaceSpec } from '@studio/runtime';
import { and, count, eq, sql } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import { rowsOf } from '../sql-results.ts';
import type { TemplateStore } from './templates.ts';
import type { ImageBuilder } from './workspace-service.ts';

/** Who owns a warm workspace until a create claims it (a label on the container, no person). */
const POOL_OWNER = 'warm-pool';
/** How often every replica looks for a pool below its size (a claim also asks at once). */
const REFILL_EVERY_MS = 5_000;
/** Serializes refills across replicas: one counts and adds at a time. */
const REFILL_LOCK_KEY = 7_315_002;

export interface WarmPoolDeps {
  db: Database;
  runtime: WorkspaceRuntime;
  templates: TemplateStore;
  images?: ImageBuilder;
  logger: FastifyBaseLogger;
}

/**
 * The warm pool (Docker): for each template with a `warmPool`, that many workspaces created and
 * started ahead of anyone asking, in the database so every replica claims from the same pool. A
 * create claims one (`claim`) and the pool fills again in the background.
 */
export class WarmPool {
  private timer: NodeJS.Timeout | null = null;
  private filling: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  /** When a template's last warm workspace failed to start: it waits a minute (a hint, per replica). */
  private readonly failedAt = new Map<string, number>();

  constructor(private readonly deps: WarmPoolDeps) {}

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => void this.refill(), REFILL_EVERY_MS);
    this.timer.unref();
    void this.refill();
  }

  /** Stops filling; warm workspaces stay, for this server's next start or another replica. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.filling;
  }

  /**
   * A warm workspace of `template` as it is now, taken from the pool inside `tx` (so a create
   * that fails gives it back); null when none is ready.
   */
  async claim(tx: Pick<Database, 'execute'>, template: Template): Promise<string | null> {
    if (template.warmPool === 0) return null;
    const claimed = await tx.execute(sql`
      delete from ${warmWorkspaces} where id = (
        select id from ${warmWorkspaces}
        where template_name = ${template.name} and recipe = ${recipeOf(template)} and status = 'ready'
        order by created_at limit 1 for update skip locked
      ) returning id`);
    const id = rowsOf<{ id: string }>(claimed)[0]?.id ?? null;
    if (id === null) return null;
    // A warm workspace the engine lost (a restart, a kill) is no use: a fresh one instead.
    const status = await this.deps.runtime.inspect(id).catch(() => null);
    if (status?.state !== 'running') {
      void this.deps.runtime.remove(id).catch(() => {});
      return null;
    }
    return id;
  }

  /** Fills every pool up to its size in the background (another call meanwhile runs once more). */
  refill(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.filling) {
      this.again = true;
      return this.filling;
    }
    this.filling = (async () => {
      do {
        this.again = false;
        try {
          await this.fillOnce();
        } catch (error) {
          this.deps.logger.warn({ err: error }, 'warm pool: refill failed');
        }
      } while (this.again && !this.stopped);
    })().finally(() => (this.filling = null));
    return this.filling;
  }

  /** Each template's pool: its size and what it holds. */
  async states(): Promise<WarmPoolState[]> {
    const held = await this.deps.db
      .select({ template: warmWorkspaces.templateName, status: warmWorkspaces.status, n: count() })
      .from(warmWorkspaces)
      .groupBy(warmWorkspaces.templateName, warmWorkspaces.status);
    return (await this.deps.templates.list()).map((template) => {
      const of = (status: string) =>
        held.find((row) => row.template === template.name && row.status === status)?.n ?? 0;
      return {
        template: template.name,
        size: template.warmPool,
        ready: of('ready'),
        warming: of('warming'),
      };
    });
  }

  /** Whether `id` is a warm workspace (the driver runs it, and no workspace row names it). */
  async holds(id: string): Promise<boolean> {
    const [row] = await this.deps.db
      .select({ id: warmWorkspaces.id })
      .from(warmWorkspaces)
      .where(eq(warmWorkspaces.id, id));
    return row !== undefined;
  }

  private async fillOnce(): Promise<void> {
    const { db, runtime } = this.deps;
    const current = new Map((await this.deps.templates.list()).map((item) => [item.name, item]));
    // Made from an older recipe, beyond the pool's size, or left warming by a server that died:
    // removed (one warming now is removed by whoever warms it, when it finds its row gone).
    const kept = new Map<string, number>();
    const rows = await db.select().from(warmWorkspaces).orderBy(warmWorkspaces.createdAt);
    // A ready one the engine no longer runs (it restarted) would hold a place in the pool.
    const running = rows.some((row) => row.status === 'ready')
      ? new Set(
          (await runtime.list()).filter((item) => item.state === 'running').map((item) => item.id),
        )
      : new Set<string>();
    for (const row of rows) {
      const template = current.get(row.templateName);
      const fresh =
        template !== undefined &&
        row.recipe === recipeOf(template) &&
        (row.status === 'warming' || running.has(row.id));
      const held = kept.get(row.templateName) ?? 0;
      const stuck = row.status === 'warming' && Date.now() - row.updatedAt.getTime() > 10 * 60_000;
      if (fresh && held < template.warmPool && !stuck) {
        kept.set(row.templateName, held + 1);
        continue;
      }
      // Only what this delete took: a create may have claimed it since it was read.
      const [taken] = await db
        .delete(warmWorkspaces)
        .where(and(eq(warmWorkspaces.id, row.id), eq(warmWorkspaces.status, row.status)))
        .returning();
      if (taken && (row.status === 'ready' || stuck)) await runtime.remove(row.id).catch(() => {});
    }
    for (const template of current.values()) {
      while (!this.stopped && template.warmPool > 0) {
        if (Date.now() - (this.failedAt.get(template.name) ?? 0) < 60_000) break;
        const id = await this.reserve(template);
        if (!id) break;
        await this.warm(id, template);
      }
    }
  }

  /** A new pool row when the pool is short, counted and added under a lock; null when full. */
  private async reserve(template: Template): Promise<string | null> {
    return this.deps.db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${REFILL_LOCK_KEY})`);
      const [{ value }] = (await tx
        .select({ value: count() })
        .from(warmWorkspaces)
        .where(
          and(
            eq(warmWorkspaces.templateName, template.name),
            eq(warmWorkspaces.recipe, recipeOf(template)),
          ),
        )) as [{ value: number }];
      if (value >= template.warmPool) return null;
      const id = randomBytes(8).toString('hex');
      await tx
        .insert(warmWorkspaces)
        .values({ id, templateName: template.name, recipe: recipeOf(template) });
      return id;
    });
  }

  private async warm(id: string, template: Template): Promise<void> {
    const { db, runtime, images, logger } = this.deps;
    try {
      if (images) await images.ensure(template, () => {});
      await runtime.create(warmSpec(id, template));
      await runtime.start(id);
      const [updated] = await db
        .update(warmWorkspaces)
        .set({ status: 'ready' })
        .where(eq(warmWorkspaces.id, id))
        .returning();
      // Claimed meanwhile cannot happen (only ready ones are); dropped as stale meanwhile can.
      if (!updated) await runtime.remove(id).catch(() => {});
    } catch (error) {
      logger.warn({ err: error, template: template.name }, 'warm pool: could not start one');
      await db.delete(warmWorkspaces).where(eq(warmWorkspaces.id, id));
      await runtime.remove(id).catch(() => {});
      // Not again at once: a template that cannot start would try every few seconds.
      this.failedAt.set(template.name, Date.now());
    }
  }
}

/** What a warm workspace is made from: a different one is not what the template makes now. */
export function recipeOf(template: Template): string {
  const { image, env, startCommands, resources, desktop, isolation } = template;
  return createHash('sha256')
    .update(JSON.stringify({ image, env, startCommands, resources, desktop, isolation }))
    .digest('hex')
    .slice(0, 16);
}

/** The driver's spec of a warm workspace: the template's, with no owner yet. */
function warmSpec(id: string, template: Template): WorkspaceSpec {
  return {
    id,
    name: template.name,
    ownerId: POOL_OWNER,
    image: template.image.ref,
    resources: template.resources,
    env: template.env,
    startCommands: template.startCommands,
    isolation: template.isolation,
  };
}
