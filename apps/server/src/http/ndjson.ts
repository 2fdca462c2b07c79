import type { FastifyReply } from 'fastify';

/** Answers 200 as NDJSON, one JSON line per call of the function returned, as it comes. */
export function startNdjson<Line>(reply: FastifyReply): (line: Line) => void {
  reply.raw.writeHead(200, {
    ...(reply.getHeaders() as Record<string, string>),
    'content-type': 'application/x-ndjson',
    'cache-control': 'no-store',
  });
  return (line) => reply.raw.write(`${JSON.stringify(line)}\n`);
}
