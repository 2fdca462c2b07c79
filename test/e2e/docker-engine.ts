// The Docker Engine the Docker e2e files run against (DOCKER_HOST, as `.ci/docker.sh` sets it).
import Docker from 'dockerode';

const host = process.env.DOCKER_HOST;

/** A client of the engine at DOCKER_HOST, or the default socket. */
export const docker = host?.startsWith('unix://')
  ? new Docker({ socketPath: host.slice('unix://'.length) })
  : new Docker();

/**
 * Whether the engine answers. Without one the file's tests skip with a warning naming `what`,
 * unless `STUDIO_REQUIRE_DOCKER=1` (CI), where a missing engine is a failure.
 */
export async function dockerForTests(what: string): Promise<boolean> {
  const answers = await docker.ping().then(
    () => true,
    () => false,
  );
  if (!answers && process.env.STUDIO_REQUIRE_DOCKER === '1')
    throw new Error('STUDIO_REQUIRE_DOCKER=1 but no Docker Engine answers at DOCKER_HOST');
  if (!answers) console.warn(`no Docker Engine answers: skipping ${what}`);
  return answers;
}

/**
 * Waits until a workspace's container and home volume are gone. The API forgets a workspace as its
 * removal starts; a server stopped before the engine finished leaves both behind for good (and
 * chromium aborts page loads while an interface disappears).
 */
export async function untilRemoved(workspaceId: string, timeoutMs = 60_000): Promise<void> {
  const gone = (inspect: () => Promise<unknown>) =>
    inspect().then(
      () => false,
      () => true,
    );
  const name = `studio-ws-${workspaceId}`;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const container = await gone(() => docker.getContainer(name).inspect());
    if (container && (await gone(() => docker.getVolume(name).inspect()))) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`workspace ${workspaceId} was not removed within ${timeoutMs / 1000} s`);
}
