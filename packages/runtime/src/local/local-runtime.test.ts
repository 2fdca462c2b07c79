import { chmod, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runRuntimeConformance } from '../runtime.case.test.ts';
import { LocalRuntime, localNetworkAvailable } from './local-runtime.ts';

const runtimeDir = fileURLToPath(new URL('../../../daemon/dist/runtime', import.meta.url));

let runtime: LocalRuntime | undefined;
const isolated = Boolean(process.env.CI) || localNetworkAvailable();

runRuntimeConformance({
  name: 'local',
  image: 'unused',
  async open() {
    const parent = await mkdtemp(join(tmpdir(), 'studio-local-'));
    // The unprivileged workspace user must be able to pass through to its folder.
    await chmod(parent, 0o711);
    runtime = await LocalRuntime.open({
      dir: join(parent, 'workspaces'),
      runtimeDir,
      // CI installs bubblewrap and slirp4netns: there the suite must run sandboxed, with a
      // network per workspace, never silently without them.
      sandbox: process.env.CI ? 'bwrap' : 'auto',
      network: isolated ? 'isolated' : 'host',
    });
    return runtime;
  },
  // cgroups are writable when the tests run as root (CI); elsewhere limits are not enforced.
  limits: process.getuid?.() === 0,
  networkIsolation: isolated,
  diskLimits: Boolean(process.env.CI) && process.getuid?.() === 0,
});
