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
    const parent = join(imagesDir, from!.split(/[/:]/)[1]!);
    const starter = ownStarter ? folder : parent;
    // Its own replaces the parent's: COPY would merge the two folders into one project.
    if (ownStarter && (await readdir(parent).catch(() => [] as string[])).includes('starter'))
      expect(dockerfile).toMatch(
        /RUN rm -rf \/usr\/share\/studio\/starter\n(.*\n)*COPY --chown=1000:1000 starter\//,
      );
    for (const port of template.ports) {
      expect(
        await readFile(join(starter, 'starter', 'README.md'), 'utf8'),
        `${name}'s README names port ${port.port}`,
      ).toContain(String(port.port));
    }
  });
});

/**
 * Framework templates whose official toolchain comes from where its makers publish it, which our
 * machines do not reach: each recipe fetches it from there, pinned to the version its template
 * names, and stops with a message naming the place when it cannot; each template says it was not
 * run here. (Their npm parts are checked by test/e2e/starters.test.ts.)
 */
const FETCHED: Record<
  string,
  { from: string; pins: { tool: string; version: string; as: string }[] }
> = {
  tuono: {
    from: 'https://sh.rustup.rs',
    pins: [
      { tool: 'Rust', version: '1.91.0', as: '--default-toolchain 1.91.0' },
      { tool: 'Tuono', version: '0.19.7', as: 'cargo install --locked tuono@0.19.7' },
    ],
  },
  encore: {
    from: 'https://d2f391esomvqpi.cloudfront.net',
    pins: [{ tool: 'Encore CLI', version: '1.58.6', as: '/encore-1.58.6-linux_amd64.tar.gz' }],
  },
  flutter: {
    from: 'https://storage.googleapis.com',
    pins: [{ tool: 'Flutter', version: '3.38.5', as: '/flutter_linux_3.38.5-stable.tar.xz' }],
  },
};

describe('framework templates built from their makers’ downloads', () => {
  it.each(Object.entries(FETCHED))(
    '%s: fetches its toolchain at the versions it names, or says what it could not reach',
    async (name, { from, pins }) => {
      const template = await loadTemplate(imagesDir, name);
      const dockerfile = await readFile(join(imagesDir, name, 'Dockerfile'), 'utf8');
      expect(dockerfile).toContain(`curl -fsS`);
      expect(dockerfile).toContain(from);
      // The build's failure names the host, in the template's name.
      expect(dockerfile).toMatch(
        new RegExp(
          `echo '${name}: [^']*${from.replace(/[.]/g, '\\.')}[^']*cannot reach' >&2; exit 1`,
        ),
      );
      for (const pin of pins) {
        expect(dockerfile).toContain(pin.as);
        expect(template.tools).toContainEqual(
          expect.objectContaining({ name: pin.tool, version: pin.version }),
        );
      }
      expect(template.description).toContain('Not run here');
    },
  );
});
