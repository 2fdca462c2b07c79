/** Every error code the API or a WebSocket can return; clients match on these, never on message text. */
export const ERROR_CODES = [
  'bad_request',
  'unauthenticated',
  'invalid_credentials',
  'forbidden',
  'origin_rejected',
  'not_found',
  'conflict',
  'payload_too_large',
  'rate_limited',
  'setup_completed',
  'invalid_setup_token',
  'invalid_invite',
  'user_disabled',
  'path_outside_workspace',
  'not_a_directory',
  'is_a_directory',
  'already_exists',
  'protocol_mismatch',
  'workspace_not_running',
  'template_not_found',
  'image_missing',
  'engine_unavailable',
  'isolation_unavailable',
  'timeout',
  'unavailable',
  'internal',
] as const;

/** A stable, machine-readable error code. */
export type ErrorCode = (typeof ERROR_CODES)[number];
