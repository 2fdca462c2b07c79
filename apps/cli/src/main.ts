// Composition root of the `studio` command: wires commander to the commands and is the only
// module that touches `process` (the environment, standard streams and the exit code).
import { Command } from 'commander';
import packageJson from '../package.json' with { type: 'json' };
import type { OutputFlags } from './connection.ts';
import type { CliContext } from './context.ts';
import { formatError } from './errors.ts';
import { login, type LoginFlags } from './login.ts';
import type { StartFlags } from './options.ts';
import { start } from './start.ts';
import { listTokens } from './tokens.ts';
import { whoami } from './whoami.ts';

const ctx: CliContext = {
  env: process.env,
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
};

const program = new Command('studio')
  .description('Prometheus Studio: run a server and talk to one')
  .version(packageJson.version)
  .showHelpAfterError('(run with --help for usage)');

program
  .command('start')
  .description('run the Prometheus Studio server in the foreground (builds it first if needed)')
  .option('--port <port>', 'port to listen on (env PORT)')
  .option('--host <host>', 'address to bind (env HOST)')
  .option('--data-dir <dir>', 'where the server keeps its data (env STUDIO_DATA_DIR)')
  .action(async (flags: StartFlags) => {
    process.exitCode = await start(flags, ctx);
  });

program
  .command('login')
  .description('save an API token for a server')
  .argument('<url>', 'server URL, e.g. http://localhost:3000')
  .option('--email <email>', 'sign in with this email; use with --password-stdin')
  .option('--password-stdin', 'read the password from standard input')
  .option('--token <token>', 'save this existing API token instead of signing in')
  .action(async (url: string, flags: LoginFlags) => {
    await login(url, flags, ctx);
  });

program
  .command('whoami')
  .description('show who you are logged in as')
  .option('--url <url>', 'server URL (env STUDIO_URL; default: the one you logged in to)')
  .option('--json', 'print JSON')
  .action(async (flags: OutputFlags) => {
    await whoami(flags, ctx);
  });

program
  .command('tokens')
  .description('manage your API tokens')
  .command('list')
  .description('list your API tokens')
  .option('--url <url>', 'server URL (env STUDIO_URL; default: the one you logged in to)')
  .option('--json', 'print JSON')
  .action(async (flags: OutputFlags) => {
    await listTokens(flags, ctx);
  });

try {
  await program.parseAsync();
} catch (error) {
  ctx.stderr.write(`${formatError(error)}\n`);
  process.exitCode = 1;
}
