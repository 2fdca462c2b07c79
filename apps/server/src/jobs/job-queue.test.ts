import { setTimeout as sleep } from 'node:timers/promises';
import {
  createTestDatabase,
  jobs,
  openDatabase,
  type DatabaseHandle,
  type TestDatabase,
} from '@studio/db';
import { eq } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobQueue } from './job-queue.ts';

// Replicas are separate connections to one PostgreSQL, as separate processes would be.
const POSTGRES_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const logger = pino({ level: 'silent' });

let database: TestDatabase;
const handles: DatabaseHandle[] = [];
const queues: JobQueue[] = [];

async function replica(name: string, leaseMs = 5_000) {
  const handle = await openDatabase({ url: database.url, dataDir: '/nonexistent' });
  handles.push(handle);
  const queue = new JobQueue({ db: handle.db, bus: handle.bus, logger, replicaId: name, leaseMs });
  queues.push(queue);
  return { handle, queue };
}

beforeAll(async () => {
  database = await createTestDatabase(POSTGRES_URL);
});

afterAll(async () => {
  for (const queue of queues) await queue.close(100).catch(() => {});
  for (const handle of handles) await handle.close().catch(() => {});
  await database?.drop();
});

describe('the job queue on two replicas', () => {
  it('runs one subject’s jobs one at a time, in order, whichever replica queued them', async () => {
    const log: string[] = [];
    const handler = (who: string) => async (payload: Record<string, unknown>) => {
      log.push(`start ${payload.n} on ${who}`);
      await sleep(30);
      log.push(`end ${payload.n}`);
    };
    const one = await replica('one');
    const two = await replica('two');
    one.queue.handle('step', handler('one'));
    two.queue.handle('step', handler('two'));
    await one.queue.start();
    await two.queue.start();
    for (let n = 0; n < 8; n++) await (n % 2 ? two : one).queue.enqueue('step', 'w1', { n });
    // Another subject runs beside it.
    await one.queue.enqueue('step', 'w2', { n: 'other' });
    await one.queue.settled('w1');
    const w1 = log.filter((line) => !line.includes('other'));
    for (let n = 0; n < 8; n++) {
      expect(w1[2 * n]).toMatch(new RegExp(`^start ${n} on (one|two)$`));
      expect(w1[2 * n + 1]).toBe(`end ${n}`);
    }
    await one.queue.close();
    await two.queue.close();
  });

  it('re-runs a job whose replica died once its lease lapses, never before', async () => {
    const started: Array<{ who: string; at: number }> = [];
    const dying = await replica('dying', 400);
    const standby = await replica('standby', 400);
    dying.queue.handle('slow', async () => {
      started.push({ who: 'dying', at: Date.now() });
      await new Promise(() => {}); // never ends: the replica dies while it runs
    });
    standby.queue.handle('slow', async () => {
      started.push({ who: 'standby', at: Date.now() });
    });
    await dying.queue.start();
    await dying.queue.enqueue('slow', 'w3', {});
    for (let i = 0; i < 100 && started.length === 0; i++) await sleep(10);
    // The replica loses its database (as a process killed mid-job would): no more renewals.
    await dying.handle.close();
    await standby.queue.start();
    await standby.queue.settled('w3');
    expect(started.map((entry) => entry.who)).toEqual(['dying', 'standby']);
    expect(started[1]!.at - started[0]!.at).toBeGreaterThanOrEqual(400);
    const [row] = await standby.handle.db.select().from(jobs).where(eq(jobs.subject, 'w3'));
    expect(row).toMatchObject({ state: 'done', attempts: 2, holder: null });
  });
});
