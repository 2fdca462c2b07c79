import { withLoginHint, type OutputFlags } from './connection.ts';
import type { CliContext } from './context.ts';
import { CliError } from './errors.ts';
import { readNdjson } from './ndjson.ts';
import { formatJson } from './output.ts';
import { openSession } from './workspaces.ts';

/** One line of the `POST /api/admin/images/build` stream. */
export type ImageBuildEvent =
  | { type: 'progress'; template: string; step: string; detail?: string }
  | { type: 'done'; template: string; image: string }
  | { type: 'error'; code: string; message: string };

// The protocol package names no schema for this stream yet; this checks the fields the CLI uses.
const imageBuildEventSchema = {
  parse(value: unknown): ImageBuildEvent {
    const event = value as Record<string, unknown> | null;
    const text = (key: string) => {
      const field = event?.[key];
      if (typeof field !== 'string') throw new TypeError(`${key}: expected a string`);
      return field;
    };
    switch (event?.type) {
      case 'progress': {
        const detail = event.detail;
        return {
          type: 'progress',
          template: text('template'),
          step: text('step'),
          ...(typeof detail === 'string' ? { detail } : {}),
        };
      }
      case 'done':
        return { type: 'done', template: text('template'), image: text('image') };
      case 'error':
        return { type: 'error', code: text('code'), message: text('message') };
      default:
        throw new TypeError('type: expected progress, done or error');
    }
  },
};

/** `studio images build [TEMPLATE]`: build one template's image, or every buildable one (admins only). */
export async function buildImages(
  template: string | undefined,
  flags: OutputFlags,
  ctx: CliContext,
): Promise<void> {
  const { connection, api, auth } = await openSession(flags, ctx);
  const response = await withLoginHint(connection, () =>
    api.stream('/api/admin/images/build', {
      method: 'POST',
      auth,
      body: template === undefined ? {} : { template },
    }),
  );
  const built: { template: string; image: string }[] = [];
  for await (const event of readNdjson(response, imageBuildEventSchema, 'the build output')) {
    if (event.type === 'progress') {
      const detail = event.detail ? ` (${event.detail})` : '';
      ctx.stderr.write(`${event.template}: ${event.step}${detail}\n`);
    } else if (event.type === 'done') {
      built.push({ template: event.template, image: event.image });
      if (!flags.json) ctx.stdout.write(`${event.template}: built ${event.image}\n`);
    } else {
      throw new CliError('image_build_failed', `${event.message} (${event.code})`);
    }
  }
  if (flags.json) ctx.stdout.write(formatJson(built));
  else if (built.length === 0) ctx.stderr.write('No template has an image to build.\n');
}
