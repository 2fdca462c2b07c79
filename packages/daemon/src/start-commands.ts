import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Writable } from 'node:stream';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/** Where start-command output goes (the daemon's own stdout/stderr, which drivers collect as logs). */
export interface StartCommandOutput {
  stdout: Writable;
  stderr: Writable;
}

/**
 * Launch the workspace's start commands in order, each in the background (a dev server must not
 * block the next command), with `/bin/sh -lc` so profile PATHs apply. Output lines are prefixed
 * `[start N]`. Returns the children so shutdown can stop their process groups.
 */
export function runStartCommands(
  commands: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; output: StartCommandOutput },
): ChildProcess[] {
  return commands.map((command, index) => {
    const prefix = `[start ${index + 1}] `;
    const child = spawn('/bin/sh', ['-lc', command], {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const pipe = (input: NodeJS.ReadableStream, output: Writable) =>
      createInterface({ input }).on('line', (line) => output.write(`${prefix}${line}\n`));
    pipe(child.stdout!, options.output.stdout);
    pipe(child.stderr!, options.output.stderr);
    child.on('error', (error) =>
      options.output.stderr.write(`${prefix}cannot start: ${error.message}\n`),
    );
    child.on('exit', (code, signal) =>
      options.output.stdout.write(`${prefix}exited with ${signal ?? `code ${code}`}\n`),
    );
    return child;
  });
}

/**
 * Resolves once network device `name` is up (its IFF_UP flag), or after `boundMs` when it never
 * comes: start commands then run without a network rather than not at all.
 */
export async function waitForDevice(name: string, boundMs = 5_000): Promise<void> {
  const deadline = Date.now() + boundMs;
  while (Date.now() < deadline) {
    const flags = await readFile(`/sys/class/net/${name}/flags`, 'utf8').catch(() => '0x0');
    if (Number.parseInt(flags, 16) & 1) return;
    await sleep(20);
  }
  console.error(`[daemon] network device ${name} did not come up; start commands run without it`);
}
