import {
  createdPreviewLinkSchema,
  portListSchema,
  previewLinkSchema,
  previewPlaceSchema,
  type CreatePreviewLinkBody,
} from '@studio/protocol';
import { queryOptions } from '@tanstack/react-query';
import { requestJson, requestVoid } from './http.ts';

/** Query key of a workspace's listening ports. */
export function portsQueryKey(name: string) {
  return ['workspace-ports', name] as const;
}

/** `GET ports`: TCP ports listening inside the workspace, polled while the IDE is open. */
export function portsQueryOptions(name: string) {
  return queryOptions({
    queryKey: portsQueryKey(name),
    queryFn: async () =>
      (
        await requestJson(
          'GET',
          `/api/workspaces/${encodeURIComponent(name)}/ports`,
          portListSchema,
        )
      ).ports.sort((a, b) => a.port - b.port),
    // One row per server: a port on IPv4 and IPv6 is the same one. A port without a process the
    // workspace can see belongs to the host (a local workspace shares the host's network).
    select: (ports) => {
      const seen = new Set<number>();
      return ports.filter(
        (item) => item.pid !== null && !seen.has(item.port) && seen.add(item.port),
      );
    },
    // The daemon only answers "what listens now"; a short poll is how a new server shows up.
    refetchInterval: 3_000,
    refetchIntervalInBackground: false,
  });
}

/**
 * Where the server proxies a workspace port (path mode): `/w/:name/p/:port/` plus `path`.
 * The proxy authenticates with the session and strips the platform's cookies before the app.
 */
export function previewUrl(name: string, port: number, path = ''): string {
  return `/w/${encodeURIComponent(name)}/p/${port}/${path.replace(/^\/+/, '')}`;
}

/**
 * `GET …/previews/:port/url`: whether a preview runs on a host of its own (`subdomain`, the
 * server's `STUDIO_PREVIEW_DOMAIN`) or sandboxed under its path; the server's, so asked once.
 */
export function previewModeQueryOptions(name: string, port: number) {
  return queryOptions({
    queryKey: ['preview-mode', name, port] as const,
    queryFn: async () =>
      (
        await requestJson(
          'GET',
          `/api/workspaces/${encodeURIComponent(name)}/previews/${port}/url`,
          previewPlaceSchema,
        )
      ).mode,
    staleTime: Infinity,
  });
}

const previewLinksPath = (name: string) =>
  `/api/workspaces/${encodeURIComponent(name)}/previews/links`;

/** `GET …/previews/links`: the workspace's links to previews (admins of it only). */
export function previewLinksQueryOptions(name: string) {
  return queryOptions({
    queryKey: [...portsQueryKey(name), 'links'] as const,
    queryFn: () => requestJson('GET', previewLinksPath(name), previewLinkSchema.array()),
  });
}

/** `POST …/previews/links`: a new link; its URL is in the answer this once. */
export function createPreviewLink(name: string, body: CreatePreviewLinkBody) {
  return requestJson('POST', previewLinksPath(name), createdPreviewLinkSchema, body);
}

/** `DELETE …/previews/links/:id`: the link stops working at once. */
export function revokePreviewLink(name: string, id: string) {
  return requestVoid('DELETE', `${previewLinksPath(name)}/${encodeURIComponent(id)}`);
}
