// Sends one message and follows the run it starts, in a process of its own, printing each event
// as a JSON line with its arrival time (ms since the epoch, sub-millisecond): the bench's own
// process also serves the scripted model, whose work would otherwise delay the arrivals it times.
//
//   node --import tsx bench/follower.ts <origin> <messages path> <JSON body>
//   (the session cookie in STUDIO_BENCH_COOKIE)
import { followRun } from '../test/run-events.ts';

const [origin, path, body] = process.argv.slice(2);
if (!origin || !path || !body) throw new Error('usage: follower.ts <origin> <path> <body>');
const cookie = process.env.STUDIO_BENCH_COOKIE ?? '';
const sent = await fetch(`${origin}${path}`, {
  method: 'POST',
  headers: { cookie, origin, 'content-type': 'application/json' },
  body,
});
if (sent.status !== 202) throw new Error(`POST ${path}: ${sent.status} ${await sent.text()}`);
const { runId } = (await sent.json()) as { runId: string };
await followRun({
  origin,
  cookie,
  runId,
  onEvent: (event, at) => {
    process.stdout.write(`${JSON.stringify({ at: performance.timeOrigin + at, event })}\n`);
  },
});
