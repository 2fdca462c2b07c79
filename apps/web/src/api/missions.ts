import {
  missionConnectionSchema,
  missionListSchema,
  missionSchema,
  type DeployMissionBody,
  type Mission,
  type MissionStatus,
  type UpdateMissionBody,
} from '@studio/protocol';
import { queryOptions } from '@tanstack/react-query';
import { requestJson, requestVoid } from './http.ts';

/** Query keys of Mission control: the list, and each mission under it. */
export const missionQueryKeys = {
  all: () => ['missions'] as const,
  list: () => ['missions', 'list'] as const,
  mission: (id: string) => ['missions', 'one', id] as const,
};

function missionPath(id: string, rest = ''): string {
  return `/api/missions/${encodeURIComponent(id)}${rest}`;
}

/** True while the mission's environment is on its way to ready. */
export function isDeploying(status: MissionStatus): boolean {
  return status === 'queued' || status === 'building' || status === 'starting';
}

/**
 * How often to ask for a mission again: every second while it deploys (each step shows as it
 * happens), every 5 s otherwise (the worker's run, the time-to-live and a stop from elsewhere).
 */
export function missionPollInterval(mission: Mission | undefined): number {
  return mission !== undefined && isDeploying(mission.status) ? 1000 : 5000;
}

/** `GET /api/missions`: the person's missions, newest first. */
export function missionsQueryOptions() {
  return queryOptions({
    queryKey: missionQueryKeys.list(),
    queryFn: async () => (await requestJson('GET', '/api/missions', missionListSchema)).missions,
    // The list's status dots follow deployments quickly, the rest at the slow pace.
    refetchInterval: (query) =>
      query.state.data?.some((mission) => isDeploying(mission.status)) ? 2000 : 5000,
  });
}

/** `GET /api/missions/:id`, polled (see `missionPollInterval`). */
export function missionQueryOptions(id: string) {
  return queryOptions({
    queryKey: missionQueryKeys.mission(id),
    queryFn: () => requestJson('GET', missionPath(id), missionSchema),
    refetchInterval: (query) => missionPollInterval(query.state.data),
  });
}

/** `POST /api/missions`: deploy without the main agent (202, the mission as queued). */
export function deployMission(body: DeployMissionBody): Promise<Mission> {
  return requestJson('POST', '/api/missions', missionSchema, body);
}

/** `PATCH /api/missions/:id`: keep the environment, or give it a new time-to-live from now. */
export function updateMission(id: string, body: UpdateMissionBody): Promise<Mission> {
  return requestJson('PATCH', missionPath(id), missionSchema, body);
}

/** `POST /api/missions/:id/stop`: stops the worker and the environment. */
export function stopMission(id: string): Promise<Mission> {
  return requestJson('POST', missionPath(id, '/stop'), missionSchema);
}

/** `DELETE /api/missions/:id`: also removes its workspace. */
export function deleteMission(id: string): Promise<void> {
  return requestVoid('DELETE', missionPath(id));
}

/** `GET /api/missions/:id/connect`: 409 `conflict` while the mission is not ready. */
export function missionConnection(id: string) {
  return requestJson('GET', missionPath(id, '/connect'), missionConnectionSchema);
}

/**
 * The mission a main-agent `deploy_environment` result names ("… mission <id> …"), if it is one
 * of `missions`; else the newest, which the deployment just created.
 */
export function deployedMissionId(output: string | undefined, missions: Mission[]): string | null {
  for (const match of (output ?? '').matchAll(/\bmission\s+[`"']?([\w-]+)/gi)) {
    const id = match[1];
    if (missions.some((mission) => mission.id === id)) return id!;
  }
  return missions[0]?.id ?? null;
}
