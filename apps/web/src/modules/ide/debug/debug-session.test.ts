import { describe, expect, it } from 'vitest';
import { adapterOf, configForFile, substitute, workspacePathOf } from './debug-session.ts';

describe('debug configurations', () => {
  it('debugs a Python file, a JavaScript file or a Go package without a launch.json, nothing else', () => {
    expect(configForFile('tools/run.py')).toMatchObject({
      type: 'python',
      request: 'launch',
      program: '${file}',
    });
    expect(configForFile('cmd/hello/main.go')).toMatchObject({
      type: 'go',
      mode: 'debug',
      program: '${fileDirname}',
    });
    for (const file of ['server.js', 'src/app.mjs', 'lib.cjs'])
      expect(configForFile(file)).toMatchObject({ type: 'node', program: '${file}' });
    expect(configForFile('notes.txt')).toBeNull();
    expect(configForFile('types.ts')).toBeNull();
  });

  it("fills VS Code's variables for the active file, in nested values too", () => {
    expect(
      substitute(
        {
          program: '${file}',
          cwd: '${workspaceFolder}',
          args: ['${relativeFile}', '${fileBasenameNoExtension}', '${fileDirname}', '${unknown}'],
          env: { OUT: '${fileExtname}' },
          port: 5678,
        },
        'src/app/main.py',
      ),
    ).toEqual({
      program: '/workspace/src/app/main.py',
      cwd: '/workspace',
      args: ['src/app/main.py', 'main', '/workspace/src/app', '${unknown}'],
      env: { OUT: '.py' },
      port: 5678,
    });
  });

  it('knows which adapter serves a type, and which paths are in the home', () => {
    expect(adapterOf({ type: 'debugpy' })).toBe('python');
    expect(adapterOf({ type: 'go' })).toBe('go');
    expect(adapterOf({ type: 'pwa-node' })).toBe('node');
    expect(adapterOf({ type: 'chrome' })).toBeNull();
    expect(workspacePathOf('/workspace/a/b.py')).toBe('a/b.py');
    expect(workspacePathOf('/usr/lib/python3.11/os.py')).toBeNull();
    expect(workspacePathOf('/workspaces/x.py')).toBeNull();
  });
});
