import { createAnthropic } from '@ai-sdk/anthropic';
import { createGoogleGenerativeAI } from '@ai-sdk/google';
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import type { AiProviderKind } from '@studio/protocol';
import { defaultSettingsMiddleware, wrapLanguageModel, type LanguageModel } from 'ai';

/** A provider as the server holds it: the key in clear, only ever in memory. */
export interface ProviderConfig {
  kind: AiProviderKind;
  baseUrl: string | null;
  apiKey: string | null;
  /** Custom fetch (tests, proxies); defaults to the global one. */
  fetch?: typeof fetch;
}

const ANTHROPIC_MAX_OUTPUT = 16_000;

/** Sends the AI SDK's warnings (an unsupported setting, a deprecated model) to `log` instead of the console. */
export function routeProviderWarnings(
  log: (warning: { provider: string; model: string; warnings: unknown[] }) => void,
): void {
  globalThis.AI_SDK_LOG_WARNINGS = ({ warnings, provider, model }) =>
    log({ provider, model, warnings });
}

const DEFAULT_BASE_URL: Record<AiProviderKind, string | null> = {
  openai: 'https://api.openai.com/v1',
  anthropic: 'https://api.anthropic.com/v1',
  google: 'https://generativelanguage.googleapis.com/v1beta',
  'openai-compatible': null,
};

/** The provider's API root without a trailing slash. */
export function baseUrlOf(config: ProviderConfig): string {
  const url = config.baseUrl ?? DEFAULT_BASE_URL[config.kind];
  if (!url) throw new Error(`a ${config.kind} provider needs a base URL`);
  return url.replace(/\/+$/, '');
}

/** The chat model `modelId` of a provider. OpenAI is spoken through Chat Completions, as every compatible server does. */
export function languageModel(config: ProviderConfig, modelId: string): LanguageModel {
  const common = {
    baseURL: baseUrlOf(config),
    ...(config.fetch ? { fetch: config.fetch } : {}),
  };
  switch (config.kind) {
    case 'openai':
      return createOpenAI({ ...common, apiKey: config.apiKey ?? '' }).chat(modelId);
    case 'anthropic':
      // Anthropic requires max_tokens; for a model it does not know the SDK would pick 4096,
      // which cuts long edits short. Current models allow far more.
      return wrapLanguageModel({
        model: createAnthropic({ ...common, apiKey: config.apiKey ?? '' })(modelId),
        middleware: defaultSettingsMiddleware({
          settings: { maxOutputTokens: ANTHROPIC_MAX_OUTPUT },
        }),
      });
    case 'google':
      return createGoogleGenerativeAI({ ...common, apiKey: config.apiKey ?? '' })(modelId);
    case 'openai-compatible':
      return createOpenAICompatible({
        ...common,
        name: 'openai-compatible',
        // Without it compatible servers' streams carry no token counts, and the caps need them.
        includeUsage: true,
        ...(config.apiKey ? { apiKey: config.apiKey } : {}),
      })(modelId);
  }
}

/** The model ids the endpoint lists (`GET /models`), newest vendors' shapes included. */
export async function listModels(config: ProviderConfig, signal?: AbortSignal): Promise<string[]> {
  const base = baseUrlOf(config);
  const headers: Record<string, string> = {};
  if (config.kind === 'anthropic') {
    headers['anthropic-version'] = '2023-06-01';
    if (config.apiKey) headers['x-api-key'] = config.apiKey;
  } else if (config.kind === 'google') {
    if (config.apiKey) headers['x-goog-api-key'] = config.apiKey;
  } else if (config.apiKey) {
    headers.authorization = `Bearer ${config.apiKey}`;
  }
  const response = await (config.fetch ?? fetch)(`${base}/models`, {
    headers,
    signal: signal ?? AbortSignal.timeout(10_000),
  });
  if (!response.ok)
    throw new Error(`the endpoint answered ${response.status} ${response.statusText}`);
  const body = (await response.json()) as {
    data?: Array<{ id?: unknown }>;
    models?: Array<{ name?: unknown }>;
  };
  const ids = [
    ...(body.data ?? []).map((model) => model.id),
    // Google lists `models/gemini-…`; the SDK wants the bare id.
    ...(body.models ?? []).map((model) => String(model.name ?? '').replace(/^models\//, '')),
  ];
  return ids.filter((id): id is string => typeof id === 'string' && id.length > 0).sort();
}
