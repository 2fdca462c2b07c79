// Workspace-role metrics for `npm run bench -- roles`: what the one authorization check (the
// caller's role on the workspace a route names) adds to a request, on a workspace shared with
// 1,000 people, measured against a request of the same person that names no workspace.
// - authorization added, p50: GET /api/workspaces/<id> as a member minus GET /api/me, each
//   timed one request at a time, interleaved, in the same run. That difference also holds the
//   route's own work (reading and answering the workspace), so:
// - member against owner, p50: the same GET as a member (found among 1,000) and as its owner,
//   whose check is the one "owner or 404" lookup every workspace route made before sharing.
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { percentile, spawnServer, stopServer, waitForAdmin, waitForReady } from './processes.ts';
import { apiFor } from './workspaces.ts';

export interface RoleMetric {
  value: number;
  unit: string;
  baseline?: number;
}

const ADMIN = { email: 'bench-roles@example.com', password: 'bench-password-0123' };
const MEMBER = { email: 'member-0@example.com', password: 'bench-password-0123' };
const MEMBERS = 1_000;
const RUNS = 500;

function log(message: string): void {
  process.stderr.write(`bench: roles: ${message}\n`);
}

export async function measureRoles(
  tmp: string,
  serverMain: string,
): Promise<Record<string, RoleMetric>> {
  const server = await spawnServer(serverMain, {
    STUDIO_DATA_DIR: await mkdtemp(join(tmp, 'roles-')),
    STUDIO_ADMIN_EMAIL: ADMIN.email,
    STUDIO_ADMIN_PASSWORD: ADMIN.password,
    STUDIO_RUNTIME: 'local',
  });
  try {
    await waitForReady(server);
    await waitForAdmin(server);
    const admin = await apiFor(server.url, ADMIN);
    const workspace = JSON.parse(
      await admin.call('POST', '/api/workspaces', { name: 'shared' }),
    ) as {
      id: string;
    };
    log(`sharing a workspace with ${MEMBERS} people`);
    // One who signs in (a password is hashed once); the rest are invited, which needs no hash.
    await admin.call('POST', '/api/admin/users', { ...MEMBER, name: 'member 0', role: 'member' });
    for (let i = 1; i < MEMBERS; i++)
      await admin.call('POST', '/api/admin/users', {
        email: `member-${i}@example.com`,
        name: `member ${i}`,
        role: 'member',
      });
    for (let i = 0; i < MEMBERS; i++)
      await admin.call('PUT', `/api/workspaces/shared/members/member-${i}@example.com`, {
        role: i % 3 === 0 ? 'viewer' : 'editor',
      });
    const member = await apiFor(server.url, MEMBER);
    const timed = async (path: string, who = member) => {
      const began = performance.now();
      await who.call('GET', path);
      return performance.now() - began;
    };
    for (let i = 0; i < 50; i++) {
      await timed('/api/me');
      await timed(`/api/workspaces/${workspace.id}`);
      await timed(`/api/workspaces/${workspace.id}`, admin);
    }
    const plain: number[] = [];
    const checked: number[] = [];
    const owned: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      plain.push(await timed('/api/me'));
      checked.push(await timed(`/api/workspaces/${workspace.id}`));
      owned.push(await timed(`/api/workspaces/${workspace.id}`, admin));
    }
    // Local workspaces outlive the server; this one must not outlive the bench.
    await admin.call('DELETE', '/api/workspaces/shared');
    await admin.waitGone(['shared']);
    const p50 = percentile(checked, 50);
    const base = percentile(plain, 50);
    const owner = percentile(owned, 50);
    log(
      `GET workspace as a member p50 ${p50.toFixed(2)} ms, as its owner ${owner.toFixed(2)} ms; GET /api/me p50 ${base.toFixed(2)} ms`,
    );
    return {
      roles_member_request_p50_ms: { value: p50, unit: 'ms', baseline: base },
      roles_authorization_added_ms: { value: Math.max(0, p50 - base), unit: 'ms' },
      roles_member_vs_owner_p50_ms: { value: p50, unit: 'ms', baseline: owner },
    };
  } finally {
    await stopServer(server.child);
  }
}
