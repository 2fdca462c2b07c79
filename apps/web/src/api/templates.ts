import {
  dockerfileTemplateEventSchema,
  listedTemplateSchema,
  templateImageStateSchema,
  warmPoolStateSchema,
  type DockerfileTemplateBody,
  type DockerfileTemplateEvent,
  type SaveAsTemplateBody,
} from '@studio/protocol';
import { queryOptions } from '@tanstack/react-query';
import { z } from 'zod';
import { requestJson, requestLines } from './http.ts';
import { queryKeys } from './query-keys.ts';

/** `GET /api/admin/warm-pools`: each template's warm pool; often while one fills. */
export function warmPoolsQueryOptions() {
  return queryOptions({
    queryKey: queryKeys.adminWarmPools(),
    queryFn: () => requestJson('GET', '/api/admin/warm-pools', z.array(warmPoolStateSchema)),
    refetchInterval: (query) =>
      query.state.data?.some((pool) => pool.ready < pool.size || pool.warming > 0) ? 1_000 : 15_000,
  });
}

/** `GET /api/admin/images`: each built template's image; every second while one builds. */
export function imagesQueryOptions() {
  return queryOptions({
    queryKey: queryKeys.adminImages(),
    queryFn: () => requestJson('GET', '/api/admin/images', z.array(templateImageStateSchema)),
    refetchInterval: (query) =>
      query.state.data?.some((image) => image.state === 'building') ? 1_000 : 15_000,
  });
}

/** `PUT /api/admin/templates/:name/warm-pool`: keep `size` warm (null: the template's own). */
export function setWarmPool(template: string, size: number | null) {
  return requestJson(
    'PUT',
    `/api/admin/templates/${encodeURIComponent(template)}/warm-pool`,
    listedTemplateSchema,
    { size },
  );
}

/** `POST /api/admin/workspaces/:id/template`: a new template from a workspace's home (Docker). */
export function saveWorkspaceAsTemplate(workspaceId: string, body: SaveAsTemplateBody) {
  return requestJson(
    'POST',
    `/api/admin/workspaces/${encodeURIComponent(workspaceId)}/template`,
    listedTemplateSchema,
    body,
  );
}

/**
 * `POST /api/admin/templates/dockerfile`: a new template from a Dockerfile (Docker); the build's
 * output comes line by line, then the template or why it failed.
 */
export function buildDockerfileTemplate(
  body: DockerfileTemplateBody,
  onEvent: (event: DockerfileTemplateEvent) => void,
) {
  return requestLines(
    'POST',
    '/api/admin/templates/dockerfile',
    dockerfileTemplateEventSchema,
    body,
    onEvent,
  );
}
