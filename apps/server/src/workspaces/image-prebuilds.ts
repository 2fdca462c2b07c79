import { jobs, type Database } from '@studio/db';
import type { TemplateImageStatus } from '@studio/protocol';
import { desc, eq } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import type { JobQueue, JobRow } from '../jobs/job-queue.ts';
import type { TemplateStore } from './templates.ts';
import type { ImageBuilder } from './workspace-service.ts';

/** The job kind, and the subject of every image build: one at a time across replicas (builds
 * share the machine's cores, and a parent image may be built by either). */
const KIND = 'image';
const SUBJECT = 'images';
/** A build's latest step is written at most this often. */
const PROGRESS_EVERY_MS = 1_000;

/** A build queued or running, on any replica. */
const pending = (job: JobRow | undefined): boolean =>
  job?.state === 'queued' || job?.state === 'running';

export interface ImagePrebuildDeps {
  db: Database;
  jobs: JobQueue;
  images: ImageBuilder;
  templates: TemplateStore;
  logger: FastifyBaseLogger;
}

/**
 * Images built again in the background after their recipe changed (Docker): at start, every
 * template whose image is in the engine but was built from an older recipe gets a job that
 * builds it, so the next create does not wait for it. Missing images are left to their first
 * create (or the warm pool): building every template ahead of need would take many minutes.
 * The builds are jobs, so their state and latest step are in the database for every replica.
 */
export class ImagePrebuilds {
  constructor(private readonly deps: ImagePrebuildDeps) {
    deps.jobs.handle(KIND, (payload, job) => this.build(String(payload.template), job.id));
  }

  /** Looks for outdated images in the background. */
  start(): void {
    this.queueOutdated().catch((error: unknown) =>
      this.deps.logger.warn({ err: error }, 'could not look for outdated images'),
    );
  }

  /** Queues a build of every outdated image; returns the templates queued. */
  async queueOutdated(): Promise<string[]> {
    const queued: string[] = [];
    const latest = await this.latestBuilds();
    for (const template of await this.deps.templates.list()) {
      if (!template.image.build) continue;
      if (pending(latest.get(template.name))) continue;
      if ((await this.deps.images.state(template).catch(() => null)) !== 'outdated') continue;
      await this.deps.jobs.enqueue(KIND, SUBJECT, { template: template.name });
      queued.push(template.name);
    }
    if (queued.length) this.deps.logger.info({ templates: queued }, 'rebuilding outdated images');
    return queued;
  }

  /** Each built template's image: as the engine has it, or its build's state and latest step. */
  async states(): Promise<TemplateImageStatus[]> {
    const built = (await this.deps.templates.list()).filter((template) => template.image.build);
    const latest = await this.latestBuilds();
    return Promise.all(
      built.map(async (template): Promise<TemplateImageStatus> => {
        const job = latest.get(template.name);
        const base = { template: template.name, ref: template.image.ref };
        if (pending(job))
          return { ...base, state: 'building', detail: job?.progress ?? 'waiting to start' };
        const state = await this.deps.images.state(template).catch(() => null);
        if (state === 'outdated' && job?.state === 'failed')
          return { ...base, state: 'failed', detail: job.error };
        return { ...base, state: state ?? 'missing', detail: null };
      }),
    );
  }

  /** Each template's latest background build (finished ones are kept a day). */
  private async latestBuilds(): Promise<Map<string, JobRow>> {
    const latest = new Map<string, JobRow>();
    const rows = await this.deps.db
      .select()
      .from(jobs)
      .where(eq(jobs.kind, KIND))
      .orderBy(desc(jobs.id));
    for (const job of rows) {
      const template = String(job.payload.template);
      if (!latest.has(template)) latest.set(template, job);
    }
    return latest;
  }

  private async build(name: string, jobId: number): Promise<void> {
    const template = await this.deps.templates.get(name);
    // Another replica, or a create, may have built it since it was queued.
    if ((await this.deps.images.state(template)) !== 'outdated') return;
    let written = 0;
    await this.deps.images.ensure(template, (step, detail) => {
      if (Date.now() - written < PROGRESS_EVERY_MS) return;
      written = Date.now();
      void this.deps.jobs.progress(jobId, detail ?? step);
    });
    this.deps.logger.info({ template: name }, 'image rebuilt from its changed recipe');
  }
}
