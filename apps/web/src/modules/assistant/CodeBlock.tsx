import { useEffect, useState } from 'react';
import { CheckIcon, CopyIcon } from '../../components/icons.tsx';
import { useTheme } from '../theme/ThemeProvider.tsx';
import { useEditorActions } from './editor-actions.ts';
import { monacoLanguage } from './format.ts';

/** Colour `code` with Monaco's tokenizer; Monaco loads on first use, so the panel stays light. */
async function colorize(code: string, fence: string | undefined, dark: boolean): Promise<string> {
  const { monaco } = await import('../ide/editor/monaco.ts');
  // colorize() emits theme classes; setting the theme makes sure their styles are on the page.
  monaco.editor.setTheme(dark ? 'vs-dark' : 'vs');
  const known = monaco.languages.getLanguages().map((language) => language.id);
  return monaco.editor.colorize(code, monacoLanguage(fence, known), {});
}

const toolClasses =
  'rounded px-1.5 py-0.5 text-[11px] font-medium text-muted hover:bg-line/60 hover:text-fg disabled:cursor-not-allowed disabled:opacity-50';

/** A fenced code block of a reply: highlighted, with Copy, and Insert at cursor and Apply to file beside an editor. */
export function CodeBlock({ code, fence }: { code: string; fence: string | undefined }) {
  const { resolved } = useTheme();
  const actions = useEditorActions();
  const [html, setHtml] = useState<{ code: string; html: string } | null>(null);
  const [copied, setCopied] = useState(false);

  useEffect(() => {
    let current = true;
    colorize(code, fence, resolved === 'dark').then(
      (result) => {
        if (current) setHtml({ code, html: result });
      },
      () => {},
    );
    return () => {
      current = false;
    };
  }, [code, fence, resolved]);

  const copy = () => {
    void navigator.clipboard.writeText(code).then(() => {
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    });
  };
  const noFile = actions?.path === null ? 'Open a file in the editor first' : undefined;

  return (
    <div className="my-2 overflow-hidden rounded-md border border-line bg-subtle/60">
      <div className="flex items-center gap-1 border-b border-line px-2 py-1">
        <span className="mr-auto font-mono text-[11px] text-muted">{fence ?? 'text'}</span>
        <button type="button" className={toolClasses} onClick={copy}>
          {copied ? (
            <CheckIcon className="mr-1 inline size-3" />
          ) : (
            <CopyIcon className="mr-1 inline size-3" />
          )}
          {copied ? 'Copied' : 'Copy'}
        </button>
        {actions ? (
          <>
            <button
              type="button"
              className={toolClasses}
              disabled={actions.path === null}
              title={noFile}
              onClick={() => actions.insert(code)}
            >
              Insert at cursor
            </button>
            <button
              type="button"
              className={toolClasses}
              disabled={actions.path === null}
              title={noFile ?? `Compare with ${actions.path ?? ''}`}
              onClick={() => actions.propose(code)}
            >
              Apply to file
            </button>
          </>
        ) : null}
      </div>
      {html && html.code === code ? (
        <pre
          className="overflow-x-auto p-2.5 font-mono text-[12px] leading-5"
          // Monaco's colorize escapes the code; the HTML is only its own token spans.
          dangerouslySetInnerHTML={{ __html: html.html }}
        />
      ) : (
        <pre className="overflow-x-auto p-2.5 font-mono text-[12px] leading-5">
          <code>{code}</code>
        </pre>
      )}
    </div>
  );
}
