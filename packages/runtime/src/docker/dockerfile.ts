// A Dockerfile an admin writes in the browser, read before the engine sees it: what it builds
// from, and what it may not do here.
import { RuntimeError } from '../runtime.ts';

/** One instruction: its keyword (upper case) and the rest, continuations joined. */
function instructions(text: string): { keyword: string; args: string }[] {
  const joined: string[] = [];
  let current = '';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith('#') || (line === '' && current === '')) continue;
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    joined.push(current + line);
    current = '';
  }
  if (current.trim()) joined.push(current);
  return joined
    .map((line) => /^(\S+)\s*(.*)$/.exec(line.trim()))
    .filter((match) => match !== null)
    .map((match) => ({ keyword: match[1]!.toUpperCase(), args: match[2]! }));
}

/** The words of an instruction's arguments, its `--flags` left out. */
function words(args: string): string[] {
  return args.split(/\s+/).filter((word) => word !== '' && !word.startsWith('--'));
}

/** Why a Dockerfile may not ADD from a URL here, after the URL. */
export const REMOTE_ADD_REASON =
  "would be fetched by the container engine itself, outside the workspaces' firewall; download it in a RUN (curl, git) instead.";

/** The first URL a Dockerfile's `ADD` fetches, if any (`COPY` takes no URL). */
export function remoteAdd(dockerfile: string): string | null {
  for (const { keyword, args } of instructions(dockerfile)) {
    if (keyword !== 'ADD') continue;
    const url = words(args).find((word) => /^(?:[a-z][a-z0-9+.-]*:\/\/|git@)/i.test(word));
    if (url) return url;
  }
  return null;
}

/**
 * The images `dockerfile` builds from (its stages' own names left out), refusing what it may not
 * do: be empty, or `ADD` from a URL — the engine itself would fetch it, outside the workspaces'
 * firewall (a `RUN curl` runs inside it).
 */
export function dockerfileStages(dockerfile: string): { images: string[] } {
  const stages = new Set<string>();
  const images: string[] = [];
  const parsed = instructions(dockerfile);
  const first = parsed.find((instruction) => instruction.keyword !== 'ARG');
  if (first?.keyword !== 'FROM') {
    throw new RuntimeError(
      'bad_request',
      'dockerfile: it must start with FROM, naming an image this server has (such as studio/base:1).',
    );
  }
  for (const { keyword, args } of parsed) {
    if (keyword === 'FROM') {
      const [image, as, name] = words(args);
      if (!image) throw new RuntimeError('bad_request', 'dockerfile: a FROM names no image.');
      if (image.includes('$')) {
        throw new RuntimeError(
          'bad_request',
          `dockerfile: FROM ${image} — name the image itself, not a build argument.`,
        );
      }
      if (!stages.has(image.toLowerCase()) && image !== 'scratch' && !images.includes(image))
        images.push(image);
      if (as?.toUpperCase() === 'AS' && name) stages.add(name.toLowerCase());
    }
  }
  const url = remoteAdd(dockerfile);
  if (url) {
    throw new RuntimeError('bad_request', `dockerfile: ADD ${url} ${REMOTE_ADD_REASON}`);
  }
  return { images };
}
