import { hostname } from 'node:os';
import { createdTokenSchema, meSchema, type Me } from '@studio/protocol';
import { ApiClient } from './api-client.ts';
import type { CliContext } from './context.ts';
import { writeCredentials } from './credentials.ts';
import { CliError } from './errors.ts';
import { normalizeServerUrl, resolveConfigDir } from './options.ts';

/** Flags of `studio login`. */
export interface LoginFlags {
  email?: string;
  passwordStdin?: boolean;
  token?: string;
}

/** `studio login URL`: obtain an API token (from a password, or a given token) and save it. */
export async function login(rawUrl: string, flags: LoginFlags, ctx: CliContext): Promise<void> {
  const url = normalizeServerUrl(rawUrl);
  const api = new ApiClient(url);
  let token: string;
  if (flags.token !== undefined) {
    if (flags.email !== undefined || flags.passwordStdin) {
      throw new CliError(
        'bad_option',
        'use either --token or --email with --password-stdin, not both',
      );
    }
    token = flags.token;
  } else if (flags.email !== undefined && (flags.passwordStdin || ctx.stdin.isTTY)) {
    // Typed at a terminal, the password is asked for; from a pipe, it is read.
    const password = ctx.stdin.isTTY ? await promptPassword(ctx) : await readPassword(ctx.stdin);
    token = await createToken(api, flags.email, password);
  } else {
    throw new CliError(
      'bad_option',
      'give --token TOKEN, or --email EMAIL (and --password-stdin with the password on standard input when it is not a terminal)',
    );
  }
  // Verify before saving, so a typo never replaces working credentials.
  const me: Me = await api.call('/api/me', meSchema, { auth: { bearer: token } });
  const path = await writeCredentials(resolveConfigDir(ctx.env), { url, token });
  ctx.stdout.write(
    `Logged in to ${url} as ${me.user.email} (${me.user.role}); credentials saved to ${path}\n`,
  );
}

/** Signs in with a password and mints a long-lived API token; the short-lived session is signed out again. */
async function createToken(api: ApiClient, email: string, password: string): Promise<string> {
  const session = await api.send('/api/session', { method: 'POST', body: { email, password } });
  // Keep every cookie the server set (session plus any companion such as a CSRF cookie), without attributes.
  const cookie = (session.headers['set-cookie'] ?? [])
    .map((header) => header.split(';', 1)[0]?.trim() ?? '')
    .filter((pair) => pair.includes('='))
    .join('; ');
  if (!cookie) {
    throw new CliError('bad_response', `${api.baseUrl} signed in without setting a session cookie`);
  }
  const auth = { cookie, origin: new URL(api.baseUrl).origin };
  const created = await api.call('/api/tokens', createdTokenSchema, {
    method: 'POST',
    auth,
    body: { name: `studio CLI on ${hostname()}` },
  });
  // Best effort: the token is what we keep, so the session is not needed any more.
  await api.send('/api/session', { method: 'DELETE', auth }).catch(() => undefined);
  return created.secret;
}

/** Asks for the password at the terminal without echoing it; Ctrl+C gives up. */
async function promptPassword({ stdin, stderr }: CliContext): Promise<string> {
  stderr.write('Password: ');
  stdin.setRawMode?.(true);
  stdin.resume();
  try {
    const password = await new Promise<string>((resolve, reject) => {
      let typed = '';
      const onData = (chunk: Buffer | string) => {
        for (const char of chunk.toString()) {
          if (char === '\r' || char === '\n') return finish(() => resolve(typed));
          if (char === '\u0003')
            return finish(() => reject(new CliError('not_confirmed', 'cancelled')));
          if (char === '\u007f' || char === '\b') typed = typed.slice(0, -1);
          else if (char >= ' ') typed += char;
        }
      };
      const finish = (settle: () => void) => {
        stdin.off('data', onData);
        settle();
      };
      stdin.on('data', onData);
    });
    if (!password) throw new CliError('bad_option', 'the password is empty');
    return password;
  } finally {
    stdin.setRawMode?.(false);
    stdin.pause();
    stderr.write('\n');
  }
}

/** Reads the whole of stdin and drops one trailing newline, as `docker login --password-stdin` does. */
async function readPassword(stdin: CliContext['stdin']): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  }
  const password = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
  if (!password) throw new CliError('bad_option', '--password-stdin got an empty password');
  return password;
}
