import { spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import path from 'node:path';
import type { LspLanguage } from '@studio/protocol';
import { DaemonFailure } from './errors.ts';
import type { DaemonState } from './methods.ts';
import type { OutStream } from './streams.ts';

/** The servers tried for a language, in order, and how to get one. */
const SERVERS: Record<
  LspLanguage,
  { name: string; commands: [string, string[]][]; install: string }
> = {
  python: {
    name: 'Python',
    commands: [
      ['pyright-langserver', ['--stdio']],
      ['basedpyright-langserver', ['--stdio']],
      ['pylsp', []],
    ],
    install: 'apt-get install python3-pylsp, or npm install -g pyright',
  },
  typescript: {
    name: 'TypeScript',
    commands: [['typescript-language-server', ['--stdio']]],
    install: 'npm install -g typescript typescript-language-server',
  },
  javascript: {
    name: 'JavaScript',
    commands: [['typescript-language-server', ['--stdio']]],
    install: 'npm install -g typescript typescript-language-server',
  },
  go: { name: 'Go', commands: [['gopls', []]], install: 'apt-get install gopls' },
  cpp: { name: 'C/C++', commands: [['clangd', []]], install: 'apt-get install clangd' },
  c: { name: 'C/C++', commands: [['clangd', []]], install: 'apt-get install clangd' },
  rust: {
    name: 'Rust',
    commands: [['rust-analyzer', []]],
    install: 'rustup component add rust-analyzer',
  },
};

/** The first of `names` that is an executable on `PATH`. */
async function onPath(names: string[], searchPath = ''): Promise<string | null> {
  for (const name of names)
    for (const dir of searchPath.split(path.delimiter).filter(Boolean)) {
      const candidate = path.join(dir, name);
      if (
        await access(candidate, constants.X_OK).then(
          () => true,
          () => false,
        )
      )
        return candidate;
    }
  return null;
}

/**
 * Starts the language server for `language` in the home folder and joins its stdio to `stream`
 * (LSP's own framing passes through untouched). A missing server is `not_found`, saying how to
 * install one; one that dies ends the stream with its last words.
 */
export async function startLanguageServer(
  language: LspLanguage,
  stream: OutStream,
  state: Pick<DaemonState, 'root' | 'env' | 'running'>,
): Promise<void> {
  const server = SERVERS[language];
  const found = await onPath(
    server.commands.map(([name]) => name),
    state.env.PATH,
  );
  if (!found)
    throw new DaemonFailure(
      'not_found',
      `No ${server.name} language server in this workspace. Install one (${server.install}) and reopen the file.`,
    );
  const [, args] = server.commands.find(([name]) => path.basename(found) === name)!;
  const child = spawn(found, args, { cwd: state.root, env: state.env, stdio: 'pipe' });
  state.running.add(child);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  child.stdout.on('data', (chunk: Buffer) => {
    if (!stream.write(chunk)) child.stdout.pause();
  });
  child.on('error', (error) => stream.end({ code: 'unavailable', message: error.message }));
  child.on('exit', (code, signal) => {
    state.running.delete(child);
    if (code === 0 || signal === 'SIGTERM') return stream.end();
    const last = stderr.trim().split('\n').at(-1) ?? '';
    stream.end({
      code: 'unavailable',
      message: `The ${server.name} language server (${path.basename(found)}) stopped (${signal ?? `exit code ${code}`})${last ? `: ${last}` : ''}`,
    });
  });
  stream.handlers = {
    onInput: (payload) => {
      if (!child.stdin.write(Buffer.from(payload))) stream.holdInputUntilDrain(child.stdin);
    },
    onClientEnd: () => child.stdin.end(),
    onCancel: () => child.kill('SIGTERM'),
    onBlocked: (blocked) => (blocked ? child.stdout.pause() : child.stdout.resume()),
  };
}
