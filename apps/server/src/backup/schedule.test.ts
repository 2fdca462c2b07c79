// Scheduled backups on a real server: the clock queues each due time once however many times it
// is asked, the server writes the folder `studio backup` writes (checked against its manifest,
// the home holding the workspace's file), and only the newest STUDIO_BACKUP_KEEP stay.
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { verifyBackup } from '@studio/backup';
import { schema } from '@studio/db';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  injectAs,
  signedInUser,
  startTestServer,
  waitForWorkspace,
  type TestServer,
} from '../testing.ts';

let server: TestServer;
let dir: string;
let admin: Awaited<ReturnType<typeof signedInUser>>;
/** When the workspace's file was written: backups due before it may lack it. */
let writtenAt: number;

/** The audit log's scheduled-backup events, oldest first. */
async function backupEvents() {
  const events = (await injectAs(server, admin, 'GET', '/api/audit?limit=200')).json()
    .events as Array<{ action: string; data: Record<string, unknown> }>;
  return events
    .filter((event) => ['backup.written', 'backup.failed'].includes(event.action))
    .reverse();
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'studio-backups-'));
  server = await startTestServer({
    // Every third second, so a test sees several.
    STUDIO_BACKUP_CRON: '*/3 * * * * *',
    STUDIO_BACKUP_DIR: dir,
    STUDIO_BACKUP_KEEP: '2',
  });
  admin = await signedInUser(server, { email: 'root@example.com', role: 'admin' });
  await injectAs(server, admin, 'POST', '/api/workspaces', { name: 'kept' });
  await waitForWorkspace(server, admin, 'kept', 'running');
  const written = await injectAs(server, admin, 'PUT', '/api/workspaces/kept/files/content', {
    path: 'notes/today.md',
    content: 'written before the backup\n',
    createParents: true,
  });
  expect(written.statusCode).toBe(200);
  writtenAt = Date.now();
}, 60_000);

afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
}, 60_000);

describe('scheduled backups', () => {
  it('queues the backup of a due time once, however many replicas ask', async () => {
    const due = new Date('2030-01-01T03:00:00Z');
    await Promise.all([1, 2, 3].map(() => server.services.backups.queue(due)));
    await server.services.backups.queue(due);
    const forDue = (
      await server.services.database.db
        .select({ payload: schema.jobs.payload })
        .from(schema.jobs)
        .where(eq(schema.jobs.kind, 'backup'))
    ).filter((job) => (job.payload as { due: string }).due === due.toISOString());
    expect(forDue).toHaveLength(1);
  });

  it('writes a backup that verifies at each time, and keeps the newest two', async () => {
    // Three written on the clock (each every 3 s), plus the one queued for 2030 above; and one
    // due after the file was written (a slow start-up leaves earlier ones without it).
    const dueAfterWrite = (events: Awaited<ReturnType<typeof backupEvents>>) =>
      events.some((event) => {
        const folder = String(event.data.folder ?? '');
        const due = Date.parse(folder.replace(/T(\d\d)-(\d\d)-(\d\d)Z$/, 'T$1:$2:$3Z'));
        return !folder.startsWith('2030') && due > writtenAt;
      });
    for (let i = 0; i < 200; i++) {
      const events = await backupEvents();
      if (events.length >= 4 && dueAfterWrite(events)) break;
      await sleep(250);
    }
    const events = await backupEvents();
    expect(events.filter((event) => event.action === 'backup.failed')).toEqual([]);
    expect(events.length).toBeGreaterThanOrEqual(4);
    const latest = events.at(-1)!.data;
    expect(latest).toMatchObject({ workspaces: 1, skipped: [] });

    // Retention may still be finishing the last one: the folder settles at two finished backups.
    let folders: string[] = [];
    for (let i = 0; i < 40; i++) {
      folders = (await readdir(dir)).sort();
      if (folders.length === 2) break;
      await sleep(100);
    }
    expect(folders).toHaveLength(2);
    expect(folders.every((name) => /^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ$/.test(name))).toBe(true);
    // The 2030 one is the newest by its name and is kept; the other is the latest on the clock.
    expect(folders[1]).toBe('2030-01-01T03-00-00Z');
    for (const folder of folders) {
      const manifest = await verifyBackup(join(dir, folder));
      expect(manifest.workspaces).toEqual([
        expect.objectContaining({ name: 'kept', owner: 'root@example.com' }),
      ]);
      const home = join(dir, folder, manifest.workspaces[0]!.home!);
      const listed = execFileSync('tar', ['-xOf', home, './notes/today.md'], { encoding: 'utf8' });
      expect(listed).toBe('written before the backup\n');
    }
  }, 90_000);

  it('writes one when an admin asks, and lists them with the schedule', async () => {
    const member = await signedInUser(server, { email: 'member@example.com' });
    expect((await injectAs(server, member, 'POST', '/api/admin/backups')).statusCode).toBe(403);
    const asked = await injectAs(server, admin, 'POST', '/api/admin/backups');
    expect(asked.statusCode).toBe(202);
    const { name } = asked.json() as { name: string };
    let written: Record<string, unknown> | undefined;
    for (let i = 0; i < 120 && !written; i++) {
      written = (await backupEvents()).find((event) => event.data.folder === name)?.data;
      if (!written) await sleep(250);
    }
    expect(written).toMatchObject({ workspaces: 1, skipped: [] });

    const listed = await injectAs(server, admin, 'GET', '/api/admin/backups');
    expect(listed.json()).toMatchObject({ cron: '*/3 * * * * *', dir, keep: 2 });
    expect(Date.parse(listed.json().next)).toBeGreaterThan(Date.now() - 1000);
    expect(listed.json().backups[0]).toMatchObject({
      name: '2030-01-01T03-00-00Z',
      state: 'finished',
      workspaces: 1,
      skipped: 0,
      bytes: expect.any(Number),
    });
  }, 60_000);
});
