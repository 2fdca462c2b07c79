// How a file is indented: the language's custom, overridden by `.editorconfig` files (the home's
// and those of the folders down to the file, nearer ones winning, as editorconfig.org says).

/** Spaces of a given width, or tabs shown that wide. */
export interface Indentation {
  insertSpaces: boolean;
  tabSize: number;
}

/** Languages whose custom is not two spaces. */
const CUSTOM: Record<string, Indentation> = {
  python: { insertSpaces: true, tabSize: 4 },
  rust: { insertSpaces: true, tabSize: 4 },
  java: { insertSpaces: true, tabSize: 4 },
  kotlin: { insertSpaces: true, tabSize: 4 },
  c: { insertSpaces: true, tabSize: 4 },
  cpp: { insertSpaces: true, tabSize: 4 },
  csharp: { insertSpaces: true, tabSize: 4 },
  php: { insertSpaces: true, tabSize: 4 },
  swift: { insertSpaces: true, tabSize: 4 },
  go: { insertSpaces: false, tabSize: 4 },
  makefile: { insertSpaces: false, tabSize: 4 },
};

/** The language's custom indentation. */
export function languageIndentation(languageId: string): Indentation {
  return CUSTOM[languageId] ?? { insertSpaces: true, tabSize: 2 };
}

/** One `[glob]` section of an `.editorconfig` with its lower-cased keys. */
interface Section {
  glob: string;
  values: Record<string, string>;
}

/** The sections of an `.editorconfig` file, in order, and whether it says `root = true`. */
export function parseEditorConfig(text: string): { root: boolean; sections: Section[] } {
  let root = false;
  const sections: Section[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      sections.push({ glob: header[1]!, values: {} });
      continue;
    }
    const pair = /^([^=:]+)[=:](.*)$/.exec(line);
    if (!pair) continue;
    const key = pair[1]!.trim().toLowerCase();
    const value = pair[2]!.trim().toLowerCase();
    const section = sections.at(-1);
    if (section) section.values[key] = value;
    else if (key === 'root') root = value === 'true';
  }
  return { root, sections };
}

/** A regular expression for an editorconfig glob: `*`, `**`, `?`, `{a,b}`, `[abc]`. */
function globPattern(glob: string): RegExp {
  let source = '';
  for (let index = 0; index < glob.length; index++) {
    const char = glob[index]!;
    if (char === '*') {
      if (glob[index + 1] === '*') {
        source += '.*';
        index++;
      } else source += '[^/]*';
    } else if (char === '?') source += '[^/]';
    else if (char === '{') {
      const end = glob.indexOf('}', index);
      if (end === -1) source += '\\{';
      else {
        const options = glob.slice(index + 1, end).split(',');
        source += `(?:${options.map((option) => option.replace(/[.+^$()|\\]/g, '\\$&').replace(/\*/g, '[^/]*')).join('|')})`;
        index = end;
      }
    } else if (char === '[') {
      const end = glob.indexOf(']', index);
      if (end === -1) source += '\\[';
      else {
        source += glob.slice(index, end + 1);
        index = end;
      }
    } else source += char.replace(/[.+^$()|\\]/g, '\\$&');
  }
  // A glob without a slash matches the name in any folder below the file's folder.
  return new RegExp(glob.includes('/') ? `^${source.replace(/^\//, '')}$` : `(?:^|/)${source}$`);
}

/**
 * `base` overridden by the `.editorconfig` files that apply to `path` (relative to the home),
 * given as `[folder, text]` from the home down to the file's folder; a `root = true` file drops
 * those above it.
 */
export function editorConfigIndentation(
  path: string,
  files: [folder: string, text: string][],
  base: Indentation,
): Indentation {
  let values: Record<string, string> = {};
  for (const [folder, text] of files) {
    const { root, sections } = parseEditorConfig(text);
    if (root) values = {};
    const relative = folder ? path.slice(folder.length + 1) : path;
    for (const section of sections)
      if (globPattern(section.glob).test(relative)) values = { ...values, ...section.values };
  }
  const style = values['indent_style'];
  const insertSpaces = style === 'tab' ? false : style === 'space' ? true : base.insertSpaces;
  const number = (key: string) => {
    const value = Number(values[key]);
    return Number.isInteger(value) && value > 0 ? value : undefined;
  };
  // Tabs are shown tab_width wide; spaces indent by indent_size.
  const tabSize =
    (insertSpaces
      ? (number('indent_size') ?? number('tab_width'))
      : (number('tab_width') ?? number('indent_size'))) ?? base.tabSize;
  return { insertSpaces, tabSize };
}

/** The folders whose `.editorconfig` may apply to `path`: the home ('') down to the file's. */
export function editorConfigFolders(path: string): string[] {
  const parts = path.split('/').slice(0, -1);
  return ['', ...parts.map((_, index) => parts.slice(0, index + 1).join('/'))];
}
