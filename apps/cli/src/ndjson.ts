import { StringDecoder } from 'node:string_decoder';
import type { Schema } from './api-client.ts';
import { CliError } from './errors.ts';

/** Parses a newline-delimited JSON stream line by line as it arrives, validating each line. */
export async function* readNdjson<T>(
  stream: AsyncIterable<Buffer | string>,
  schema: Schema<T>,
  what: string,
): AsyncGenerator<T> {
  // A multi-byte character can straddle two chunks; the decoder keeps the partial bytes.
  const decoder = new StringDecoder('utf8');
  let pending = '';
  const iterator = stream[Symbol.asyncIterator]();
  try {
    for (;;) {
      let next: IteratorResult<Buffer | string>;
      try {
        next = await iterator.next();
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new CliError('unreachable', `the connection broke during ${what}: ${reason}`);
      }
      if (next.done) break;
      const chunk = next.value;
      pending += typeof chunk === 'string' ? chunk : decoder.write(chunk);
      let newline: number;
      while ((newline = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, newline).trim();
        pending = pending.slice(newline + 1);
        if (line) yield parseLine(line, schema, what);
      }
    }
  } finally {
    // Stopping early (an error event, a thrown line) must close the response, not leave it open.
    await iterator.return?.();
  }
  const last = (pending + decoder.end()).trim();
  if (last) yield parseLine(last, schema, what);
}

function parseLine<T>(line: string, schema: Schema<T>, what: string): T {
  try {
    return schema.parse(JSON.parse(line));
  } catch {
    throw new CliError('bad_response', `unexpected line in ${what}: ${line.slice(0, 200)}`);
  }
}
