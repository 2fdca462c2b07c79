import { generateText } from 'ai';
import { completionModel, languageModel, type ProviderConfig } from './providers.ts';

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
  const fim = completionModel(config, modelId);
  if (fim) {
    const result = await generateText({
      model: fim,
      prompt: request.prefix,
      providerOptions: { [config.kind]: { suffix: request.suffix } },
      maxOutputTokens: MAX_TOKENS,
      temperature: 0.2,
      abortSignal: signal,
      maxRetries: 0,
    });
    return result.text;
  }
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
