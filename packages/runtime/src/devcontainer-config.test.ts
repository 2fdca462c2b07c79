import { describe, expect, it } from 'vitest';
import { devcontainerFromImage, settingsFrom } from './devcontainer-config.ts';

describe('the settings a workspace takes from the image metadata', () => {
  it('merges features and the config, later entries winning', () => {
    const settings = settingsFrom([
      {
        id: 'ghcr.io/devcontainers/features/node:1',
        containerEnv: { PATH_EXTRA: '/opt/node', SHARED: 'feature' },
        postCreateCommand: 'echo feature',
        customizations: { vscode: { extensions: ['dbaeumer.vscode-eslint'] } },
      },
      {
        containerEnv: { SHARED: 'config', 'not a name': 'x' },
        onCreateCommand: ['npm', 'ci', '--prefix', 'my app'],
        postCreateCommand: { install: 'pip install -e .', check: ['pytest', '-q'] },
        postStartCommand: 'npm run dev',
        forwardPorts: [3000, 'localhost:5173', 'db:5432', 0, 3000],
        portsAttributes: { '3000': { label: 'App' } },
        customizations: { vscode: { extensions: ['dbaeumer.vscode-eslint', 'ms-python.python'] } },
      },
    ]);
    expect(settings).toEqual({
      env: { PATH_EXTRA: '/opt/node', SHARED: 'config' },
      onCreate: ['echo feature', "npm ci --prefix 'my app'", 'pip install -e .', 'pytest -q'],
      onStart: ['npm run dev'],
      forwardPorts: [
        { port: 3000, label: 'App' },
        { port: 5173, label: null },
      ],
      extensions: ['dbaeumer.vscode-eslint', 'ms-python.python'],
    });
  });

  it('is empty for an image without metadata', () => {
    expect(settingsFrom([])).toEqual({
      env: {},
      onCreate: [],
      onStart: [],
      forwardPorts: [],
      extensions: [],
    });
  });
});

describe('a dev container taken as its image, by a driver that builds none', () => {
  const CONFIG = '.devcontainer/devcontainer.json';

  it("is the named image with the config's settings", () => {
    const text = `{
      // comments and trailing commas, as the spec allows
      "image": "registry.example.com:5000/team/python:3.12@sha256:${'a'.repeat(64)}",
      "containerEnv": { "GREETING": "hello" },
      "postCreateCommand": "pip install -e .",
      "postStartCommand": ["python", "-m", "http.server", "8000"],
      "forwardPorts": [8000],
      "portsAttributes": { "8000": { "label": "Docs" } },
      "remoteUser": "vscode",
    }`;
    expect(devcontainerFromImage(text, CONFIG, 'Kubernetes')).toEqual({
      image: `registry.example.com:5000/team/python:3.12@sha256:${'a'.repeat(64)}`,
      config: CONFIG,
      env: { GREETING: 'hello' },
      onCreate: ['pip install -e .'],
      onStart: ['python -m http.server 8000'],
      forwardPorts: [{ port: 8000, label: 'Docs' }],
      extensions: [],
    });
  });

  it.each([
    ['{ "build": { "dockerfile": "Dockerfile" } }', '("build")'],
    ['{ "image": "debian:12", "dockerFile": "Dockerfile" }', '("build")'],
    [
      '{ "image": "debian:12", "features": { "ghcr.io/devcontainers/features/node:1": {} } }',
      '("features")',
    ],
    ['{ "dockerComposeFile": "compose.yml" }', 'Docker Compose'],
    ['{ "name": "no image" }', 'names no "image"'],
    ['{ "image": "Debian 12; rm -rf /" }', 'must be an image reference'],
    ['{ "image": 12 }', 'must be an image reference'],
    ['[1, 2]', 'must hold an object'],
    ['{ "image": ', 'not valid JSON with comments'],
  ])('refuses %s, saying why', (text, message) => {
    expect(() => devcontainerFromImage(text, CONFIG, 'Kubernetes')).toThrow(message);
  });

  it('names the driver and what to do instead of a build', () => {
    expect(() => devcontainerFromImage('{ "build": {} }', CONFIG, 'Kubernetes')).toThrow(
      /Kubernetes workspaces take a dev container's image as it is.*use the Docker driver/,
    );
  });
});
