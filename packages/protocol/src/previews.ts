import { z } from 'zod';

/** Who a preview link opens the port to: anyone signed in here, or anyone with the link. */
export const PREVIEW_LINK_AUDIENCES = ['team', 'public'] as const;

/**
 * `GET /api/workspaces/:ref/previews/:port/url`: where a preview opens, and whether the app then
 * runs on a host of its own (`subdomain`) or sandboxed under the path (`path`).
 */
export const previewPlaceSchema = z.object({
  url: z.string(),
  mode: z.enum(['path', 'subdomain']),
});

/** `GET /api/workspaces/:ref/previews/links`: a link, without its token. */
export const previewLinkSchema = z.object({
  id: z.string(),
  port: z.number(),
  audience: z.enum(PREVIEW_LINK_AUDIENCES),
  /** Who made it (their email), when they still exist. */
  createdBy: z.string().nullable(),
  createdAt: z.string(),
  expiresAt: z.string(),
  revokedAt: z.string().nullable(),
});
export type PreviewLink = z.infer<typeof previewLinkSchema>;

/** `POST /api/workspaces/:ref/previews/links`. */
export const createPreviewLinkBodySchema = z.strictObject({
  port: z.number().int().min(1).max(65_535),
  audience: z.enum(PREVIEW_LINK_AUDIENCES),
  /** How long it works: an hour to 30 days. */
  expiresInHours: z
    .number()
    .int()
    .min(1)
    .max(30 * 24)
    .default(24),
});
export type CreatePreviewLinkBody = z.input<typeof createPreviewLinkBodySchema>;

/** The link just made: its URL (with the token) is shown this once. */
export const createdPreviewLinkSchema = z.object({
  link: previewLinkSchema,
  url: z.string(),
});
export type CreatedPreviewLink = z.infer<typeof createdPreviewLinkSchema>;
