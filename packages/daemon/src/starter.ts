import { constants } from 'node:fs';
import { access, cp, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** Where an image keeps its starter project (images/README.md). */
export const STARTER_DIR = '/usr/share/studio/starter';

/** In the home: says the starter was copied, so deleting its files does not bring them back. */
export const STARTER_MARKER = '.local/state/studio/starter-copied';

/**
 * Copies the image's starter project into the home the first time a workspace starts: nothing
 * the home already has is overwritten, and once copied it is never copied again. Resolves with
 * whether it copied; an image without a starter copies nothing.
 */
export async function copyStarter(root: string, from = STARTER_DIR): Promise<boolean> {
  const marker = path.join(root, STARTER_MARKER);
  const exists = (file: string) =>
    access(file, constants.F_OK).then(
      () => true,
      () => false,
    );
  if ((await exists(marker)) || !(await exists(from))) return false;
  await cp(from, root, { recursive: true, force: false, errorOnExist: false });
  await mkdir(path.dirname(marker), { recursive: true });
  await writeFile(marker, `${from}\n`);
  return true;
}
