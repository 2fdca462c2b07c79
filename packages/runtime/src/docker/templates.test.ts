// The templates shipped in images/templates: each one valid, its recipe whole. Building and
// running them is test/e2e/templates.test.ts's job (it needs a Docker Engine and the network).
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadTemplate } from './images.ts';

const imagesDir = fileURLToPath(new URL('../../../../images', import.meta.url));
const names = (await readdir(join(imagesDir, 'templates')))
  .filter((file) => file.endsWith('.json'))
  .map((file) => file.slice(0, -'.json'.length));

describe('shipped templates', () => {
  it('include one per language the product promises', () => {
    expect(names).toEqual(expect.arrayContaining(['python', 'node', 'go', 'rust', 'cpp', 'java']));
  });

  it.each(names)('%s: valid, its Dockerfile there, its starter project there', async (name) => {
    const template = await loadTemplate(imagesDir, name);
    expect(template.name).toBe(name);
    expect(template.image.build).toBeDefined();
    const folder = join(imagesDir, template.image.build!);
    const dockerfile = await readFile(join(folder, 'Dockerfile'), 'utf8');
    // Built on a template the product has (or the rootfs), and labelled as this template.
    const from = /^FROM\s+(\S+)/m.exec(dockerfile)?.[1];
    expect(from).toMatch(/^studio\/(rootfs:bookworm|base:1|desktop:1|node:1)$/);
    // Workspaces run as 1000: the image ends as that user.
    expect(
      dockerfile
        .trimEnd()
        .split('\n')
        .filter((line) => /^USER /.test(line))
        .at(-1),
    ).toBe('USER 1000:1000');
    if (/COPY .*starter\//.test(dockerfile)) {
      expect(await readdir(join(folder, 'starter'))).toContain('README.md');
      expect(dockerfile).toMatch(/starter\/ \/usr\/share\/studio\/starter\//);
    }
    // Its starter is its own, or (none in its folder) the one of the image it is built on.
    const ownStarter = (await readdir(folder)).includes('starter');
    const starter = ownStarter ? folder : join(imagesDir, from!.split(/[/:]/)[1]!);
    for (const port of template.ports) {
      expect(
        await readFile(join(starter, 'starter', 'README.md'), 'utf8'),
        `${name}'s README names port ${port.port}`,
      ).toContain(String(port.port));
    }
  });
});
