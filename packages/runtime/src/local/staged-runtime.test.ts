import { spawnSync } from 'node:child_process';
import { chmod, cp, mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalRuntime } from './local-runtime.ts';
import { readableByOthers } from './staged-runtime.ts';

const builtRuntime = fileURLToPath(new URL('../../../daemon/dist/runtime', import.meta.url));
const root = process.getuid?.() === 0;
const bwrap = spawnSync('sh', ['-c', 'command -v bwrap']).status === 0;

// The server run as root from a checkout in a private home (mode 0700): workspaces run as an
// unprivileged user, who cannot pass through that home to the daemon runtime inside it.
describe.skipIf(!root || !bwrap)(
  'a daemon runtime under a folder the workspace user cannot enter',
  () => {
    const cleanup: string[] = [];
    afterAll(async () => {
      for (const dir of cleanup) await rm(dir, { recursive: true, force: true });
    });

    it('starts workspaces from a copy the workspace user can read', async () => {
      const home = await mkdtemp(join(tmpdir(), 'studio-private-home-'));
      cleanup.push(home);
      await chmod(home, 0o700);
      const checkoutRuntime = join(home, 'checkout', 'packages', 'daemon', 'dist', 'runtime');
      await mkdir(checkoutRuntime, { recursive: true });
      await cp(builtRuntime, checkoutRuntime, { recursive: true });
      expect(await readableByOthers(checkoutRuntime)).toBe(false);

      const data = await mkdtemp(join(tmpdir(), 'studio-local-'));
      cleanup.push(data);
      await chmod(data, 0o711);
      const dir = join(data, 'workspaces');
      const runtime = await LocalRuntime.open({
        dir,
        runtimeDir: checkoutRuntime,
        sandbox: 'bwrap',
      });
      try {
        const spec = {
          id: 'private-runtime',
          name: 'private-runtime',
          ownerId: 'u1',
          image: 'unused',
          env: {},
          startCommands: [],
          resources: { cpus: 1, memoryMiB: 512, pids: 256 },
        };
        await runtime.create(spec);
        expect((await runtime.start(spec.id)).state).toBe('running');
        const daemon = await runtime.connect(spec.id);
        try {
          const { stdout } = await daemon.exec('sh', ['-c', 'id -u; ls /opt/studio']);
          expect(stdout).toMatch(/^1000\n/);
          expect(stdout).toContain('daemon.mjs');
        } finally {
          daemon.close();
        }
        // One copy per build, beside the workspaces, that every user may read.
        const copies = await readdir(`${dir}-runtime`);
        expect(copies).toHaveLength(1);
        expect(await readableByOthers(join(`${dir}-runtime`, copies[0]!))).toBe(true);
        expect((await stat(`${dir}-runtime`)).mode & 0o777).toBe(0o755);
        await runtime.remove(spec.id);
      } finally {
        await runtime.close();
      }
      // A second server on the same build reuses the copy.
      const again = await LocalRuntime.open({ dir, runtimeDir: checkoutRuntime, sandbox: 'bwrap' });
      await again.close();
      expect(await readdir(`${dir}-runtime`)).toHaveLength(1);
    });
  },
);
