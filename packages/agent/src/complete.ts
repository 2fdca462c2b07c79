import { generateText } from 'ai';
import { APICallError } from 'ai';
import { baseUrlOf, languageModel, type ProviderConfig } from './providers.ts';

export interface CompletionRequest {
  path: string;
  language: string;
  prefix: string;
  suffix: string;
}

const MAX_TOKENS = 128;

/**
 * Ghost text for the cursor. A provider with a completions endpoint gets fill-in-the-middle
 * (`prompt` + `suffix`, what code models are trained on); the others get a chat instruction.
 */
export async function completeCode(
  config: ProviderConfig,
  modelId: string,
  request: CompletionRequest,
  signal: AbortSignal,
): Promise<string> {
  if (config.kind === 'openai-compatible') return fillInTheMiddle(config, modelId, request, signal);
  const result = await generateText({
    model: languageModel(config, modelId),
    system:
      'You complete code. Reply with only the text to insert at <CURSOR>: no explanation, no code fences, nothing already before or after the cursor.',
    prompt: `File ${request.path} (${request.language}):\n${request.prefix}<CURSOR>${request.suffix}`,
    maxOutputTokens: MAX_TOKENS,
    temperature: 0.2,
    abortSignal: signal,
    maxRetries: 0,
  });
  return result.text.replace(/^```\w*\n?|\n?```$/g, '');
}

/**
 * The legacy `/completions` endpoint with `prompt` and `suffix`, sent as is: the AI SDK's
 * completion model wraps the prompt in "user:"/"assistant:" labels, which breaks fill-in-the-middle.
 */
async function fillInTheMiddle(
  config: ProviderConfig,
  modelId: string,
  request: CompletionRequest,
  signal: AbortSignal,
): Promise<string> {
  const url = `${baseUrlOf(config)}/completions`;
  const body = {
    model: modelId,
    prompt: request.prefix,
    suffix: request.suffix,
    max_tokens: MAX_TOKENS,
    temperature: 0.2,
    stream: false,
  };
  const response = await (config.fetch ?? fetch)(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(config.apiKey ? { authorization: `Bearer ${config.apiKey}` } : {}),
    },
    body: JSON.stringify(body),
    signal,
  });
  const text = await response.text();
  if (!response.ok)
    throw new APICallError({
      message: `completions answered ${response.status}`,
      url,
      requestBodyValues: body,
      statusCode: response.status,
      responseHeaders: Object.fromEntries(response.headers),
      responseBody: text,
    });
  const parsed = JSON.parse(text) as { choices?: Array<{ text?: unknown }> };
  const choice = parsed.choices?.[0]?.text;
  return typeof choice === 'string' ? choice : '';
}
