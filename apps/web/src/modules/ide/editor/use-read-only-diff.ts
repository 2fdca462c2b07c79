import { useEffect, useRef } from 'react';
import { monaco } from './monaco.ts';

/**
 * A side-by-side, read-only Monaco diff of two texts in the returned container. The models are
 * its own, so the open tab's model and undo history stay untouched until the caller acts.
 */
export function useReadOnlyDiff(options: {
  original: string;
  modified: string;
  language: string | undefined;
  dark: boolean;
}) {
  const containerRef = useRef<HTMLDivElement>(null);
  const { original, modified, language, dark } = options;
  useEffect(() => {
    const diff = monaco.editor.createDiffEditor(containerRef.current!, {
      automaticLayout: true,
      readOnly: true,
      originalEditable: false,
      renderSideBySide: true,
      theme: dark ? 'vs-dark' : 'vs',
    });
    const left = monaco.editor.createModel(original, language);
    const right = monaco.editor.createModel(modified, language);
    diff.setModel({ original: left, modified: right });
    return () => {
      diff.dispose();
      left.dispose();
      right.dispose();
    };
  }, [original, modified, language, dark]);
  return containerRef;
}
