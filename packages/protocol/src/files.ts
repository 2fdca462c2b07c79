import { z } from 'zod';
import {
  daemonMethods,
  fileChangeSchema,
  fileEntrySchema,
  listeningPortSchema,
  searchMatchSchema,
} from './daemon.ts';

/**
 * A workspace-relative path. The daemon resolves it inside the workspace and refuses anything that
 * leads out (`path_outside_workspace`); here only what can never be a path is refused.
 */
export const workspacePathSchema = z
  .string()
  .max(4096)
  .refine((value) => !value.includes('\0'), 'must not contain NUL bytes');

// Query strings carry text; `z.coerce.boolean()` would read "false" as true.
const queryFlag = z
  .enum(['true', 'false'])
  .transform((value) => value === 'true')
  .default(false);

/** `GET /api/workspaces/:name/files?path=`. */
export const listFilesQuerySchema = z.object({ path: workspacePathSchema.default('.') });

/** `GET /api/workspaces/:name/files`: directories first, then by name. */
export const fileListSchema = z.object({
  entries: z.array(
    z.object({
      ...fileEntrySchema.shape,
      /** Ignored by git (`.gitignore`, or the `.git` folder itself): the tree dims it. */
      ignored: z.boolean().optional(),
    }),
  ),
});
/** A directory listing. */
export type FileList = z.infer<typeof fileListSchema>;
/** One entry of a directory listing. */
export type FileListEntry = FileList['entries'][number];

/** A query naming one path (`files/content`, `files/raw`, `files/download`). */
export const filePathQuerySchema = z.object({ path: workspacePathSchema.min(1) });

/** `GET /api/workspaces/:name/collab?path=&generation=`: a file's shared document (WebSocket). */
export const collabQuerySchema = filePathQuerySchema.extend({
  /** The document this editor had before its link dropped; another one is closed with 4409. */
  generation: z.string().max(64).optional(),
});
/** `POST /api/workspaces/:name/collab/save`: write a shared document to its file. */
export const collabSaveBodySchema = filePathQuerySchema;

/** `GET /api/workspaces/:name/files/all?limit=`: every file path, for Quick Open. */
export const allFilesQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100_000).default(20_000),
});

/** Every file path of a workspace, sorted; `.git` and `node_modules` contents are left out. */
export const allFilesSchema = z.object({
  paths: z.array(z.string()),
  /** More files exist than `limit` (or than the listing could hold). */
  truncated: z.boolean(),
});
/** Every file path of a workspace. */
export type AllFiles = z.infer<typeof allFilesSchema>;

/** `GET /api/workspaces/:name/files/content`: a file up to 5 MiB, as text or base64. */
export const fileContentSchema = daemonMethods['files.read'].result;
/** A file's content and version. */
export type FileContent = z.infer<typeof fileContentSchema>;

/** `PUT /api/workspaces/:name/files/content`. */
export const writeFileBodySchema = z.strictObject({
  path: workspacePathSchema.min(1),
  content: z.string(),
  encoding: z.enum(['utf8', 'base64']).default('utf8'),
  /** A version: write only if the file is still at it. `null`: write only if it does not exist. */
  expectedVersion: z.string().max(128).nullable().optional(),
  createParents: z.boolean().default(false),
});
/** Body of `PUT /api/workspaces/:name/files/content`. */
export type WriteFileBody = z.input<typeof writeFileBodySchema>;

/** What a write produced. */
export const writtenFileSchema = daemonMethods['files.write'].result;
/** What a write produced. */
export type WrittenFile = z.infer<typeof writtenFileSchema>;

/**
 * `PUT /api/workspaces/:name/files/raw`. `version` is `null` for files over 5 MiB: the daemon
 * hashes only files an editor can open, and no editor will ask to compare larger ones.
 */
export const uploadedFileSchema = z.object({ version: z.string().nullable(), size: z.number() });
/** What a raw upload produced. */
export type UploadedFile = z.infer<typeof uploadedFileSchema>;

/** `POST /api/workspaces/:name/files/mkdir`. */
export const mkdirBodySchema = z.strictObject({
  path: workspacePathSchema.min(1),
  recursive: z.boolean().default(false),
});
/** Body of `POST /api/workspaces/:name/files/mkdir`. */
export type MkdirBody = z.input<typeof mkdirBodySchema>;

/** `POST /api/workspaces/:name/files/move`. */
export const moveFileBodySchema = z.strictObject({
  from: workspacePathSchema.min(1),
  to: workspacePathSchema.min(1),
  overwrite: z.boolean().default(false),
});
/** Body of `POST /api/workspaces/:name/files/move`. */
export type MoveFileBody = z.input<typeof moveFileBodySchema>;

/** `DELETE /api/workspaces/:name/files?path=&recursive=`. */
export const deleteFileQuerySchema = z.object({
  path: workspacePathSchema.min(1),
  recursive: queryFlag,
});

/** `GET /api/workspaces/:name/search`. */
export const searchQuerySchema = z.object({
  query: z.string().min(1).max(1000),
  path: workspacePathSchema.default('.'),
  regex: queryFlag,
  caseSensitive: queryFlag,
  maxResults: z.coerce.number().int().min(1).max(10_000).default(500),
});
/** Query of `GET /api/workspaces/:name/search`. */
export type SearchQuery = z.input<typeof searchQuerySchema>;

/** Search hits; `engine` says whether ripgrep or the daemon's bounded walk answered. */
export const searchResultSchema = z.object({
  matches: z.array(searchMatchSchema),
  truncated: z.boolean(),
  engine: z.enum(['ripgrep', 'builtin']),
});
/** Search hits. */
export type SearchResult = z.infer<typeof searchResultSchema>;

/** `GET /api/workspaces/:name/ports`: TCP ports listening inside the workspace. */
export const portListSchema = z.object({ ports: z.array(listeningPortSchema) });
/** Listening ports. */
export type PortList = z.infer<typeof portListSchema>;

/** Text frames on `/api/workspaces/:name/files/watch`: a debounced batch of changes. */
export const fileWatchMessageSchema = z.object({
  type: z.literal('changes'),
  changes: z.array(fileChangeSchema),
});
/** A batch of changes from the watch socket. */
export type FileWatchMessage = z.infer<typeof fileWatchMessageSchema>;
