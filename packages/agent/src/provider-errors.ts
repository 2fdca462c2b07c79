import type { RunEndCode } from '@studio/protocol';
import { APICallError, RetryError } from 'ai';

/** A provider failure worded for the person, with the code the run ends with. */
export interface DescribedFailure {
  code: RunEndCode;
  message: string;
}

/** Turns whatever the AI SDK threw into a message a person can act on. Never includes the key. */
export function describeProviderError(error: unknown): DescribedFailure {
  const last = RetryError.isInstance(error) ? error.lastError : error;
  const tries = RetryError.isInstance(error) ? ` (after ${error.errors.length} attempts)` : '';
  if (APICallError.isInstance(last)) {
    const status = last.statusCode;
    // A stream that breaks after a 200 arrives as an APICallError with the 200 it started with.
    if (status === 200 || /Failed to process successful response/.test(last.message))
      return {
        code: 'stream_cut',
        message: `The model's answer was cut off mid-stream${causeOf(last)}. Send the message again to retry.`,
      };
    const detail = vendorMessage(last.responseBody) ?? last.message;
    if (status === 401 || status === 403)
      return {
        code: 'provider_auth',
        message: `The model provider refused the API key (${status}): ${detail}. Check the key in Settings → AI.`,
      };
    if (status === 429) {
      const wait = last.responseHeaders?.['retry-after'];
      return {
        code: 'provider_rate_limited',
        message: `The model provider is rate-limiting requests (429)${tries}${wait ? `; it asked to wait ${wait} s` : ''}. Try again shortly.`,
      };
    }
    if (status !== undefined)
      return {
        code: 'provider_error',
        message: `The model provider failed (${status})${tries}: ${detail}`,
      };
    return {
      code: 'provider_unreachable',
      message: `Could not reach the model provider at ${safeUrl(last.url)}${tries}: ${last.message}`,
    };
  }
  const message = last instanceof Error ? last.message : String(last);
  if (/terminated|socket|ECONNRESET|premature|aborted/i.test(message))
    return {
      code: 'stream_cut',
      message: `The model's answer was cut off mid-stream (${message}). Send the message again to retry.`,
    };
  if (/ECONNREFUSED|ENOTFOUND|fetch failed|EAI_AGAIN/i.test(message))
    return {
      code: 'provider_unreachable',
      message: `Could not reach the model provider: ${message}`,
    };
  return { code: 'provider_error', message: `The model provider failed: ${message}` };
}

function causeOf(error: Error): string {
  const cause = error.cause instanceof Error ? error.cause.message : null;
  return cause ? ` (${cause})` : '';
}

/** The vendor's own error text from an OpenAI- or Anthropic-shaped error body. */
function vendorMessage(body: string | undefined): string | null {
  if (!body) return null;
  try {
    const parsed = JSON.parse(body) as {
      error?: { message?: unknown } | string;
      message?: unknown;
    };
    const inner = typeof parsed.error === 'object' ? parsed.error?.message : parsed.error;
    const text = inner ?? parsed.message;
    return typeof text === 'string' ? text.slice(0, 500) : null;
  } catch {
    return body.slice(0, 200);
  }
}

/** The endpoint without query strings (some vendors take keys there). */
function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return 'the configured URL';
  }
}
