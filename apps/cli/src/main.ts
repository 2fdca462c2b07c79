// Composition root of the `studio` command: wires commander to the commands and is the only
// module that touches `process` (the environment, standard streams and the exit code).
import { Command } from 'commander';
import packageJson from '../package.json' with { type: 'json' };
import type { BackupFlags } from './backup.ts';
import type { OutputFlags } from './connection.ts';
import type { CliContext } from './context.ts';
import { formatError } from './errors.ts';
import type { LoginFlags } from './login.ts';
import type { StartFlags } from './options.ts';
import type { CreateFlags, LogsFlags, RemoveFlags, WaitFlags } from './workspaces.ts';

// Each command's code is imported when that command runs, never up front: `studio whoami` then
// loads neither the protocol's zod schemas nor WebSocket, terminal or backup code it has no use
// for (in the bundle, each import below is a chunk of its own; see build.mjs).

const ctx: CliContext = {
  env: process.env,
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  processEvents: process,
};

const URL_HELP = 'server URL (env STUDIO_URL; default: the one you logged in to)';

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
    const { start } = await import('./start.ts');
    process.exitCode = await start(flags, ctx);
  });

program
  .command('login')
  .description('save an API token for a server')
  .argument('<url>', 'server URL, e.g. http://localhost:3000')
  .option('--email <email>', 'sign in with this email; the password is asked for at a terminal')
  .option('--password-stdin', 'read the password from standard input (a pipe)')
  .option('--token <token>', 'save this existing API token instead of signing in')
  .action(async (url: string, flags: LoginFlags) => {
    const { login } = await import('./login.ts');
    await login(url, flags, ctx);
  });

program
  .command('whoami')
  .description('show who you are logged in as')
  .option('--url <url>', URL_HELP)
  .option('--json', 'print JSON')
  .action(async (flags: OutputFlags) => {
    const { whoami } = await import('./whoami.ts');
    await whoami(flags, ctx);
  });

program
  .command('tokens')
  .description('manage your API tokens')
  .command('list')
  .description('list your API tokens')
  .option('--url <url>', URL_HELP)
  .option('--json', 'print JSON')
  .action(async (flags: OutputFlags) => {
    const { listTokens } = await import('./tokens.ts');
    await listTokens(flags, ctx);
  });

program
  .command('backup')
  .description(
    'back up a running server (as an admin): database, secret and every workspace home, with checksums',
  )
  .requiredOption('--to <dir>', 'a new or empty folder to write the backup into')
  .option('--url <url>', URL_HELP)
  .option('--json', 'print the manifest as JSON')
  .action(async (flags: BackupFlags) => {
    const { backup } = await import('./backup.ts');
    await backup(flags, ctx);
  });

program
  .command('restore')
  .description(
    'restore a backup into a fresh data dir on this machine (the server stopped); everyone signs in again',
  )
  .requiredOption('--from <dir>', 'the folder `studio backup` wrote')
  .option('--data-dir <dir>', 'where the server keeps its data (env STUDIO_DATA_DIR)')
  .action(async (flags: { from: string; dataDir?: string }) => {
    const { restore } = await import('./backup.ts');
    process.exitCode = await restore(flags, ctx);
  });

const ws = program.command('ws').description('create, use and delete workspaces');

ws.command('create')
  .description('create a workspace and wait until it runs')
  .argument('<name>', 'workspace name: lowercase letters, digits and hyphens')
  .option('--template <template>', 'template to create it from', 'base')
  .option('--repo <url>', 'git repository to clone into it')
  .option('--no-wait', 'return as soon as the server accepted it')
  .option('--url <url>', URL_HELP)
  .option('--json', 'print the workspace as JSON')
  .action(async (name: string, flags: CreateFlags) => {
    const { createWorkspace } = await import('./workspaces.ts');
    await createWorkspace(name, flags, ctx);
  });

ws.command('ls')
  .alias('list')
  .description('list your workspaces')
  .option('--url <url>', URL_HELP)
  .option('--json', 'print JSON')
  .action(async (flags: OutputFlags) => {
    const { listWorkspaces } = await import('./workspaces.ts');
    await listWorkspaces(flags, ctx);
  });

ws.command('exec')
  .description('run a command in a workspace; exits with its exit code')
  .argument('<name>', 'workspace name')
  .argument('<command...>', 'the command and its arguments, after --')
  .usage('[options] <name> -- <command> [args...]')
  .option('--url <url>', URL_HELP)
  .action(async (name: string, command: string[], flags: OutputFlags) => {
    const { execInWorkspace } = await import('./exec.ts');
    process.exitCode = await execInWorkspace(name, command, flags, ctx);
  });

ws.command('shell')
  .description("open an interactive shell in a workspace; exits with the shell's exit code")
  .argument('<name>', 'workspace name')
  .option('--url <url>', URL_HELP)
  .action(async (name: string, flags: OutputFlags) => {
    const { shellInWorkspace } = await import('./shell.ts');
    process.exitCode = await shellInWorkspace(name, flags, ctx);
  });

const lifecycle = [
  ['start', 'start a stopped workspace and wait until it runs'],
  ['stop', 'stop a workspace (its files stay) and wait until it stopped'],
  ['restart', 'stop and start a workspace and wait until it runs again'],
] as const;
for (const [action, description] of lifecycle) {
  ws.command(action)
    .description(description)
    .argument('<name>', 'workspace name')
    .option('--no-wait', 'return as soon as the server accepted it')
    .option('--url <url>', URL_HELP)
    .option('--json', 'print the workspace as JSON')
    .action(async (name: string, flags: WaitFlags) => {
      const { changeWorkspace } = await import('./workspaces.ts');
      await changeWorkspace(action, name, flags, ctx);
    });
}

ws.command('rm')
  .alias('delete')
  .description('delete a workspace and all its files')
  .argument('<name>', 'workspace name')
  .option('-y, --yes', 'do not ask for confirmation (required when stdin is not a terminal)')
  .option('--no-wait', 'return as soon as the server accepted it')
  .option('--url <url>', URL_HELP)
  .action(async (name: string, flags: RemoveFlags) => {
    const { removeWorkspace } = await import('./workspaces.ts');
    process.exitCode = await removeWorkspace(name, flags, ctx);
  });

ws.command('logs')
  .description("show a workspace's log")
  .argument('<name>', 'workspace name')
  .option('--tail <lines>', 'how many lines from the end (server default: 200)')
  .option('--url <url>', URL_HELP)
  .option('--json', 'print JSON')
  .action(async (name: string, flags: LogsFlags) => {
    const { workspaceLogs } = await import('./workspaces.ts');
    await workspaceLogs(name, flags, ctx);
  });

program
  .command('images')
  .description('manage workspace images (admins)')
  .command('build')
  .description("build a template's image, or every template's that has a recipe")
  .argument('[template]', 'template name (default: all)')
  .option('--url <url>', URL_HELP)
  .option('--json', 'print what was built as JSON')
  .action(async (template: string | undefined, flags: OutputFlags) => {
    const { buildImages } = await import('./images.ts');
    await buildImages(template, flags, ctx);
  });

try {
  await program.parseAsync();
} catch (error) {
  ctx.stderr.write(`${formatError(error)}\n`);
  process.exitCode = 1;
}
