import { completionPause } from './completion-pause.ts';
import {
  aiModelListSchema,
  aiProviderListSchema,
  aiProviderSchema,
  aiSettingsSchema,
  completionResultSchema,
  ERROR_CODES,
  policySchema,
  type CompletionBody,
  type CreateAiProviderBody,
  type ErrorCode,
  type PolicyRule,
  type UpdateAiProviderBody,
  type UpdateAiSettingsBody,
} from '@studio/protocol';
import { queryOptions } from '@tanstack/react-query';
import { ApiError, requestJson, requestVoid } from './http.ts';
import { queryKeys } from './query-keys.ts';

function providerPath(id: string, rest = ''): string {
  return `/api/ai/providers/${encodeURIComponent(id)}${rest}`;
}

/** `GET /api/ai/providers`: the person's own providers and the organisation's (never their keys). */
export function aiProvidersQueryOptions() {
  return queryOptions({
    queryKey: queryKeys.aiProviders(),
    queryFn: async () =>
      (await requestJson('GET', '/api/ai/providers', aiProviderListSchema)).providers,
  });
}

/** `POST /api/ai/providers`; `scope: 'organization'` needs an admin. */
export function createAiProvider(body: CreateAiProviderBody) {
  return resumingCompletions(requestJson('POST', '/api/ai/providers', aiProviderSchema, body));
}

/** `PATCH /api/ai/providers/:id`: `apiKey: null` removes the key, an absent one keeps it. */
export function updateAiProvider(id: string, body: UpdateAiProviderBody) {
  return resumingCompletions(requestJson('PATCH', providerPath(id), aiProviderSchema, body));
}

/** `DELETE /api/ai/providers/:id`. */
export function deleteAiProvider(id: string): Promise<void> {
  return resumingCompletions(requestVoid('DELETE', providerPath(id)));
}

/** `GET /api/ai/providers/:id/models`: the endpoint's list, or the configured one when it fails. */
export function aiModelsQueryOptions(providerId: string) {
  return queryOptions({
    queryKey: queryKeys.aiModels(providerId),
    queryFn: () => requestJson('GET', providerPath(providerId, '/models'), aiModelListSchema),
    // Asking the endpoint is slow and its list rarely changes while the page is open.
    staleTime: 60_000,
    retry: false,
  });
}

/** `GET /api/ai/settings`: which model serves chat, agent and completion, per scope and in effect. */
export function aiSettingsQueryOptions() {
  return queryOptions({
    queryKey: queryKeys.aiSettings(),
    queryFn: () => requestJson('GET', '/api/ai/settings', aiSettingsSchema),
  });
}

/** What settings changes answer, once they also resumed paused completions. */
function resumingCompletions<T>(answer: Promise<T>): Promise<T> {
  return answer.then((value) => {
    completionPause.resume();
    return value;
  });
}

/** `PUT /api/ai/settings`: set or clear (`null`) roles at one scope; absent roles are kept. */
export function saveAiSettings(body: UpdateAiSettingsBody) {
  return resumingCompletions(requestJson('PUT', '/api/ai/settings', aiSettingsSchema, body));
}

/** `GET /api/ai/policy`: the person's agent permission rules and the per-tool defaults. */
export function aiPolicyQueryOptions() {
  return queryOptions({
    queryKey: queryKeys.aiPolicy(),
    queryFn: () => requestJson('GET', '/api/ai/policy', policySchema),
  });
}

/** `PUT /api/ai/policy`: replace the person's rules. */
export function saveAiPolicy(rules: PolicyRule[]) {
  return requestJson('PUT', '/api/ai/policy', policySchema, { rules });
}

function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

/**
 * `POST /api/workspaces/:name/ai/complete`: ghost text for the cursor. Aborting `signal` cancels
 * the request (and the server's call to the model). Fetches directly because `http.ts` takes no
 * AbortSignal; failures still come back as an ApiError matched by code.
 */
export async function requestCompletion(
  workspace: string,
  body: CompletionBody,
  signal: AbortSignal,
): Promise<string> {
  const response = await fetch(`/api/workspaces/${encodeURIComponent(workspace)}/ai/complete`, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal,
  });
  if (!response.ok) {
    let payload: unknown = null;
    try {
      payload = await response.json();
    } catch {
      // Not JSON: a proxy answered; the status alone decides below.
    }
    const { code, message } = (payload ?? {}) as Record<string, unknown>;
    throw new ApiError(
      isErrorCode(code) ? code : response.status >= 500 ? 'unavailable' : 'internal',
      typeof message === 'string' ? message : `HTTP ${response.status}`,
      response.status,
    );
  }
  return completionResultSchema.parse(await response.json()).text;
}
