import { useEffect, type RefObject } from 'react';
import type * as Monaco from 'monaco-editor/editor';
import { monaco } from '../editor/monaco.ts';
import { debugControllerFor } from './debug-session.ts';

/**
 * The editor's side of debugging for the file shown: breakpoints in the glyph margin (a click
 * toggles one; conditional ones are drawn differently and say their condition on hover), the line
 * the program is paused on, and VS Code's F9 / "Add Conditional Breakpoint…" actions. Call it
 * after the effect that creates the editor.
 */
export function useDebugDecorations(
  editorRef: RefObject<Monaco.editor.IStandaloneCodeEditor | null>,
  workspace: string,
  path: string,
) {
  useEffect(() => {
    const editor = editorRef.current;
    if (!editor) return;
    const debug = debugControllerFor(workspace);
    const decorations = editor.createDecorationsCollection();
    const draw = () => {
      const { breakpoints, location } = debug.getState();
      decorations.set([
        ...(breakpoints[path] ?? []).map(({ line, condition }) => ({
          range: new monaco.Range(line, 1, line, 1),
          options: {
            glyphMarginClassName: condition ? 'studio-breakpoint-conditional' : 'studio-breakpoint',
            glyphMarginHoverMessage: {
              value: condition ? `Breakpoint if \`${condition}\`` : 'Breakpoint',
            },
            stickiness: monaco.editor.TrackedRangeStickiness.NeverGrowsWhenTypingAtEdges,
          },
        })),
        ...(location?.path === path
          ? [
              {
                range: new monaco.Range(location.line, 1, location.line, 1),
                options: {
                  isWholeLine: true,
                  className: 'studio-debug-line',
                  glyphMarginClassName: 'studio-debug-arrow',
                  glyphMarginHoverMessage: { value: 'Paused here' },
                },
              },
            ]
          : []),
      ]);
    };
    draw();
    const unsubscribe = debug.subscribe(draw);
    const lineAtCursor = () => editor.getPosition()?.lineNumber ?? 1;
    const disposables = [
      editor.onMouseDown((event) => {
        if (event.target.type !== monaco.editor.MouseTargetType.GUTTER_GLYPH_MARGIN) return;
        const line = event.target.position?.lineNumber;
        if (line === undefined) return;
        if (event.event.rightButton || event.event.shiftKey) debug.editCondition(path, line);
        else debug.toggleBreakpoint(path, line);
      }),
      editor.addAction({
        id: 'studio.debug.toggleBreakpoint',
        label: 'Debug: Toggle Breakpoint',
        keybindings: [monaco.KeyCode.F9],
        run: () => debug.toggleBreakpoint(path, lineAtCursor()),
      }),
      editor.addAction({
        id: 'studio.debug.conditionalBreakpoint',
        label: 'Debug: Add Conditional Breakpoint…',
        run: () => debug.editCondition(path, lineAtCursor()),
      }),
    ];
    return () => {
      unsubscribe();
      decorations.clear();
      for (const disposable of disposables) disposable.dispose();
    };
  }, [editorRef, workspace, path]);
}
