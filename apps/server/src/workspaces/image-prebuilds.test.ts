import {
  createTestDatabase,
  openDatabase,
  type DatabaseHandle,
  type TestDatabase,
} from '@studio/db';
import { templateSchema, type Template } from '@studio/protocol';
import type { ProgressListener, TemplateImageState } from '@studio/runtime';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobQueue } from '../jobs/job-queue.ts';
import { ImagePrebuilds } from './image-prebuilds.ts';
import { TemplateStore } from './templates.ts';

const POSTGRES_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const logger = pino({ level: 'silent' });

let database: TestDatabase;
let handle: DatabaseHandle;
let jobs: JobQueue;

/** An engine's images as a test says they are; a build waits until the test lets it finish. */
class Images {
  readonly states = new Map<string, TemplateImageState>();
  readonly builds: string[] = [];
  private finishBuild: ((error?: Error) => void) | null = null;
  private step: ProgressListener = () => {};

  async state(template: Template) {
    return this.states.get(template.name) ?? 'missing';
  }

  ensure(template: Template, onProgress: ProgressListener): Promise<void> {
    this.builds.push(template.name);
    this.step = onProgress;
    return new Promise((resolve, reject) => {
      this.finishBuild = (error) => {
        if (error) return reject(error);
        this.states.set(template.name, 'ready');
        resolve();
      };
    });
  }

  progress(step: string, detail: string) {
    this.step(step, detail);
  }

  finish(error?: Error) {
    this.finishBuild?.(error);
  }
}

const template = (name: string, build?: string) =>
  templateSchema.parse({
    name,
    title: name,
    image: { ref: `studio/${name}:1`, ...(build ? { build } : {}) },
  });

beforeAll(async () => {
  database = await createTestDatabase(POSTGRES_URL);
  handle = await openDatabase({ url: database.url, dataDir: '/nonexistent' });
  jobs = new JobQueue({ db: handle.db, bus: handle.bus, logger, replicaId: 'one' });
  await jobs.start();
});

afterAll(async () => {
  await jobs?.close(100);
  await handle?.close();
  await database?.drop();
});

describe('images built again after their recipe changed', () => {
  it('rebuilds outdated images in the background, its progress and outcome for every replica to read', async () => {
    const templates = new TemplateStore(handle.db);
    for (const [name, build] of [
      ['fresh', 'fresh'],
      ['changed', 'changed'],
      ['broken', 'broken'],
      ['unbuilt', 'unbuilt'],
      ['pulled', undefined],
    ] as const)
      await templates.put(template(name, build), 'file');
    const images = new Images();
    images.states.set('fresh', 'ready');
    images.states.set('changed', 'outdated');
    images.states.set('broken', 'outdated');
    const prebuilds = new ImagePrebuilds({ db: handle.db, jobs, images, templates, logger });

    // Only outdated images are built: a missing one waits for its first create.
    expect(await prebuilds.queueOutdated()).toEqual(['broken', 'changed']);
    await expect.poll(() => images.builds).toEqual(['broken']);
    // Asked again (another replica starting): nothing is queued twice.
    expect(await prebuilds.queueOutdated()).toEqual([]);

    images.progress('build', 'Step 2/5 : RUN apt-get install -y jq');
    await expect
      .poll(async () => (await prebuilds.states()).find((image) => image.template === 'broken'))
      .toEqual({
        template: 'broken',
        ref: 'studio/broken:1',
        state: 'building',
        detail: 'Step 2/5 : RUN apt-get install -y jq',
      });
    images.finish(new Error('The command /bin/sh -c apt-get install -y jq returned 100'));
    await expect.poll(() => images.builds).toEqual(['broken', 'changed']);
    images.finish();
    await jobs.settled('images');

    const states = await prebuilds.states();
    expect(states.map(({ template: name, state }) => [name, state])).toEqual([
      ['broken', 'failed'],
      ['changed', 'ready'],
      ['fresh', 'ready'],
      ['unbuilt', 'missing'],
    ]);
    expect(states[0]!.detail).toMatch(/returned 100/);
  });
});
