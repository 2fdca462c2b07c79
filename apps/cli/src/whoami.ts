import { ApiClient } from './api-client.ts';
import { connect, withLoginHint, type OutputFlags } from './connection.ts';
import type { CliContext } from './context.ts';
import { meParser } from './me.ts';
import { formatJson } from './output.ts';

/** `studio whoami`: who the saved (or given) token belongs to. */
export async function whoami(flags: OutputFlags, ctx: CliContext): Promise<void> {
  const connection = await connect(flags, ctx);
  const me = await withLoginHint(connection, () =>
    new ApiClient(connection.url).call('/api/me', meParser, {
      auth: { bearer: connection.token },
    }),
  );
  if (flags.json) {
    ctx.stdout.write(formatJson({ url: connection.url, ...me }));
  } else {
    ctx.stdout.write(`${me.user.email} (${me.user.role}) at ${connection.url}\n`);
  }
}
