// A form field edited in Monaco (a Dockerfile on Admin → Templates): the editor people know,
// its keys and highlighting, in the app's theme. Loaded only by the pages that show one.
import { useEffect, useRef } from 'react';
import { useTheme } from '../../theme/ThemeProvider.tsx';
import { monaco } from './monaco.ts';

export default function MonacoField({
  initial,
  onChange,
  language,
  label,
  height = 280,
}: {
  initial: string;
  onChange: (value: string) => void;
  language: string;
  /** What a screen reader calls it. */
  label: string;
  height?: number;
}) {
  const containerRef = useRef<HTMLDivElement>(null);
  const changed = useRef(onChange);
  useEffect(() => {
    changed.current = onChange;
  });
  const { resolved } = useTheme();

  useEffect(() => {
    const editor = monaco.editor.create(containerRef.current!, {
      value: initial,
      language,
      ariaLabel: label,
      automaticLayout: true,
      minimap: { enabled: false },
      scrollBeyondLastLine: false,
      fontSize: 13,
      tabSize: 4,
    });
    const listener = editor.onDidChangeModelContent(() => changed.current(editor.getValue()));
    return () => {
      listener.dispose();
      editor.getModel()?.dispose();
      editor.dispose();
    };
    // Created once with `initial`: from then on the text is the editor's, and `onChange` says it
    // (a value pushed back in on each render would lose keys typed faster than React renders).
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  useEffect(() => monaco.editor.setTheme(resolved === 'dark' ? 'vs-dark' : 'vs'), [resolved]);

  return (
    <div
      ref={containerRef}
      style={{ height }}
      className="overflow-hidden rounded-md border border-line-strong"
    />
  );
}
