// Monaco, bundled with the app: the editor core, its features, a chosen set of languages, and
// every worker built by Vite into our own assets, so nothing is fetched from another origin.
import * as monaco from 'monaco-editor/editor';
import 'monaco-editor/features/register.all';
import 'monaco-editor/languages/features/css/register';
import 'monaco-editor/languages/features/html/register';
import 'monaco-editor/languages/features/json/register';
import {
  javascriptDefaults,
  typescriptDefaults,
} from 'monaco-editor/languages/features/typescript/register';
import 'monaco-editor/languages/definitions/register.all';
import EditorWorker from 'monaco-editor/editor/editor.worker?worker';
import CssWorker from 'monaco-editor/languages/features/css/css.worker?worker';
import HtmlWorker from 'monaco-editor/languages/features/html/html.worker?worker';
import JsonWorker from 'monaco-editor/languages/features/json/json.worker?worker';
import TsWorker from 'monaco-editor/languages/features/typescript/ts.worker?worker';
import { registerInlineCompletions } from './inline-completions.ts';

self.MonacoEnvironment = {
  getWorker(_workerId, label) {
    switch (label) {
      case 'json':
        return new JsonWorker();
      case 'css':
      case 'scss':
      case 'less':
        return new CssWorker();
      case 'html':
      case 'handlebars':
      case 'razor':
        return new HtmlWorker();
      case 'typescript':
      case 'javascript':
        return new TsWorker();
      default:
        return new EditorWorker();
    }
  },
};

// Providers are global in Monaco: registered once, when the editor first loads.
registerInlineCompletions(monaco);

// Monaco's own TypeScript service sees only the open files: going to a definition, finding
// references and renaming are the workspace's language server's (typescript-language-server),
// else two answers disagree and Go to Definition opens a peek of an import line instead of the
// definition. It keeps completions, hovers and problems, which step aside while a server runs.
for (const defaults of [typescriptDefaults, javascriptDefaults])
  defaults.setModeConfiguration({
    ...defaults.modeConfiguration,
    definitions: false,
    references: false,
    rename: false,
  });

export { monaco };
