import { describe, expect, it } from 'vitest';
import { repoFolderOf } from './workspace-service.ts';

describe('the folder a repository is cloned into', () => {
  it.each([
    ['https://github.com/acme/web-app.git', 'web-app'],
    ['https://github.com/acme/web-app', 'web-app'],
    ['https://github.com/acme/web-app/', 'web-app'],
    ['git@github.com:acme/tools.git', 'tools'],
    ['ssh://git@example.com:2222/team/api.v2.git', 'api.v2'],
    ['http://10.0.0.1:8080/x.git', 'x'],
    // Nothing git would not also write, and never a name a shell or a path could misread.
    ['https://example.com/a/..', 'repository'],
    ['https://example.com/a/it%27s.git', 'repository'],
  ])('%s → %s', (url, folder) => {
    expect(repoFolderOf(url)).toBe(folder);
  });
});
