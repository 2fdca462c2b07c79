import {
  allFilesSchema,
  apiErrorSchema,
  fileContentSchema,
  fileListSchema,
  fileWatchMessageSchema,
  searchResultSchema,
  writtenFileSchema,
  type FileChange,
  type FileContent,
  type WriteFileBody,
} from '@studio/protocol';
import { queryOptions } from '@tanstack/react-query';
import { ApiError, requestJson, requestVoid } from './http.ts';

/** Query keys of the IDE's file queries, under one root per workspace. */
export const fileQueryKeys = {
  directory: (name: string, path: string) => ['workspace-files', name, 'dir', path] as const,
  content: (name: string, path: string) => ['workspace-files', name, 'content', path] as const,
  allPaths: (name: string) => ['workspace-files', name, 'all'] as const,
  search: (name: string, query: string, regex: boolean, caseSensitive: boolean) =>
    ['workspace-files', name, 'search', query, regex, caseSensitive] as const,
};

function filesPath(name: string, rest = ''): string {
  return `/api/workspaces/${encodeURIComponent(name)}/files${rest}`;
}

function withPath(url: string, path: string, extra: Record<string, string> = {}): string {
  return `${url}?${new URLSearchParams({ path, ...extra }).toString()}`;
}

/** `GET files?path=`: one directory, folders first. */
export function directoryQueryOptions(name: string, path: string) {
  return queryOptions({
    queryKey: fileQueryKeys.directory(name, path),
    queryFn: async () =>
      (await requestJson('GET', withPath(filesPath(name), path), fileListSchema)).entries,
  });
}

/** `GET files/content?path=`: text, or base64 for binary files; 413 over 5 MiB. */
export function fileContentQueryOptions(name: string, path: string) {
  return queryOptions({
    queryKey: fileQueryKeys.content(name, path),
    queryFn: () => readFile(name, path),
    // The watch socket says when a file changes; refetching on focus would overwrite nothing
    // but costs a read of every open file.
    staleTime: Infinity,
  });
}

/** Read a file now, outside the cache (the disk side of a save conflict). */
export function readFile(name: string, path: string): Promise<FileContent> {
  return requestJson('GET', withPath(filesPath(name, '/content'), path), fileContentSchema);
}

/** `GET files/all`: every file path, for Quick Open. */
export function allFilesQueryOptions(name: string) {
  return queryOptions({
    queryKey: fileQueryKeys.allPaths(name),
    queryFn: () => requestJson('GET', `${filesPath(name, '/all')}?limit=20000`, allFilesSchema),
    staleTime: 30_000,
  });
}

/** `PUT files/content`: answers the new version; 409 `conflict` when the disk moved on. */
export function writeFile(name: string, body: WriteFileBody) {
  return requestJson('PUT', filesPath(name, '/content'), writtenFileSchema, body);
}

/** `POST collab/save`: write a shared document's text (everyone's edits) to its file. */
export function saveSharedFile(name: string, path: string) {
  return requestJson(
    'POST',
    `/api/workspaces/${encodeURIComponent(name)}/collab/save`,
    writtenFileSchema,
    { path },
  );
}

/** `POST files/mkdir`. */
export function makeDirectory(name: string, path: string): Promise<void> {
  return requestVoid('POST', filesPath(name, '/mkdir'), { path, recursive: true });
}

/** `POST files/move`: 409 `already_exists` unless `overwrite`. */
export function moveFile(name: string, from: string, to: string): Promise<void> {
  return requestVoid('POST', filesPath(name, '/move'), { from, to });
}

/** `DELETE files?path=&recursive=true`: a file, or a folder with everything in it. */
export function deleteFile(name: string, path: string): Promise<void> {
  return requestVoid('DELETE', withPath(filesPath(name), path, { recursive: 'true' }));
}

/** `PUT files/raw?path=`: upload a file from the desktop as raw bytes (at most 100 MiB). */
export function uploadFile(name: string, path: string, file: Blob): Promise<void> {
  return putBytes(withPath(filesPath(name, '/raw'), path), 'application/octet-stream', file);
}

/** `PUT files/archive?path=`: a tar (an export of the workspace) unpacked into a folder. */
export function importArchive(name: string, path: string, archive: Blob): Promise<void> {
  return putBytes(withPath(filesPath(name, '/archive'), path), 'application/x-tar', archive);
}

async function putBytes(url: string, type: string, body: Blob): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'PUT',
      credentials: 'same-origin',
      headers: { 'content-type': type },
      body,
    });
  } catch {
    throw new ApiError(
      'unavailable',
      'Cannot reach the Prometheus Studio server. Check your connection and try again.',
      0,
    );
  }
  if (response.ok) return;
  // requestJson only sends JSON bodies; the error answer is the usual one and parsed the same way.
  const parsed = apiErrorSchema.safeParse(await response.json().catch(() => null));
  if (parsed.success) {
    throw new ApiError(parsed.data.code, parsed.data.message, response.status, parsed.data.detail);
  }
  throw new ApiError('internal', `The upload failed (HTTP ${response.status}).`, response.status);
}

/** Where the browser downloads a file, or a folder as a tar archive. */
export function downloadUrl(name: string, path: string): string {
  return withPath(filesPath(name, '/download'), path);
}

/** `GET search`: text matches across the workspace's files. */
export function searchQueryOptions(
  name: string,
  query: string,
  regex: boolean,
  caseSensitive: boolean,
) {
  const params = new URLSearchParams({
    query,
    path: '.',
    regex: String(regex),
    caseSensitive: String(caseSensitive),
    maxResults: '500',
  });
  return queryOptions({
    queryKey: fileQueryKeys.search(name, query, regex, caseSensitive),
    queryFn: () =>
      requestJson(
        'GET',
        `/api/workspaces/${encodeURIComponent(name)}/search?${params.toString()}`,
        searchResultSchema,
      ),
    enabled: query.length > 0,
  });
}

// A workspace restart drops the socket; try again at this pace while the page is open.
const WATCH_RETRY_MS = 3_000;

/** Listen to file changes under the workspace root; returns a function that stops listening. */
export function watchFiles(name: string, onChanges: (changes: FileChange[]) => void): () => void {
  let socket: WebSocket | null = null;
  let retryTimer: number | undefined;
  let stopped = false;
  const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  const url = `${scheme}//${window.location.host}${withPath(filesPath(name, '/watch'), '.')}`;

  const open = () => {
    if (stopped) return;
    socket = new WebSocket(url);
    socket.addEventListener('message', (message) => {
      try {
        const parsed = fileWatchMessageSchema.safeParse(JSON.parse(String(message.data)));
        if (parsed.success) onChanges(parsed.data.changes);
      } catch {
        // Not JSON: ignore, the next frame may be fine.
      }
    });
    socket.addEventListener('close', () => {
      socket = null;
      if (!stopped) retryTimer = window.setTimeout(open, WATCH_RETRY_MS);
    });
  };

  open();
  return () => {
    stopped = true;
    window.clearTimeout(retryTimer);
    socket?.close(1000, 'client_closed');
  };
}
