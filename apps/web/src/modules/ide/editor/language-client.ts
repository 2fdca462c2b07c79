// Language servers in the editor: one server per workspace and language, run in the workspace
// (`/api/workspaces/:name/lsp/:language`), spoken to with vscode-jsonrpc over vscode-ws-jsonrpc's
// WebSocket reader and writer. Monaco's own providers ask it for hover, definitions and
// completions; its diagnostics become markers. Loaded only when a file of such a language opens.
//
// Why not monaco-languageclient: it runs on @codingame/monaco-vscode-api, which replaces
// monaco-editor with VS Code's workbench services (several MB, another editor build). The few
// LSP features here map directly onto monaco-editor's provider API.
import 'vscode-jsonrpc/browser';
import type * as Monaco from 'monaco-editor/editor';
import type {
  CodeAction,
  Command,
  CompletionItem,
  CompletionList,
  Definition,
  Diagnostic,
  Hover,
  InitializeResult,
  Location,
  LocationLink,
  MarkupContent,
  PublishDiagnosticsParams,
  SignatureHelp,
  SymbolInformation,
  TextEdit,
  WorkspaceSymbol,
  WorkspaceEdit,
} from 'vscode-languageserver-protocol';
import {
  javascriptDefaults,
  typescriptDefaults,
} from 'monaco-editor/languages/features/typescript/register';
import { createWebSocketConnection, type IWebSocket } from 'vscode-ws-jsonrpc';
import type { LspLanguage } from '@studio/protocol';
import { readFile, writeFile } from '../../../api/files.ts';
import { serverLanguageOf, serverStates } from './server-states.ts';

/** How the page names the workspace's home to the server (the server rebases it). */
const ROOT = 'file:///workspace';

type Connection = ReturnType<typeof createWebSocketConnection>;

interface Client {
  connection: Connection;
  capabilities: InitializeResult['capabilities'];
}

const clients = new Map<string, Promise<Client | null>>();

/** The server's name for a Monaco model's file, and back. */
const serverUri = (model: Monaco.editor.ITextModel) => `${ROOT}${model.uri.path}`;

function pathOf(uri: string): string | null {
  return uri.startsWith(`${ROOT}/`) ? decodeURIComponent(uri.slice(ROOT.length + 1)) : null;
}

function connect(monaco: typeof Monaco, workspace: string, language: LspLanguage) {
  const key = `${workspace}:${language}`;
  const existing = clients.get(key);
  if (existing) return existing;
  serverStates.set(key, { state: 'starting' });
  const started = new Promise<Client | null>((resolve) => {
    const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(
      `${scheme}//${window.location.host}/api/workspaces/${encodeURIComponent(workspace)}/lsp/${language}`,
    );
    const fail = (message: string) => {
      builtIn(language, true);
      clients.delete(key);
      serverStates.set(key, { state: 'failed', message });
      resolve(null);
    };
    socket.addEventListener('close', (event) => {
      // A server that stopped: its markers go, and the next edit starts it again.
      for (const model of monaco.editor.getModels())
        if (model.uri.authority === workspace && languageOf(model.getLanguageId()) === language)
          monaco.editor.setModelMarkers(model, 'lsp', []);
      fail(event.reason || `the ${language} language server stopped`);
    });
    socket.addEventListener('open', () => {
      const wrapped: IWebSocket = {
        send: (content) => socket.send(content),
        onMessage: (callback) =>
          socket.addEventListener('message', (event) => callback(event.data)),
        onError: (callback) => socket.addEventListener('error', (event) => callback(event)),
        onClose: (callback) =>
          socket.addEventListener('close', (event) => callback(event.code, event.reason)),
        dispose: () => socket.close(),
      };
      const connection = createWebSocketConnection(wrapped, {
        error: (message) => console.error(`[lsp ${language}] ${message}`),
        warn: () => {},
        info: () => {},
        log: () => {},
      });
      connection.onNotification(
        'textDocument/publishDiagnostics',
        (params: PublishDiagnosticsParams) => {
          const path = pathOf(params.uri);
          const model =
            path && monaco.editor.getModel(monaco.Uri.parse(`file://${workspace}/${path}`));
          if (model) monaco.editor.setModelMarkers(model, 'lsp', params.diagnostics.map(markerOf));
        },
      );
      connection.listen();
      connection
        .sendRequest<InitializeResult>('initialize', {
          processId: null,
          rootUri: ROOT,
          workspaceFolders: [{ uri: ROOT, name: workspace }],
          capabilities: {
            textDocument: {
              synchronization: { dynamicRegistration: false },
              hover: { contentFormat: ['markdown', 'plaintext'] },
              completion: { completionItem: { snippetSupport: false } },
              definition: { linkSupport: true },
              codeAction: {
                codeActionLiteralSupport: {
                  codeActionKind: { valueSet: ['quickfix', 'refactor', 'source'] },
                },
              },
              references: {},
              signatureHelp: {
                signatureInformation: { documentationFormat: ['markdown', 'plaintext'] },
              },
              formatting: {},
              rename: {},
              publishDiagnostics: {},
            },
            workspace: { symbol: {} },
          },
        })
        .then((result) => {
          connection.sendNotification('initialized', {});
          builtIn(language, false);
          serverStates.set(key, {
            state: 'ready',
            name: result.serverInfo?.name ?? `${language} language server`,
          });
          resolve({ connection, capabilities: result.capabilities });
        })
        .catch((error: Error) => fail(error.message));
    });
  });
  clients.set(key, started);
  return started;
}

/**
 * Monaco's own TypeScript service knows only the open files: while the workspace's server runs,
 * its problems step aside (else "cannot find module" for every import, and each error twice),
 * and come back when the server stops. (Its hovers and completions are registered once, when
 * the language first loads, and stay beside the server's.)
 */
function builtIn(language: LspLanguage, on: boolean): void {
  if (language !== 'typescript' && language !== 'javascript') return;
  const defaults = language === 'typescript' ? typescriptDefaults : javascriptDefaults;
  defaults.setDiagnosticsOptions({
    ...defaults.getDiagnosticsOptions(),
    noSyntaxValidation: !on,
    noSemanticValidation: !on,
    noSuggestionDiagnostics: !on,
  });
}

const SEVERITIES = [0, 8, 4, 2, 1] as const; // LSP 1..4 → Monaco Error, Warning, Info, Hint

function markerOf(diagnostic: Diagnostic): Monaco.editor.IMarkerData {
  const { start, end } = diagnostic.range;
  return {
    severity: SEVERITIES[diagnostic.severity ?? 1] ?? 8,
    message: typeof diagnostic.message === 'string' ? diagnostic.message : diagnostic.message.value,
    source: diagnostic.source,
    ...(diagnostic.code !== undefined ? { code: String(diagnostic.code) } : {}),
    startLineNumber: start.line + 1,
    startColumn: start.character + 1,
    endLineNumber: end.line + 1,
    endColumn: end.character + 1,
  };
}

const languageOf = serverLanguageOf;

const position = (at: Monaco.Position) => ({ line: at.lineNumber - 1, character: at.column - 1 });

function markdownOf(contents: Hover['contents']): Monaco.IMarkdownString[] {
  const list = Array.isArray(contents) ? contents : [contents];
  return list.map((item) =>
    typeof item === 'string'
      ? { value: item }
      : 'kind' in item
        ? { value: (item as MarkupContent).value }
        : { value: `\`\`\`${item.language}\n${item.value}\n\`\`\`` },
  );
}

const registered = new Set<string>();

/**
 * Keeps `model` open on its language's server in `workspace` (open, each change, close) and,
 * once per language, registers Monaco's providers that ask the server. `openFile` shows another
 * file at a line, for a definition elsewhere. Resolves to what stops it.
 */
export async function attachLanguageServer(
  monaco: typeof Monaco,
  workspace: string,
  model: Monaco.editor.ITextModel,
): Promise<Monaco.IDisposable> {
  const language = languageOf(model.getLanguageId());
  if (!language) return { dispose: () => {} };
  registerProviders(monaco, model.getLanguageId());
  let version = 1;
  let client = await connect(monaco, workspace, language);
  const uri = serverUri(model);
  const open = (current: Client) =>
    current.connection.sendNotification('textDocument/didOpen', {
      textDocument: { uri, languageId: language, version, text: model.getValue() },
    });
  if (client && !model.isDisposed()) open(client);
  const changes = model.onDidChangeContent(async () => {
    version++;
    if (!client) {
      // The server stopped (or never started): start it again, and reopen the file on it.
      client = await connect(monaco, workspace, language);
      if (client && !model.isDisposed()) open(client);
      return;
    }
    client.connection.sendNotification('textDocument/didChange', {
      textDocument: { uri, version },
      contentChanges: [{ text: model.getValue() }],
    });
  });
  return {
    dispose: () => {
      changes.dispose();
      client?.connection.sendNotification('textDocument/didClose', { textDocument: { uri } });
    },
  };
}

/** A symbol found in the workspace by its servers, where it is defined. */
export interface FoundSymbol {
  name: string;
  /** LSP's SymbolKind (1 File … 26 TypeParameter). */
  kind: number;
  container?: string;
  path: string;
  line: number;
}

/**
 * Ctrl/Cmd+T: the symbols matching `query` from every server running for `workspace` that
 * answers `workspace/symbol` (servers start when a file of their language opens).
 */
export async function workspaceSymbols(workspace: string, query: string): Promise<FoundSymbol[]> {
  const running = [...clients]
    .filter(([key]) => key.startsWith(`${workspace}:`))
    .map(([, client]) => client);
  const answers = await Promise.all(
    running.map(async (pending) => {
      const client = await pending;
      if (!client?.capabilities.workspaceSymbolProvider) return [];
      const found = await client.connection
        .sendRequest<(SymbolInformation | WorkspaceSymbol)[] | null>('workspace/symbol', { query })
        .catch(() => null);
      return (found ?? []).flatMap((symbol) => {
        const path = pathOf(symbol.location.uri);
        if (!path) return [];
        const line = 'range' in symbol.location ? symbol.location.range.start.line + 1 : 1;
        return [
          {
            name: symbol.name,
            kind: symbol.kind,
            ...(symbol.containerName ? { container: symbol.containerName } : {}),
            path,
            line,
          },
        ];
      });
    }),
  );
  // Several servers (TypeScript and JavaScript share one binary) may name the same symbol.
  const unique = new Map(
    answers.flat().map((item) => [`${item.name} ${item.path}:${item.line}`, item]),
  );
  return [...unique.values()];
}

/** The running client for a model, if its server is up. */
async function clientOf(model: Monaco.editor.ITextModel): Promise<Client | null> {
  const language = languageOf(model.getLanguageId());
  const client = language && clients.get(`${model.uri.authority}:${language}`);
  return client ? await client : null;
}

function registerProviders(monaco: typeof Monaco, languageId: string) {
  if (registered.has(languageId)) return;
  registered.add(languageId);
  const toRange = (range: {
    start: { line: number; character: number };
    end: { line: number; character: number };
  }) =>
    new monaco.Range(
      range.start.line + 1,
      range.start.character + 1,
      range.end.line + 1,
      range.end.character + 1,
    );

  /** LSP text edits of an open file as Monaco's (applied as undoable, unsaved changes). */
  const modelEdits = (
    target: Monaco.editor.ITextModel,
    textEdits: TextEdit[],
  ): Monaco.languages.IWorkspaceTextEdit[] =>
    textEdits.map((edit) => ({
      resource: target.uri,
      versionId: undefined,
      textEdit: { range: toRange(edit.range), text: edit.newText },
    }));

  monaco.languages.registerHoverProvider(languageId, {
    async provideHover(model, at) {
      const client = await clientOf(model);
      if (!client?.capabilities.hoverProvider) return null;
      const hover = await client.connection.sendRequest<Hover | null>('textDocument/hover', {
        textDocument: { uri: serverUri(model) },
        position: position(at),
      });
      if (!hover) return null;
      return {
        contents: markdownOf(hover.contents),
        ...(hover.range ? { range: toRange(hover.range) } : {}),
      };
    },
  });

  monaco.languages.registerDefinitionProvider(languageId, {
    async provideDefinition(model, at) {
      const client = await clientOf(model);
      if (!client?.capabilities.definitionProvider) return null;
      const found = await client.connection.sendRequest<Definition | LocationLink[] | null>(
        'textDocument/definition',
        { textDocument: { uri: serverUri(model) }, position: position(at) },
      );
      const list = found === null ? [] : Array.isArray(found) ? found : [found];
      return list.flatMap((item) => {
        const target = 'targetUri' in item ? item.targetUri : item.uri;
        const range = 'targetUri' in item ? item.targetSelectionRange : item.range;
        const path = pathOf(target);
        if (!path) return [];
        return [
          {
            uri: monaco.Uri.parse(`file://${model.uri.authority}/${path}`),
            range: toRange(range),
          },
        ];
      });
    },
  });

  monaco.languages.registerReferenceProvider(languageId, {
    async provideReferences(model, at) {
      const client = await clientOf(model);
      if (!client?.capabilities.referencesProvider) return [];
      const found = await client.connection.sendRequest<Location[] | null>(
        'textDocument/references',
        {
          textDocument: { uri: serverUri(model) },
          position: position(at),
          context: { includeDeclaration: true },
        },
      );
      return (found ?? []).flatMap((item) => {
        const path = pathOf(item.uri);
        return path
          ? [
              {
                uri: monaco.Uri.parse(`file://${model.uri.authority}/${path}`),
                range: toRange(item.range),
              },
            ]
          : [];
      });
    },
  });

  monaco.languages.registerSignatureHelpProvider(languageId, {
    signatureHelpTriggerCharacters: ['(', ','],
    async provideSignatureHelp(model, at) {
      const client = await clientOf(model);
      if (!client?.capabilities.signatureHelpProvider) return null;
      const help = await client.connection.sendRequest<SignatureHelp | null>(
        'textDocument/signatureHelp',
        { textDocument: { uri: serverUri(model) }, position: position(at) },
      );
      if (!help || help.signatures.length === 0) return null;
      const documentation = (value: string | MarkupContent | undefined) =>
        value === undefined
          ? undefined
          : { value: typeof value === 'string' ? value : value.value };
      return {
        value: {
          signatures: help.signatures.map((signature) => ({
            label: signature.label,
            documentation: documentation(signature.documentation),
            parameters: (signature.parameters ?? []).map((parameter) => ({
              label: parameter.label,
              documentation: documentation(parameter.documentation),
            })),
          })),
          activeSignature: help.activeSignature ?? 0,
          activeParameter: help.activeParameter ?? 0,
        },
        dispose: () => {},
      };
    },
  });

  monaco.languages.registerDocumentFormattingEditProvider(languageId, {
    async provideDocumentFormattingEdits(model, options) {
      const client = await clientOf(model);
      if (!client?.capabilities.documentFormattingProvider) return [];
      const edits = await client.connection.sendRequest<TextEdit[] | null>(
        'textDocument/formatting',
        {
          textDocument: { uri: serverUri(model) },
          options: { tabSize: options.tabSize, insertSpaces: options.insertSpaces },
        },
      );
      return (edits ?? []).map((edit) => ({ range: toRange(edit.range), text: edit.newText }));
    },
  });

  // A rename edits the files open in the editor (as unsaved changes, undoable) and writes the
  // others through the files API, each against the version it was read at.
  monaco.languages.registerRenameProvider(languageId, {
    async provideRenameEdits(model, at, newName) {
      const client = await clientOf(model);
      if (!client?.capabilities.renameProvider)
        return { edits: [], rejectReason: 'This language server cannot rename.' };
      const edit = await client.connection.sendRequest<WorkspaceEdit | null>(
        'textDocument/rename',
        { textDocument: { uri: serverUri(model) }, position: position(at), newName },
      );
      const byUri = edit ? textEditsOf(edit) : {};
      const workspace = model.uri.authority;
      const edits: Monaco.languages.IWorkspaceTextEdit[] = [];
      for (const [uri, textEdits] of Object.entries(byUri)) {
        const path = pathOf(uri);
        if (!path) continue;
        const target = monaco.editor.getModel(monaco.Uri.parse(`file://${workspace}/${path}`));
        if (target) {
          edits.push(...modelEdits(target, textEdits));
          continue;
        }
        const file = await readFile(workspace, path);
        await writeFile(workspace, {
          path,
          content: applyEdits(file.content, textEdits),
          expectedVersion: file.version,
        });
      }
      return { edits };
    },
  });

  // Quick fixes and refactorings that come as edits of the open files (Ctrl/Cmd+. or the bulb).
  monaco.languages.registerCodeActionProvider(languageId, {
    async provideCodeActions(model, range, context) {
      const none = { actions: [], dispose: () => {} };
      const client = await clientOf(model);
      if (!client?.capabilities.codeActionProvider) return none;
      const lspRange = (from: Monaco.IRange) => ({
        start: { line: from.startLineNumber - 1, character: from.startColumn - 1 },
        end: { line: from.endLineNumber - 1, character: from.endColumn - 1 },
      });
      const diagnostics = context.markers.map((marker) => {
        const code = typeof marker.code === 'string' ? marker.code : marker.code?.value;
        return {
          range: lspRange(marker),
          message: marker.message,
          severity: SEVERITIES.indexOf(marker.severity as 8 | 4 | 2 | 1),
          ...(marker.source ? { source: marker.source } : {}),
          ...(code !== undefined ? { code: /^\d+$/.test(code) ? Number(code) : code } : {}),
        };
      });
      const answer = await client.connection
        .sendRequest<(CodeAction | Command)[] | null>('textDocument/codeAction', {
          textDocument: { uri: serverUri(model) },
          range: lspRange(range),
          context: { diagnostics },
        })
        .catch(() => null);
      const workspace = model.uri.authority;
      const actions = (answer ?? []).flatMap((item) => {
        if (!('edit' in item) || !item.edit) return [];
        const edits: Monaco.languages.IWorkspaceTextEdit[] = [];
        for (const [uri, textEdits] of Object.entries(textEditsOf(item.edit))) {
          const path = pathOf(uri);
          const target =
            path && monaco.editor.getModel(monaco.Uri.parse(`file://${workspace}/${path}`));
          // An action that would change a file not open here is left out rather than half-done.
          if (!target) return [];
          edits.push(...modelEdits(target, textEdits));
        }
        return [
          {
            title: item.title,
            ...(item.kind ? { kind: item.kind } : {}),
            ...(item.isPreferred ? { isPreferred: true } : {}),
            edit: { edits },
          },
        ];
      });
      return { actions, dispose: () => {} };
    },
  });

  monaco.languages.registerCompletionItemProvider(languageId, {
    triggerCharacters: ['.'],
    async provideCompletionItems(model, at) {
      const client = await clientOf(model);
      if (!client?.capabilities.completionProvider) return { suggestions: [] };
      const answer = await client.connection.sendRequest<CompletionList | CompletionItem[] | null>(
        'textDocument/completion',
        { textDocument: { uri: serverUri(model) }, position: position(at) },
      );
      const items = answer === null ? [] : Array.isArray(answer) ? answer : answer.items;
      const word = model.getWordUntilPosition(at);
      const fallback = new monaco.Range(at.lineNumber, word.startColumn, at.lineNumber, at.column);
      return {
        suggestions: items.slice(0, 500).map((item) => {
          const edit = item.textEdit && 'range' in item.textEdit ? item.textEdit : undefined;
          return {
            label: item.label,
            kind: completionKind(monaco, item.kind),
            detail: item.detail,
            insertText: edit?.newText ?? item.insertText ?? item.label,
            range: edit ? toRange(edit.range) : fallback,
            ...(item.sortText ? { sortText: item.sortText } : {}),
          };
        }),
      };
    },
  });
}

/** LSP's completion kinds (1-based, in its order) as Monaco's. */
function completionKind(
  monaco: typeof Monaco,
  kind: number | undefined,
): Monaco.languages.CompletionItemKind {
  const names = [
    'Text',
    'Method',
    'Function',
    'Constructor',
    'Field',
    'Variable',
    'Class',
    'Interface',
    'Module',
    'Property',
    'Unit',
    'Value',
    'Enum',
    'Keyword',
    'Snippet',
    'Color',
    'File',
    'Reference',
    'Folder',
    'EnumMember',
    'Constant',
    'Struct',
    'Event',
    'Operator',
    'TypeParameter',
  ] as const;
  const name = names[(kind ?? 1) - 1] ?? 'Text';
  return monaco.languages.CompletionItemKind[name];
}

/** A workspace edit's text edits by document URI, from `changes` or `documentChanges`. */
function textEditsOf(edit: WorkspaceEdit): Record<string, TextEdit[]> {
  const byUri: Record<string, TextEdit[]> = { ...(edit.changes ?? {}) };
  for (const change of edit.documentChanges ?? [])
    if ('textDocument' in change)
      byUri[change.textDocument.uri] = change.edits.filter(
        (item): item is TextEdit => 'range' in item,
      );
  return byUri;
}

/** `text` with LSP edits applied (ranges in the original text, applied from the end). */
function applyEdits(text: string, edits: TextEdit[]): string {
  const starts = [0];
  for (let index = 0; index < text.length; index++)
    if (text[index] === '\n') starts.push(index + 1);
  const offset = (at: { line: number; character: number }) =>
    Math.min(text.length, (starts[at.line] ?? text.length) + at.character);
  let result = text;
  for (const edit of [...edits].sort((a, b) => offset(b.range.start) - offset(a.range.start)))
    result =
      result.slice(0, offset(edit.range.start)) +
      edit.newText +
      result.slice(offset(edit.range.end));
  return result;
}
