import { z } from 'zod';
import { ERROR_CODES, type ErrorCode } from './error-codes.ts';

export { ERROR_CODES, type ErrorCode };

/** The one error shape on the wire: `{ code, message, detail? }`. */
export const apiErrorSchema = z.object({
  code: z.enum(ERROR_CODES),
  message: z.string(),
  detail: z.unknown().optional(),
});

/** An error body as the server sends it. */
export type ApiErrorBody = z.infer<typeof apiErrorSchema>;

/** HTTP status for each error code; the server's one error handler uses this table. */
export const ERROR_STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  unauthenticated: 401,
  invalid_credentials: 401,
  forbidden: 403,
  origin_rejected: 403,
  misdirected_request: 421,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  rate_limited: 429,
  setup_completed: 409,
  invalid_setup_token: 403,
  invalid_invite: 404,
  user_disabled: 403,
  path_outside_workspace: 400,
  not_a_directory: 400,
  is_a_directory: 400,
  already_exists: 409,
  protocol_mismatch: 502,
  workspace_not_running: 409,
  template_not_found: 404,
  image_missing: 424,
  engine_unavailable: 503,
  isolation_unavailable: 503,
  not_a_repository: 404,
  nothing_to_commit: 409,
  git_failed: 409,
  git_auth_required: 403,
  ai_not_configured: 409,
  ai_provider_failed: 502,
  budget_exceeded: 429,
  quota_exceeded: 403,
  run_busy: 409,
  timeout: 504,
  unavailable: 503,
  internal: 500,
};

/** WebSocket close codes (4000–4999 is the application range) and the reason sent with each. */
export const WS_CLOSE = {
  sessionEnded: { code: 4401, reason: 'session_ended' },
  forbidden: { code: 4403, reason: 'forbidden' },
  badMessage: { code: 4400, reason: 'bad_message' },
  /** The terminal or stream behind the socket ended (the shell exited, the workspace stopped). */
  streamEnded: { code: 4000, reason: 'stream_ended' },
  /** No such workspace or terminal for this user (the socket's 404). */
  notFound: { code: 4404, reason: 'not_found' },
  /** A shared document the editor had is gone (its workspace restarted): open it again. */
  conflict: { code: 4409, reason: 'conflict' },
  /** The workspace cannot be reached (stopped, starting, or its daemon is gone). */
  unavailable: { code: 4503, reason: 'unavailable' },
  serverShutdown: { code: 1001, reason: 'server_shutdown' },
  internal: { code: 1011, reason: 'internal' },
} as const;
