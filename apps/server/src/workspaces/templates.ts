import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { teamMembers, teams, templates, users, type Database } from '@studio/db';
import { templateSchema, type ListedTemplate, type Template } from '@studio/protocol';
import { and, asc, eq, exists, inArray, isNull, or, type SQL } from 'drizzle-orm';
import { AppError } from '../errors.ts';

/**
 * Workspace templates: the validated files under `images/templates/` (synced into the database at
 * start, so every replica sees the same set) plus templates admins add through the API, for
 * everyone or for one team.
 */
export class TemplateStore {
  constructor(private readonly db: Database) {}

  /** Read and validate every `*.json` in `dir` and upsert them; a bad file stops the server with its name. */
  async syncFiles(dir: string): Promise<string[]> {
    const names = (await readdir(dir).catch(() => [])).filter((name) => name.endsWith('.json'));
    const synced: string[] = [];
    for (const file of names.sort()) {
      const path = join(dir, file);
      let raw: unknown;
      try {
        raw = JSON.parse(await readFile(path, 'utf8'));
      } catch (error) {
        throw new Error(`template ${path} is not valid JSON: ${(error as Error).message}`);
      }
      const parsed = templateSchema.safeParse(raw);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new Error(
          `template ${path}: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`,
        );
      }
      await this.put(parsed.data, 'file');
      synced.push(parsed.data.name);
    }
    return synced;
  }

  /**
   * The templates `userId` may use — the organisation's, their teams', and every one for an
   * admin — each with the team that owns it; every template when no one is named (the server).
   */
  async list(userId?: string): Promise<ListedTemplate[]> {
    const rows = await this.db
      .select({ definition: templates.definition, team: teams.name, warmPool: templates.warmPool })
      .from(templates)
      .leftJoin(teams, eq(teams.id, templates.teamId))
      .where(userId === undefined ? undefined : this.usableBy(userId))
      .orderBy(asc(templates.name));
    return rows.map((row) => ({ ...definitionOf(row), team: row.team }));
  }

  /**
   * The template, or `template_not_found` naming the ones that exist; a team's template is not
   * found by anyone outside the team (but admins), as if it did not exist.
   */
  async get(name: string, userId?: string): Promise<Template> {
    const [row] = await this.db
      .select()
      .from(templates)
      .where(
        and(eq(templates.name, name), userId === undefined ? undefined : this.usableBy(userId)),
      );
    if (!row) {
      const known = (await this.list(userId)).map((template) => template.name);
      throw new AppError(
        'template_not_found',
        `There is no template "${name}". Available: ${known.join(', ') || 'none'}.`,
      );
    }
    return definitionOf(row);
  }

  /** Keeps `size` workspaces of the template warm (null: as its definition says). */
  async setWarmPool(name: string, size: number | null): Promise<Template> {
    const [row] = await this.db
      .update(templates)
      .set({ warmPool: size })
      .where(eq(templates.name, name))
      .returning();
    if (!row) throw new AppError('template_not_found', `There is no template "${name}".`);
    return definitionOf(row);
  }

  /** Saves a template: everyone's, or (`teamId`) a team's. Files' are always everyone's. */
  async put(
    template: Template,
    source: 'file' | 'api',
    teamId: string | null = null,
  ): Promise<void> {
    await this.db
      .insert(templates)
      .values({ name: template.name, definition: template, source, teamId })
      .onConflictDoUpdate({
        target: templates.name,
        set: { definition: template, source, teamId },
      });
  }

  /** The templates `userId` may use: the organisation's, their teams', every one for an admin. */
  private usableBy(userId: string): SQL {
    return or(
      isNull(templates.teamId),
      inArray(
        templates.teamId,
        this.db
          .select({ id: teamMembers.teamId })
          .from(teamMembers)
          .where(eq(teamMembers.userId, userId)),
      ),
      exists(
        this.db
          .select({ id: users.id })
          .from(users)
          .where(and(eq(users.id, userId), eq(users.role, 'admin'))),
      ),
    )!;
  }

  async remove(name: string): Promise<void> {
    const deleted = await this.db.delete(templates).where(eq(templates.name, name)).returning();
    if (deleted.length === 0)
      throw new AppError('template_not_found', `There is no template "${name}".`);
  }
}

/** A template as stored, with the warm pool size an admin set, if any. */
function definitionOf(row: { definition: unknown; warmPool: number | null }): Template {
  const template = templateSchema.parse(row.definition);
  return row.warmPool === null ? template : { ...template, warmPool: row.warmPool };
}

/** The templates folder shipped with the product. */
export function templatesDir(imagesDir: string): string {
  return join(imagesDir, 'templates');
}
