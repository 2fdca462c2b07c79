import { spawn } from 'node:child_process';
import path from 'node:path';
import type { LspLanguage } from '@studio/protocol';
import { DaemonFailure } from './errors.ts';
import type { DaemonState } from './methods.ts';
import { joinServer, onPath } from './stdio-server.ts';
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
  joinServer(child, stream, state, `The ${server.name} language server (${path.basename(found)})`);
}
