import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import {
  allFilesQuerySchema,
  allFilesSchema,
  deleteFileQuerySchema,
  fileContentSchema,
  fileListSchema,
  filePathQuerySchema,
  listFilesQuerySchema,
  mkdirBodySchema,
  moveFileBodySchema,
  portListSchema,
  searchQuerySchema,
  searchResultSchema,
  uploadedFileSchema,
  writeFileBodySchema,
  writtenFileSchema,
  WS_CLOSE,
  type AllFiles,
  type FileWatchMessage,
  type UploadedFile,
} from '@studio/protocol';
import {
  DaemonError,
  uploadArchive,
  type DaemonConnection,
  type DaemonStream,
} from '@studio/runtime';
import type { FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { App, Services } from '../app.ts';
import { AppError } from '../errors.ts';
import { toApiError } from '../http/error-handler.ts';
import { accessOf, workspaceOf } from '../http/access.ts';
import { PRESENCE_BEAT_MS } from '../workspaces/members.ts';

const nameParams = z.object({ name: z.string().max(64) });

const MiB = 1024 * 1024;
/** Drag-and-drop uploads; bigger files belong in git or an archive upload. */
const RAW_UPLOAD_MAX_BYTES = 100 * MiB;
/** A workspace's files brought back from an export: the daemon caps what it unpacks at 1 GiB. */
const ARCHIVE_UPLOAD_MAX_BYTES = 1024 * MiB;
/** Whole-file downloads go through one daemon message, which the daemon caps at 64 MiB. */
const DOWNLOAD_MAX_BYTES = 64 * MiB;
/** Saving a 5 MiB file (the read limit) as base64 JSON needs about 6.7 MiB. */
const WRITE_BODY_MAX_BYTES = 8 * MiB;
// Listing a large tree takes seconds; one that takes longer is stuck on a network mount.
const LIST_ALL_TIMEOUT_MS = 30_000;
const TAR_BLOCK = 512;

/** The Web IDE's files API: browse, edit, upload, download, search and watch a workspace's files. */
export function filesRoutes(app: App, services: Services): void {
  const { workspaces, sockets, members } = services;
  const tags = ['files'];

  /** The caller's running workspace and its daemon; another user's is `not_found`. */
  const reach = async (request: FastifyRequest) => {
    const row = await workspaceOf(request);
    return { row, daemon: await workspaces.connect(row) };
  };

  app.get(
    '/api/workspaces/:name/files',
    {
      config: { access: 'user', workspace: 'viewer' },
      schema: {
        tags,
        params: nameParams,
        querystring: listFilesQuerySchema,
        response: { 200: fileListSchema },
      },
    },
    async (request) => {
      const { daemon } = await reach(request);
      const { entries } = await daemon.call('files.list', { path: request.query.path });
      const ignored = await gitIgnored(
        daemon,
        request.query.path,
        entries.map((entry) => entry.name),
      );
      const marked = entries.map((entry) =>
        ignored.has(entry.name) ? { ...entry, ignored: true } : entry,
      );
      // The daemon sorts by name; a file tree shows folders first.
      return {
        entries: [
          ...marked.filter((entry) => entry.type === 'directory'),
          ...marked.filter((entry) => entry.type !== 'directory'),
        ],
      };
    },
  );

  app.get(
    '/api/workspaces/:name/files/all',
    {
      config: { access: 'user', workspace: 'viewer' },
      schema: {
        tags,
        params: nameParams,
        querystring: allFilesQuerySchema,
        response: { 200: allFilesSchema },
      },
    },
    async (request) => {
      const { daemon } = await reach(request);
      return listAllFiles(daemon, request.query.limit);
    },
  );

  app.get(
    '/api/workspaces/:name/files/content',
    {
      config: { access: 'user', workspace: 'viewer' },
      schema: {
        tags,
        params: nameParams,
        querystring: filePathQuerySchema,
        response: { 200: fileContentSchema },
      },
    },
    async (request) => {
      const { daemon } = await reach(request);
      return daemon.call('files.read', { path: request.query.path });
    },
  );

  app.put(
    '/api/workspaces/:name/files/content',
    {
      // A file's text is the person's own, NUL bytes included; it goes to disk, not to SQL.
      config: { access: 'user', workspace: 'editor', rawText: true },
      bodyLimit: WRITE_BODY_MAX_BYTES,
      schema: {
        tags,
        params: nameParams,
        body: writeFileBodySchema,
        response: { 200: writtenFileSchema },
      },
    },
    async (request) => {
      const { row, daemon } = await reach(request);
      try {
        const written = await daemon.call('files.write', request.body);
        workspaces.touch(row.id);
        return written;
      } catch (error) {
        // "Create only if new" and "only if unchanged" are one failure to an editor: someone else won.
        if (error instanceof DaemonError && error.code === 'already_exists') {
          throw new AppError('conflict', error.message);
        }
        throw error;
      }
    },
  );

  app.post(
    '/api/workspaces/:name/files/mkdir',
    {
      config: { access: 'user', workspace: 'editor' },
      schema: { tags, params: nameParams, body: mkdirBodySchema },
    },
    async (request, reply) => {
      const { row, daemon } = await reach(request);
      await daemon.call('files.mkdir', request.body);
      workspaces.touch(row.id);
      return reply.status(204).send();
    },
  );

  app.post(
    '/api/workspaces/:name/files/move',
    {
      config: { access: 'user', workspace: 'editor' },
      schema: { tags, params: nameParams, body: moveFileBodySchema },
    },
    async (request, reply) => {
      const { row, daemon } = await reach(request);
      await daemon.call('files.move', request.body);
      workspaces.touch(row.id);
      return reply.status(204).send();
    },
  );

  app.delete(
    '/api/workspaces/:name/files',
    {
      config: { access: 'user', workspace: 'editor' },
      schema: { tags, params: nameParams, querystring: deleteFileQuerySchema },
    },
    async (request, reply) => {
      const { row, daemon } = await reach(request);
      await daemon.call('files.delete', request.query);
      workspaces.touch(row.id);
      return reply.status(204).send();
    },
  );

  // Raw bodies only on these routes, so nowhere else accepts 100 MiB or an unparsed stream.
  void app.register(async (scope) => {
    scope.addContentTypeParser(
      ['application/octet-stream', 'application/x-tar'],
      (request, payload, done) => {
        // A stream parser is handed the body unread, so Fastify's bodyLimit is ours to enforce.
        const limit = request.routeOptions.bodyLimit ?? RAW_UPLOAD_MAX_BYTES;
        const length = Number(request.headers['content-length'] ?? NaN);
        if (!Number.isSafeInteger(length)) {
          // A tar header states the size before the bytes, so the size must be known up front.
          done(new AppError('bad_request', 'send the upload with a Content-Length header'));
        } else if (length > limit) {
          done(
            new AppError(
              'payload_too_large',
              `The upload is ${length} bytes; the limit is ${limit / MiB} MiB.`,
              { size: length, maxBytes: limit },
            ),
          );
        } else {
          done(null, payload);
        }
      },
    );
    scope.withTypeProvider<ZodTypeProvider>().put(
      '/api/workspaces/:name/files/raw',
      {
        config: { access: 'user', workspace: 'editor' },
        bodyLimit: RAW_UPLOAD_MAX_BYTES,
        schema: {
          tags,
          description: 'The request body is the file (application/octet-stream).',
          params: nameParams,
          querystring: filePathQuerySchema,
          response: { 200: uploadedFileSchema },
        },
      },
      async (request) => {
        const { row, daemon } = await reach(request);
        const body = request.body as Readable;
        const size = Number(request.headers['content-length']);
        const uploaded = await uploadFile(daemon, request.query.path, body, size);
        workspaces.touch(row.id);
        return uploaded;
      },
    );
    scope.withTypeProvider<ZodTypeProvider>().put(
      '/api/workspaces/:name/files/archive',
      {
        config: { access: 'user', workspace: 'editor' },
        bodyLimit: ARCHIVE_UPLOAD_MAX_BYTES,
        schema: {
          tags,
          description:
            'The request body is a tar archive (application/x-tar), unpacked into the folder `path` by the workspace itself: nothing may land outside it, through `..` or a symlink, and it may unpack to at most 1 GiB. A folder downloaded from `…/files/download` (the whole workspace with `path=.`) comes back this way.',
          params: nameParams,
          querystring: filePathQuerySchema,
          response: { 200: z.object({ files: z.number(), bytes: z.number() }) },
        },
      },
      async (request) => {
        const { row, daemon } = await reach(request);
        const unpacked = await uploadArchive(daemon, request.query.path, request.body as Readable);
        workspaces.touch(row.id);
        return unpacked;
      },
    );
  });

  app.get(
    '/api/workspaces/:name/files/download',
    {
      config: { access: 'user', workspace: 'viewer' },
      schema: {
        tags,
        description: 'A file as itself; a folder as a tar archive.',
        params: nameParams,
        querystring: filePathQuerySchema,
      },
    },
    async (request, reply) => {
      const { row, daemon } = await reach(request);
      const { path } = request.query;
      const stat = await daemon.call('files.stat', { path });
      const base = posix.basename(stat.path);
      if (stat.type !== 'directory') {
        const file = await daemon.call('files.read', { path, maxBytes: DOWNLOAD_MAX_BYTES });
        return reply
          .header('content-type', 'application/octet-stream')
          .header('content-disposition', attachment(base))
          .send(Buffer.from(file.content, file.encoding));
      }
      const stream = await daemon.open('files.download', { path }, { manualAck: true });
      reply.raw.writeHead(200, {
        ...(reply.getHeaders() as Record<string, string>),
        'content-type': 'application/x-tar',
        'content-disposition': attachment(`${base === '.' ? row.name : base}.tar`),
        'cache-control': 'no-store',
      });
      // Acknowledge once the bytes left for the client: a slow download pauses the daemon's tar.
      stream.onData((payload) => reply.raw.write(payload, () => stream.ack(payload.byteLength)));
      reply.raw.once('close', () => {
        if (!reply.raw.writableFinished) stream.cancel();
      });
      await new Promise<void>((resolve) =>
        stream.onEnd((error) => {
          // The status is already sent; a cut-off body is how an HTTP download says it failed.
          if (error) reply.raw.destroy(error);
          else reply.raw.end();
          resolve();
        }),
      );
      return reply;
    },
  );

  app.get(
    '/api/workspaces/:name/search',
    {
      config: { access: 'user', workspace: 'viewer' },
      schema: {
        tags,
        params: nameParams,
        querystring: searchQuerySchema,
        response: { 200: searchResultSchema },
      },
    },
    async (request) => {
      const { daemon } = await reach(request);
      return daemon.call('search.text', request.query);
    },
  );

  app.get(
    '/api/workspaces/:name/ports',
    {
      config: { access: 'user', workspace: 'viewer' },
      schema: { tags, params: nameParams, response: { 200: portListSchema } },
    },
    async (request) => {
      const { daemon } = await reach(request);
      return daemon.call('ports.list', {});
    },
  );

  // Live changes below a path, for the file tree and open editors. Text frames are FileWatchMessages.
  app.get(
    '/api/workspaces/:name/files/watch',
    {
      config: { access: 'user', workspace: 'viewer' },
      websocket: true,
      schema: { tags, 'x-websocket': true, params: nameParams, querystring: listFilesQuerySchema },
    },
    async (socket, request) => {
      const principal = request.principal!;
      const tracked = sockets.track(socket, principal);
      const { path } = request.query as z.infer<typeof listFilesQuerySchema>;
      let stream: DaemonStream;
      let release: () => void;
      let row: Awaited<ReturnType<typeof accessOf>>['row'];
      try {
        const access = await accessOf(request);
        row = access.row;
        const { role } = access;
        tracked.onWorkspace(row.id, role);
        const daemon = await workspaces.connect(row);
        stream = await daemon.open('files.watch', { path });
        release = workspaces.hold(row.id);
      } catch (error) {
        const { status, body } = toApiError(error);
        const close =
          body.code === 'not_found'
            ? WS_CLOSE.notFound
            : status === 400
              ? WS_CLOSE.badMessage
              : WS_CLOSE.unavailable;
        // Close reasons are limited to 123 bytes.
        socket.close(close.code, body.message.slice(0, 120));
        return;
      }
      stream.onEvent((event) => {
        if (event.kind !== 'changes') return;
        const message: FileWatchMessage = { type: 'changes', changes: event.changes };
        socket.send(JSON.stringify(message));
      });
      stream.onEnd((error) => {
        socket.close(WS_CLOSE.streamEnded.code, error?.message.slice(0, 120) ?? 'stream_ended');
      });
      // An open IDE watches its files: that is who is in the workspace now, on any replica.
      const userId = principal.user.id;
      const beat = () =>
        members.seen(row.id, userId).catch((error: unknown) => {
          request.log.warn({ err: error }, 'could not record presence');
        });
      void beat();
      const beating = setInterval(beat, PRESENCE_BEAT_MS);
      const stop = () => {
        clearInterval(beating);
        void members.left(row.id, userId).catch(() => {});
        release();
        stream.cancel();
      };
      // The browser may have left while the daemon was being reached.
      if (socket.readyState !== socket.OPEN) stop();
      else socket.once('close', stop);
    },
  );
}

/**
 * Every file path, via ripgrep (fast, and it skips what .gitignore ignores), or `find` where the
 * workspace has no ripgrep.
 */
async function listAllFiles(daemon: DaemonConnection, limit: number): Promise<AllFiles> {
  const options = { timeoutMs: LIST_ALL_TIMEOUT_MS };
  let result = await daemon.exec(
    'rg',
    ['--files', '--hidden', '-g', '!.git', '-g', '!node_modules'],
    options,
  );
  if (result.code === 127) {
    result = await daemon.exec(
      'find',
      ['.', '-type', 'f', '-not', '-path', '*/.git/*', '-not', '-path', '*/node_modules/*'],
      options,
    );
  }
  const lines = result.stdout.split('\n');
  // Output cut at the daemon's cap ends in half a path.
  if (result.truncated) lines.pop();
  const paths = lines
    .filter((line) => line !== '')
    .map((line) => (line.startsWith('./') ? line.slice(2) : line))
    .sort();
  return {
    paths: paths.slice(0, limit),
    truncated: result.truncated || result.timedOut || paths.length > limit,
  };
}

/**
 * Stream `body` (exactly `size` bytes) into the workspace at `path` without holding it in memory:
 * as a one-entry tar into the daemon's `files.upload`, under a temporary name that is then moved
 * over `path`, so a cut-off upload never leaves half a file and watchers see one change.
 */
async function uploadFile(
  daemon: DaemonConnection,
  path: string,
  body: Readable,
  size: number,
): Promise<UploadedFile> {
  // Leading slashes mean the workspace root, as everywhere in the daemon, which also refuses `..`.
  const normalized = posix.normalize(path.replace(/^\/+/, ''));
  const base = posix.basename(normalized);
  if (base === '' || base === '.') throw new AppError('bad_request', 'path: must name a file');
  const existing = await daemon.call('files.stat', { path }).catch((error: unknown) => {
    if (error instanceof DaemonError && error.code === 'not_found') return null;
    throw error;
  });
  if (existing?.type === 'directory') {
    throw new AppError('is_a_directory', `"${path}" is a folder`);
  }
  const dir = posix.dirname(normalized);
  // The daemon's watcher and the atomic writer both skip this name pattern.
  const tempName = `.studio-${randomBytes(6).toString('hex')}.tmp`;
  const stream = await daemon.open('files.upload', { path: dir, maxBytes: Math.max(size, 1) });
  const finished = new Promise<void>((resolve, reject) =>
    stream.onEnd((error) => (error ? reject(error) : resolve())),
  );
  // Ending early means the daemon refused the upload; `finished` says why.
  finished.catch(() => {});
  try {
    await writeTar(stream, tempName, body, size);
    await finished;
    await daemon.call('files.move', {
      from: posix.join(dir, tempName),
      to: normalized,
      overwrite: true,
    });
  } catch (error) {
    stream.cancel();
    await daemon.call('files.delete', { path: posix.join(dir, tempName) }).catch(() => undefined);
    throw error;
  }
  const stat = await daemon.call('files.stat', { path: normalized });
  return { version: stat.version, size: stat.size };
}

/** A tar archive of one regular file: header, the bytes, padding, and the end-of-archive blocks. */
async function writeTar(
  stream: DaemonStream,
  name: string,
  body: Readable,
  size: number,
): Promise<void> {
  await stream.writeWhenRoom(tarHeader(name, size, new Date()));
  let received = 0;
  for await (const chunk of body) {
    received += (chunk as Buffer).byteLength;
    await stream.writeWhenRoom(chunk as Buffer);
  }
  if (received !== size) {
    throw new AppError('bad_request', `The upload ended after ${received} of ${size} bytes`);
  }
  const padding = (TAR_BLOCK - (size % TAR_BLOCK)) % TAR_BLOCK;
  await stream.writeWhenRoom(Buffer.alloc(padding + 2 * TAR_BLOCK));
  stream.end();
}

/**
 * A ustar header for a regular file. Written by hand because one entry with a short ASCII name
 * needs only this, and the server does not otherwise depend on a tar library.
 */
function tarHeader(name: string, size: number, mtime: Date): Buffer {
  const header = Buffer.alloc(TAR_BLOCK);
  const text = (offset: number, length: number, value: string) =>
    header.write(value, offset, length, 'ascii');
  // Octal numbers, zero-padded, ending in the NUL that Buffer.alloc left there.
  const octal = (offset: number, length: number, value: number) =>
    text(offset, length - 1, value.toString(8).padStart(length - 1, '0'));
  text(0, 100, name);
  octal(100, 8, 0o644);
  octal(108, 8, 0);
  octal(116, 8, 0);
  octal(124, 12, size);
  octal(136, 12, Math.floor(mtime.getTime() / 1000));
  text(148, 8, ' '.repeat(8));
  text(156, 1, '0');
  text(257, 8, 'ustar\u000000');
  let checksum = 0;
  for (const byte of header) checksum += byte;
  text(148, 8, `${checksum.toString(8).padStart(6, '0')}\u0000 `);
  return header;
}

/** A Content-Disposition that keeps any file name intact (RFC 6266) with an ASCII fallback. */
function attachment(name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  const encoded = encodeURIComponent(name).replace(
    /['()*]/g,
    (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

/**
 * Which of a folder's names git ignores (the tree dims them). One `git check-ignore` in the
 * workspace; outside a repository, or without git, nothing is ignored but `.git` itself.
 */
async function gitIgnored(
  daemon: DaemonConnection,
  folder: string,
  names: string[],
): Promise<Set<string>> {
  const ignored = new Set<string>(names.filter((name) => name === '.git'));
  const candidates = names.filter((name) => name !== '.git');
  if (candidates.length === 0) return ignored;
  try {
    const result = await daemon.exec('git', ['check-ignore', '--stdin', '-z'], {
      cwd: folder,
      stdin: candidates.join('\0') + '\0',
      timeoutMs: 5_000,
      env: { GIT_OPTIONAL_LOCKS: '0' },
    });
    // Exit 0: some are ignored; 1: none; 128: not a repository.
    if (result.code === 0) {
      for (const name of result.stdout.split('\0')) if (name) ignored.add(name);
    }
  } catch {
    // No git in the image, or the exec failed: show everything undimmed.
  }
  return ignored;
}
