import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { templates, type Database } from '@studio/db';
import { templateSchema, type Template } from '@studio/protocol';
import { asc, eq } from 'drizzle-orm';
import { AppError } from '../errors.ts';

/**
 * Workspace templates: the validated files under `images/templates/` (synced into the database at
 * start, so every replica sees the same set) plus templates admins add through the API.
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

  async list(): Promise<Template[]> {
    const rows = await this.db.select().from(templates).orderBy(asc(templates.name));
    return rows.map((row) => templateSchema.parse(row.definition));
  }

  /** The template, or `template_not_found` naming the ones that exist. */
  async get(name: string): Promise<Template> {
    const [row] = await this.db.select().from(templates).where(eq(templates.name, name));
    if (!row) {
      const known = (await this.list()).map((template) => template.name);
      throw new AppError(
        'template_not_found',
        `There is no template "${name}". Available: ${known.join(', ') || 'none'}.`,
      );
    }
    return templateSchema.parse(row.definition);
  }

  async put(template: Template, source: 'file' | 'api'): Promise<void> {
    await this.db
      .insert(templates)
      .values({ name: template.name, definition: template, source })
      .onConflictDoUpdate({ target: templates.name, set: { definition: template, source } });
  }

  async remove(name: string): Promise<void> {
    const deleted = await this.db.delete(templates).where(eq(templates.name, name)).returning();
    if (deleted.length === 0)
      throw new AppError('template_not_found', `There is no template "${name}".`);
  }
}

/** The templates folder shipped with the product. */
export function templatesDir(imagesDir: string): string {
  return join(imagesDir, 'templates');
}
