import { lstat, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { packFolder } from '../home-archive.ts';
import { checkDevcontainerConfig, findDevcontainerConfig, unpackPlain } from './devcontainer.ts';

let folder: string | null = null;

afterEach(async () => {
  if (folder) await rm(folder, { recursive: true, force: true });
  folder = null;
});

async function repo(files: Record<string, string>): Promise<string> {
  folder = await mkdtemp(join(tmpdir(), 'studio-dc-unit-'));
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(folder, path, '..'), { recursive: true });
    await writeFile(join(folder, path), content);
  }
  return folder;
}

describe('the copy of a repository a build reads', () => {
  it('has its files and folders, never its links', async () => {
    const dir = await repo({ Dockerfile: 'FROM studio/base:1\n', 'src/app.py': 'print(1)\n' });
    await symlink('/etc/passwd', join(dir, '.devcontainer.json'));
    await symlink('/', join(dir, 'src', 'root'));
    const copy = await mkdtemp(join(tmpdir(), 'studio-dc-copy-'));
    try {
      await unpackPlain(copy, packFolder(dir));
      expect(await readFile(join(copy, 'src/app.py'), 'utf8')).toBe('print(1)\n');
      await expect(lstat(join(copy, '.devcontainer.json'))).rejects.toThrow(/ENOENT/);
      await expect(lstat(join(copy, 'src/root'))).rejects.toThrow(/ENOENT/);
    } finally {
      await rm(copy, { recursive: true, force: true });
    }
  });

  it('is refused past its size limit, saying so', async () => {
    const dir = await repo({ big: 'x'.repeat(4096) });
    const copy = await mkdtemp(join(tmpdir(), 'studio-dc-copy-'));
    try {
      await expect(unpackPlain(copy, packFolder(dir), 1024)).rejects.toThrow(/larger than/);
    } finally {
      await rm(copy, { recursive: true, force: true });
    }
  });
});

describe('a dev container config', () => {
  it('is found where the spec looks, the folder first', async () => {
    expect(await findDevcontainerConfig(await repo({ 'README.md': '' }))).toBeNull();
    await rm(folder!, { recursive: true });
    const both = await repo({
      '.devcontainer.json': '{}',
      '.devcontainer/devcontainer.json': '{}',
    });
    expect(await findDevcontainerConfig(both)).toBe('.devcontainer/devcontainer.json');
  });

  it('may have comments and trailing commas, and a Dockerfile beside it', async () => {
    const dir = await repo({
      '.devcontainer/devcontainer.json':
        '{ // hi\n "build": { "dockerfile": "Dockerfile", "context": ".." },\n}',
    });
    await expect(checkDevcontainerConfig(dir, '.devcontainer/devcontainer.json')).resolves.toBe(
      undefined,
    );
  });

  it.each([
    [
      '{ "build": { "dockerfile": "../../etc/passwd" } }',
      /build\.dockerfile must be a path inside the repository/,
    ],
    ['{ "build": { "context": "../.." } }', /build\.context must be a path inside the repository/],
    ['{ "dockerFile": "/etc/passwd" }', /build\.dockerfile must be a path inside the repository/],
    [
      '{ "features": { "../../outside": {} } }',
      /the feature \.\.\/\.\.\/outside must be a path inside/,
    ],
    ['{ "dockerComposeFile": "compose.yml" }', /uses Docker Compose/],
    [
      '{ "build": { "dockerfile": "Dockerfile" } }',
      /\.devcontainer\/Dockerfile: ADD https:\/\/example\.com\/tool\.tgz would be fetched by the container engine itself/,
    ],
    ['{ "image": ', /is not valid JSON with comments/],
    ['[1]', /must hold an object/],
  ])('refuses %s, saying why', async (text, message) => {
    const dir = await repo({
      '.devcontainer/devcontainer.json': text,
      '.devcontainer/Dockerfile': 'FROM debian:12\nADD https://example.com/tool.tgz /opt/\n',
    });
    await expect(checkDevcontainerConfig(dir, '.devcontainer/devcontainer.json')).rejects.toThrow(
      message,
    );
  });
});
