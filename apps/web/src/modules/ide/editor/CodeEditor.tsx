import { useQueryClient, type QueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { roleAllows, type FileContent } from '@studio/protocol';
import {
  fileContentQueryOptions,
  fileQueryKeys,
  makeDirectory,
  readFile,
  saveSharedFile,
  writeFile,
} from '../../../api/files.ts';
import { hasCode } from '../../../api/http.ts';
import { ConfirmDialog } from '../../../components/ConfirmDialog.tsx';
import { useToast } from '../../../components/Toaster.tsx';
import { parentOf } from '../file-tree/paths.ts';
import { useTheme } from '../../theme/ThemeProvider.tsx';
import { ConflictView } from './ConflictView.tsx';
import { clearDraft, readDraft, writeDraft } from './drafts.ts';
import {
  editorConfigFolders,
  editorConfigIndentation,
  languageIndentation,
} from './indentation.ts';
import { monaco } from './monaco.ts';
import { serverLanguageOf } from './server-states.ts';
import { SharedFile, type Peer } from './shared-file.ts';
import { PeersBar } from './PeersBar.tsx';
import { useDebugDecorations } from '../debug/use-debug-decorations.ts';
import { useWorkspaceRole } from '../../workspaces/workspace-role.ts';
import type {
  EditorBridge,
  EditorDiagnostic,
  EditorSnapshot,
  QuickActionKind,
  Reveal,
} from './use-open-files.ts';

/** What the editor knows about an open file besides its text. */
interface FileState {
  /** The version on disk the text was loaded from or last saved as. */
  baseVersion: string;
  /** Monaco's alternative version id at that moment: equal means "no unsaved edits". */
  savedVersionId: number;
}

/** A save the disk refused because someone else changed the file first. */
interface Conflict {
  path: string;
  disk: FileContent;
  mine: string;
}

// Kept beside Monaco's own model registry, so they live exactly as long as each model does, even
// while the editor is unmounted for a binary file or a loading one.
const fileStates = new WeakMap<monaco.editor.ITextModel, FileState>();
const viewStates = new WeakMap<monaco.editor.ITextModel, monaco.editor.ICodeEditorViewState>();
/** Models whose file is a shared document: edited with everyone who has it open. */
const sharedFiles = new WeakMap<monaco.editor.ITextModel, SharedFile>();

/** The model's shared document, once it is synced; until then (or never) it is edited alone. */
function sharedOf(model: monaco.editor.ITextModel | null | undefined): SharedFile | null {
  const shared = model ? sharedFiles.get(model) : undefined;
  return shared?.shared ? shared : null;
}

function fileUri(workspace: string, path: string) {
  return monaco.Uri.from({ scheme: 'file', authority: workspace, path: `/${path}` });
}

const SEVERITIES: Record<number, EditorDiagnostic['severity']> = {
  [monaco.MarkerSeverity.Error]: 'error',
  [monaco.MarkerSeverity.Warning]: 'warning',
};

/** The problems Monaco knows for a model, at most 200 (what a message may carry). */
function diagnosticsOf(model: monaco.editor.ITextModel): EditorDiagnostic[] {
  return monaco.editor
    .getModelMarkers({ resource: model.uri })
    .slice(0, 200)
    .map((marker) => ({
      line: marker.startLineNumber,
      severity: SEVERITIES[marker.severity] ?? 'info',
      message: marker.message.slice(0, 4000),
    }));
}

/**
 * Indent as the language does, or as the content already is, unless `.editorconfig` files (the
 * home's down to the file's folder) say otherwise.
 */
async function indent(
  queryClient: QueryClient,
  workspace: string,
  path: string,
  model: monaco.editor.ITextModel,
): Promise<void> {
  const base = languageIndentation(model.getLanguageId());
  const files: [string, string][] = [];
  for (const folder of editorConfigFolders(path)) {
    const file = `${folder ? `${folder}/` : ''}.editorconfig`;
    const found = await queryClient
      .fetchQuery({ ...fileContentQueryOptions(workspace, file), retry: false })
      .catch(() => null);
    if (found && !found.binary) files.push([folder, found.content]);
  }
  if (model.isDisposed()) return;
  if (files.length > 0) model.updateOptions(editorConfigIndentation(path, files, base));
  else model.detectIndentation(base.insertSpaces, base.tabSize);
}

/** Languages with a server (Python, TypeScript, Go, …) load the language client and attach. */
function startLanguageServer(workspace: string, model: monaco.editor.ITextModel): void {
  if (!serverLanguageOf(model.getLanguageId())) return;
  void import('./language-client.ts').then(async ({ attachLanguageServer }) => {
    if (model.isDisposed()) return;
    const attached = await attachLanguageServer(monaco, workspace, model);
    if (model.isDisposed()) attached.dispose();
    else model.onWillDispose(() => attached.dispose());
  });
}

/** The keys of an editor action. Monaco knows them but offers no public way to ask. */
function shortcutOf(editor: monaco.editor.IStandaloneCodeEditor, id: string): string | undefined {
  const keys = (
    editor as unknown as {
      _standaloneKeybindingService?: {
        lookupKeybinding(id: string): { getLabel(): string | null } | undefined;
      };
    }
  )._standaloneKeybindingService;
  return keys?.lookupKeybinding(id)?.getLabel() ?? undefined;
}

/** What the assistant sees of the editor: the file, the selected lines, the problems. */
function snapshotOf(editor: monaco.editor.IStandaloneCodeEditor): EditorSnapshot | null {
  const model = editor.getModel();
  if (!model) return null;
  const selection = editor.getSelection();
  const text = selection && !selection.isEmpty() ? model.getValueInRange(selection) : '';
  return {
    path: model.uri.path.slice(1),
    languageId: model.getLanguageId(),
    selection:
      selection && text.trim()
        ? {
            startLine: selection.startLineNumber,
            // A selection ending at column 1 does not include that line.
            endLine:
              selection.endColumn === 1 && selection.endLineNumber > selection.startLineNumber
                ? selection.endLineNumber - 1
                : selection.endLineNumber,
            text: text.slice(0, 200_000),
          }
        : null,
    diagnostics: diagnosticsOf(model),
    cursor: {
      line: editor.getPosition()?.lineNumber ?? 1,
      column: editor.getPosition()?.column ?? 1,
    },
    indentation: {
      insertSpaces: model.getOptions().insertSpaces,
      tabSize: model.getOptions().tabSize,
    },
  };
}

const QUICK_ACTIONS: { kind: QuickActionKind; label: string }[] = [
  { kind: 'explain', label: 'Explain' },
  { kind: 'tests', label: 'Write tests' },
  { kind: 'optimise', label: 'Optimise' },
  { kind: 'fix', label: 'Fix this error' },
];

/**
 * The Monaco editor for one workspace's text files: one editor, one model per open tab (so undo
 * history and unsaved edits survive switching tabs), Ctrl/Cmd+S saves against the version the
 * text was based on, and a refused save opens a diff of the disk against the edits.
 */
export default function CodeEditor({
  workspace,
  path,
  file,
  tabs,
  reveal,
  onDirtyChange,
  bridge,
  onOpenFile,
  following = null,
  onFollow,
}: {
  workspace: string;
  path: string;
  file: FileContent;
  tabs: string[];
  reveal: Reveal | null;
  onDirtyChange: (path: string, dirty: boolean) => void;
  /** Where the assistant reaches this editor; absent, nothing outside sees it. */
  bridge?: EditorBridge;
  /** Show another file of the workspace at a line (a definition elsewhere). */
  onOpenFile?: (path: string, line?: number) => void;
  /** Whose cursor this editor follows (their key), across files; and how to change it. */
  following?: string | null;
  onFollow?: (key: string | null) => void;
}) {
  const queryClient = useQueryClient();
  const toast = useToast();
  const { resolved } = useTheme();
  const containerRef = useRef<HTMLDivElement>(null);
  const editorRef = useRef<monaco.editor.IStandaloneCodeEditor | null>(null);
  const [conflict, setConflict] = useState<Conflict | null>(null);
  /** A save whose file (or its folder) is gone from the disk, until recreated or cancelled. */
  const [missing, setMissing] = useState<{ path: string; content: string } | null>(null);
  const saveRef = useRef<() => void>(() => {});
  /** Who else is in this file, and whether the link to them is down. */
  const [peers, setPeers] = useState<Peer[]>([]);
  const [offline, setOffline] = useState(false);

  useEffect(() => monaco.editor.setTheme(resolved === 'dark' ? 'vs-dark' : 'vs'), [resolved]);

  useEffect(() => {
    const editor = monaco.editor.create(containerRef.current!, {
      automaticLayout: true,
      fontSize: 13,
      minimap: { enabled: false },
      scrollBeyondLastLine: false,
      // Breakpoints and the paused line are drawn left of the line numbers.
      glyphMargin: true,
    });
    editor.addAction({
      id: 'studio.save',
      label: 'File: Save',
      keybindings: [monaco.KeyMod.CtrlCmd | monaco.KeyCode.KeyS],
      run: () => saveRef.current(),
    });
    editorRef.current = editor;
    return () => {
      editor.dispose();
      editorRef.current = null;
    };
  }, []);

  useDebugDecorations(editorRef, workspace, path);

  // A viewer reads: the editor says so when they try to type.
  const readOnly = !roleAllows(useWorkspaceRole(), 'editor');
  useEffect(() => {
    editorRef.current?.updateOptions({
      readOnly,
      readOnlyMessage: { value: 'You are a viewer of this workspace: its files are read-only.' },
    });
  }, [readOnly]);

  // Go to Definition into another file opens it in a tab, at the definition.
  useEffect(() => {
    if (!onOpenFile) return;
    const opener = monaco.editor.registerEditorOpener({
      openCodeEditor(_source, resource, selection) {
        if (resource.scheme !== 'file' || resource.authority !== workspace) return false;
        const line =
          selection && 'startLineNumber' in selection
            ? selection.startLineNumber
            : selection?.lineNumber;
        onOpenFile(resource.path.slice(1), line);
        return true;
      },
    });
    return () => opener.dispose();
  }, [workspace, onOpenFile]);

  // Every open file's problems, for the Problems panel.
  useEffect(() => {
    if (!bridge) return;
    const publish = () =>
      bridge.publishProblems(
        monaco.editor
          .getModelMarkers({})
          .filter((marker) => marker.resource.authority === workspace && marker.severity >= 4)
          .map((marker) => ({
            path: marker.resource.path.slice(1),
            line: marker.startLineNumber,
            column: marker.startColumn,
            severity: SEVERITIES[marker.severity] ?? 'info',
            message: marker.message.slice(0, 1000),
            ...(marker.source ? { source: marker.source } : {}),
          }))
          .sort((a, b) => (a.path === b.path ? a.line - b.line : a.path < b.path ? -1 : 1)),
      );
    publish();
    const listener = monaco.editor.onDidChangeMarkers(publish);
    return () => listener.dispose();
  }, [bridge, workspace]);

  // The assistant's view of the editor, and the selection quick actions that hand off to it.
  useEffect(() => {
    const editor = editorRef.current;
    if (!editor || !bridge) return;
    const publish = () => {
      const snapshot = snapshotOf(editor);
      if (snapshot) bridge.publish(snapshot);
    };
    bridge.attach(
      {
        getValue: () => editor.getValue(),
        insertAtCursor: (text) => {
          const selection = editor.getSelection();
          if (!selection) return;
          editor.pushUndoStop();
          editor.executeEdits('assistant', [{ range: selection, text, forceMoveMarkers: true }]);
          editor.pushUndoStop();
          editor.focus();
        },
        replaceContent: (text) => {
          const model = editor.getModel();
          if (!model) return;
          editor.pushUndoStop();
          editor.executeEdits('assistant', [{ range: model.getFullModelRange(), text }]);
          editor.pushUndoStop();
          editor.focus();
        },
        commands: () =>
          editor.getSupportedActions().map((action) => ({
            label: action.label,
            shortcut: shortcutOf(editor, action.id),
            run: () => {
              editor.focus();
              void action.run();
            },
          })),
      },
      snapshotOf(editor),
    );
    const disposables = [
      editor.onDidChangeCursorSelection(publish),
      editor.onDidChangeModel(publish),
      editor.onDidChangeModelOptions(publish),
      monaco.editor.onDidChangeMarkers((uris) => {
        const uri = editor.getModel()?.uri.toString();
        if (uris.some((changed) => changed.toString() === uri)) publish();
      }),
      ...QUICK_ACTIONS.map(({ kind, label }, index) =>
        editor.addAction({
          id: `studio.assistant.${kind}`,
          label: `Assistant: ${label}`,
          contextMenuGroupId: '0_assistant',
          contextMenuOrder: index + 1,
          precondition: 'editorHasSelection',
          run: () => {
            const snapshot = snapshotOf(editor);
            if (!snapshot?.selection) return;
            const { startLine, endLine } = snapshot.selection;
            bridge.runQuickAction({
              kind,
              path: snapshot.path,
              selection: snapshot.selection,
              diagnostics: snapshot.diagnostics.filter(
                (item) => item.line >= startLine && item.line <= endLine,
              ),
            });
          },
        }),
      ),
    ];
    return () => {
      for (const disposable of disposables) disposable.dispose();
      bridge.attach(null, null);
    };
  }, [bridge]);

  // Closed tabs let go of their models.
  useEffect(() => {
    for (const model of monaco.editor.getModels()) {
      if (model.uri.authority !== workspace) continue;
      if (!tabs.includes(model.uri.path.slice(1))) model.dispose();
    }
  }, [tabs, workspace]);

  // Show the active file: its model, created from a kept draft or from the disk.
  useEffect(() => {
    const editor = editorRef.current;
    if (!editor) return;
    const uri = fileUri(workspace, path);
    let model = monaco.editor.getModel(uri);
    if (!model) {
      const draft = readDraft(workspace, path);
      model = monaco.editor.createModel(draft?.content ?? file.content, undefined, uri);
      const opened = model;
      fileStates.set(opened, {
        baseVersion: draft?.baseVersion ?? file.version,
        savedVersionId: draft ? -1 : opened.getAlternativeVersionId(),
      });
      onDirtyChange(path, draft !== undefined);
      void indent(queryClient, workspace, path, opened);
      startLanguageServer(workspace, opened);
      const shared = new SharedFile(
        workspace,
        path,
        opened,
        editor,
        () => sharedFiles.delete(opened),
        draft?.baseVersion ?? null,
      );
      sharedFiles.set(opened, shared);
      opened.onWillDispose(() => shared.destroy());
      // Shared, "unsaved" is the document's (anyone's edits since anyone's save), not this tab's;
      // the browser still keeps a draft of it, for a reload and for a workspace that restarts.
      // At most a few times a second: with others typing, a big file changes a hundred times one.
      let draftTimer: number | undefined;
      const keepDraft = () => {
        draftTimer ??= window.setTimeout(keepDraftNow, 300);
      };
      const keepDraftNow = () => {
        draftTimer = undefined;
        const state = shared.file;
        if (!state || opened.isDisposed()) return;
        if (state.dirty)
          writeDraft(workspace, path, { content: opened.getValue(), baseVersion: state.version });
        else clearDraft(workspace, path);
        onDirtyChange(path, state.dirty);
      };
      shared.subscribe(keepDraft);
      opened.onDidChangeContent(() => {
        if (sharedOf(opened)) return keepDraft();
        const state = fileStates.get(opened);
        if (!state) return;
        const dirty = opened.getAlternativeVersionId() !== state.savedVersionId;
        if (dirty)
          writeDraft(workspace, path, {
            content: opened.getValue(),
            baseVersion: state.baseVersion,
          });
        else clearDraft(workspace, path);
        onDirtyChange(path, dirty);
      });
    }
    editor.setModel(model);
    const viewState = viewStates.get(model);
    if (viewState) editor.restoreViewState(viewState);
    editor.focus();
    const shown = model;
    return () => {
      const state = editor.saveViewState();
      if (state && !shown.isDisposed()) viewStates.set(shown, state);
    };
  }, [workspace, path, file, onDirtyChange, queryClient]);

  // The others in this file, live; following one keeps their cursor in view.
  useEffect(() => {
    const shared = sharedFiles.get(monaco.editor.getModel(fileUri(workspace, path))!);
    if (!shared) return;
    const update = () => {
      setPeers(shared.peers);
      setOffline(shared.offline);
    };
    update();
    return shared.subscribe(update);
  }, [workspace, path]);
  useEffect(() => {
    const line = peers.find((peer) => peer.key === following)?.line;
    if (line) editorRef.current?.revealLineInCenterIfOutsideViewport(line);
  }, [peers, following]);

  // A newer version on disk replaces the text of a file without unsaved edits.
  useEffect(() => {
    const model = monaco.editor.getModel(fileUri(workspace, path));
    const state = model ? fileStates.get(model) : undefined;
    if (!model || !state || state.baseVersion === file.version || sharedOf(model)) return;
    if (model.getAlternativeVersionId() !== state.savedVersionId) return;
    if (model.getValue() !== file.content) model.setValue(file.content);
    fileStates.set(model, {
      baseVersion: file.version,
      savedVersionId: model.getAlternativeVersionId(),
    });
    clearDraft(workspace, path);
    onDirtyChange(path, false);
  }, [workspace, path, file, onDirtyChange]);

  useEffect(() => {
    const editor = editorRef.current;
    if (!editor || !reveal || reveal.path !== path) return;
    const { line, select } = reveal;
    if (select) {
      const range = {
        startLineNumber: line,
        startColumn: select.column,
        endLineNumber: line,
        endColumn: select.column + select.length,
      };
      editor.setSelection(range);
      editor.revealRangeInCenter(range);
    } else {
      editor.revealLineInCenter(line);
      editor.setPosition({ lineNumber: line, column: 1 });
    }
    editor.focus();
  }, [reveal, path]);

  /** Write `content` as a save of `target` based on `expectedVersion`. */
  const store = async (target: string, content: string, expectedVersion: string | null) => {
    const model = monaco.editor.getModel(fileUri(workspace, target));
    const versionId = model?.getAlternativeVersionId() ?? -1;
    const written = await writeFile(workspace, { path: target, content, expectedVersion });
    if (model) fileStates.set(model, { baseVersion: written.version, savedVersionId: versionId });
    queryClient.setQueryData<FileContent>(fileQueryKeys.content(workspace, target), {
      content,
      encoding: 'utf8',
      binary: false,
      size: written.size,
      version: written.version,
    });
    const stillDirty = model ? model.getAlternativeVersionId() !== versionId : false;
    if (!stillDirty) clearDraft(workspace, target);
    onDirtyChange(target, stillDirty);
  };

  const save = (waited = false) => {
    const model = editorRef.current?.getModel();
    // A file still joining its shared document is saved once it has (or has not, and is edited
    // alone): a write beside the document would come back into it twice.
    const joining = model ? sharedFiles.get(model) : undefined;
    if (joining && !joining.shared && !waited) {
      void Promise.race([joining.ready, sleep(JOIN_WAIT_MS)]).then(() => {
        if (editorRef.current?.getModel() === model) save(true);
      });
      return;
    }
    if (sharedOf(model)) {
      saveSharedFile(workspace, path).catch((error: unknown) =>
        toast(`Could not save ${path}: ${(error as Error).message}`, 'error'),
      );
      return;
    }
    const state = model ? fileStates.get(model) : undefined;
    if (!model || !state) return;
    const content = model.getValue();
    store(path, content, state.baseVersion).catch(async (error: unknown) => {
      if (hasCode(error, 'not_found')) return setMissing({ path, content });
      if (!hasCode(error, 'conflict')) {
        toast(`Could not save ${path}: ${(error as Error).message}`, 'error');
        return;
      }
      try {
        setConflict({ path, disk: await readFile(workspace, path), mine: content });
      } catch (readError) {
        // The file was deleted (or its folder) since it was opened: offer to make it again.
        if (hasCode(readError, 'not_found')) return setMissing({ path, content });
        toast(`Could not read ${path} from disk: ${(readError as Error).message}`, 'error');
      }
    });
  };

  /** Make the missing file's folder (if gone too) and write the unsaved text as a new file. */
  const recreate = async () => {
    if (!missing) return;
    const folder = folderOf(missing.path);
    try {
      if (folder) await makeDirectory(workspace, folder);
      await store(missing.path, missing.content, null);
      setMissing(null);
    } catch (error) {
      toast(`Could not save ${missing.path}: ${(error as Error).message}`, 'error');
    }
  };

  // The Ctrl/Cmd+S command is bound once; it calls whatever `save` the latest render made.
  useEffect(() => {
    saveRef.current = save;
  });

  const resolveConflict = async (choice: 'mine' | 'disk') => {
    if (!conflict) return;
    const model = monaco.editor.getModel(fileUri(workspace, conflict.path));
    try {
      if (choice === 'mine') {
        await store(conflict.path, conflict.mine, conflict.disk.version);
      } else if (model) {
        model.setValue(conflict.disk.content);
        fileStates.set(model, {
          baseVersion: conflict.disk.version,
          savedVersionId: model.getAlternativeVersionId(),
        });
        clearDraft(workspace, conflict.path);
        onDirtyChange(conflict.path, false);
      }
      setConflict(null);
    } catch (error) {
      toast(`Could not save ${conflict.path}: ${(error as Error).message}`, 'error');
    }
  };

  return (
    <div className="relative h-full min-h-0">
      <div ref={containerRef} className="h-full" data-testid="code-editor" />
      <PeersBar
        peers={peers}
        following={following}
        onFollow={(key) => onFollow?.(key)}
        offline={offline}
      />
      {conflict ? (
        <ConflictView
          path={conflict.path}
          language={monaco.editor.getModel(fileUri(workspace, conflict.path))?.getLanguageId()}
          disk={conflict.disk.content}
          mine={conflict.mine}
          theme={resolved}
          onKeepMine={() => void resolveConflict('mine')}
          onUseDisk={() => void resolveConflict('disk')}
        />
      ) : null}
      <ConfirmDialog
        open={missing !== null}
        title={`Could not save ${missing?.path ?? ''}`}
        description={
          missing && folderOf(missing.path)
            ? `It is no longer on disk, or its folder ${folderOf(missing.path)} was deleted. Your text is kept as unsaved. Recreate the folder and save it there?`
            : 'It is no longer on disk. Your text is kept as unsaved. Save it as a new file?'
        }
        confirmLabel={missing && folderOf(missing.path) ? 'Recreate folder and save' : 'Save'}
        destructive={false}
        onConfirm={() => void recreate()}
        onClose={() => setMissing(null)}
      />
    </div>
  );
}

/** How long a save waits for a file to join its shared document before writing it alone. */
const JOIN_WAIT_MS = 10_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The folder holding `path`, or '' for a file at the top of the home. */
function folderOf(path: string): string {
  const parent = parentOf(path);
  return parent === '.' ? '' : parent;
}
