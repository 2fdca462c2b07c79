import { assertPublicUrl } from '@studio/agent';
import { AppError } from '../errors.ts';

/** Who asks for a network request the server (or a workspace import) will make. */
export interface NetworkCaller {
  admin: boolean;
}

/**
 * A member's own endpoints (model providers, MCP servers) may not point into the server's network
 * (loopback, private, link-local, metadata): the server would make requests there for them.
 * Admins may, and so may the organisation's providers: an Ollama beside the server is normal.
 * Checked when saved and again before each use, since a name can resolve elsewhere later.
 */
export async function refuseServerNetwork(
  caller: NetworkCaller,
  url: string,
  field: string,
  allowAddresses: string[] = [],
): Promise<void> {
  if (caller.admin) return;
  try {
    await assertPublicUrl(url, { allowAddresses });
  } catch (error) {
    throw new AppError(
      'bad_request',
      `${field}: ${(error as Error).message}. Only admins can add endpoints on this server's own network; ask one to add it for the organisation, or to allow the address (STUDIO_NETWORK_ALLOW).`,
    );
  }
}

/**
 * A git repository URL as the http(s) URL whose host the address rule judges: `ssh://` and
 * scp-like `git@host:path` are checked by their host like any other.
 */
export function gitUrlHost(repoUrl: string): string {
  const scp = /^[A-Za-z0-9._-]+@([A-Za-z0-9.-]+):/.exec(repoUrl);
  if (scp) return `http://${scp[1]}:22/`;
  const url = new URL(repoUrl);
  const port = url.port || { 'https:': '443', 'ssh:': '22' }[url.protocol] || '80';
  return `http://${url.hostname}:${port}/`;
}

/**
 * A repository to clone must not be on the server's own network (loopback, private, metadata),
 * unless an admin asks or the address is one the admin allowed (`STUDIO_NETWORK_ALLOW`).
 */
export async function refuseGitImport(
  caller: NetworkCaller,
  repoUrl: string,
  allowAddresses: string[],
): Promise<void> {
  await refuseServerNetwork(caller, gitUrlHost(repoUrl), 'repoUrl', allowAddresses);
}
