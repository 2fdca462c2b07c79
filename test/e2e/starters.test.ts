// The npm side of the framework templates whose own toolchain our machines cannot reach (Tuono's
// Rust, Encore's CLI, Convex's local backend): each starter's packages install from the npm
// registry at the versions its lockfile holds, and its TypeScript checks; Convex's page builds.
// What needs the rest is said in each template's description as not run here.
import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const images = fileURLToPath(new URL('../../images', import.meta.url));
const scratch = await mkdtemp(join(tmpdir(), 'studio-starters-'));

/** `npm` in `folder`, its output on failure. */
async function npm(folder: string, ...args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run('npm', args, {
      cwd: folder,
      timeout: 5 * 60_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout + stderr;
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `npm ${args.join(' ')} in ${folder}: ${failed.message}\n${failed.stdout ?? ''}${failed.stderr ?? ''}`,
    );
  }
}

const CASES: { template: string; checks: string[][] }[] = [
  { template: 'tuono', checks: [['run', 'typecheck']] },
  { template: 'encore', checks: [['run', 'typecheck']] },
  { template: 'convex', checks: [['run', 'build']] },
];

describe('framework starters: their npm side', () => {
  afterAll(() => rm(scratch, { recursive: true, force: true }));

  for (const { template, checks } of CASES) {
    it(
      `${template}: installs from its lockfile and checks`,
      async () => {
        const folder = join(scratch, template);
        await cp(join(images, template, 'starter'), folder, { recursive: true });
        await npm(folder, 'ci', '--no-audit', '--no-fund');
        for (const check of checks) {
          const output = await npm(folder, ...check);
          expect(output).not.toMatch(/error TS\d+/);
        }
      },
      10 * 60_000,
    );
  }
});
