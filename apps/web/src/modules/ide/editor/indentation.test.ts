import { describe, expect, it } from 'vitest';
import {
  editorConfigFolders,
  editorConfigIndentation,
  languageIndentation,
} from './indentation.ts';

const TWO = { insertSpaces: true, tabSize: 2 };

describe('indentation', () => {
  it('follows each language’s custom: Python 4 spaces, Go tabs, the rest 2 spaces', () => {
    expect(languageIndentation('python')).toEqual({ insertSpaces: true, tabSize: 4 });
    expect(languageIndentation('go')).toEqual({ insertSpaces: false, tabSize: 4 });
    expect(languageIndentation('typescript')).toEqual(TWO);
  });

  it('applies .editorconfig sections by glob, nearer files winning, root cutting off the rest', () => {
    const home = '[*]\nindent_style = space\nindent_size = 2\n\n[*.{py,pyi}]\nindent_size = 4\n';
    expect(editorConfigIndentation('app/main.py', [['', home]], TWO)).toEqual({
      insertSpaces: true,
      tabSize: 4,
    });
    const app = '[Makefile]\nindent_style = tab\ntab_width = 8\n[src/**.py]\nindent_size = 3\n';
    expect(
      editorConfigIndentation(
        'app/Makefile',
        [
          ['', home],
          ['app', app],
        ],
        TWO,
      ),
    ).toEqual({ insertSpaces: false, tabSize: 8 });
    expect(
      editorConfigIndentation(
        'app/src/deep/x.py',
        [
          ['', home],
          ['app', app],
        ],
        TWO,
      ),
    ).toEqual({ insertSpaces: true, tabSize: 3 });
    const rooted = 'root = true\n[*.py]\nindent_style = tab\n';
    expect(
      editorConfigIndentation(
        'app/x.py',
        [
          ['', home],
          ['app', rooted],
        ],
        { insertSpaces: true, tabSize: 4 },
      ),
    ).toEqual({ insertSpaces: false, tabSize: 4 });
    expect(editorConfigIndentation('x.js', [], TWO)).toEqual(TWO);
  });

  it('lists the folders whose .editorconfig may apply, from the home down', () => {
    expect(editorConfigFolders('a/b/c.py')).toEqual(['', 'a', 'a/b']);
    expect(editorConfigFolders('c.py')).toEqual(['']);
  });
});
