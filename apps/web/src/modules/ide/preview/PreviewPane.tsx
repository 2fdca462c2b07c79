import { useState, type FormEvent } from 'react';
import { useQuery } from '@tanstack/react-query';
import { previewModeQueryOptions, previewUrl } from '../../../api/ports.ts';
import { iconButtonClasses } from '../../../components/IconButton.tsx';
import { CloseIcon, ExternalLinkIcon, RefreshIcon } from '../../../components/icons.tsx';

const toolButton = iconButtonClasses();
const SANDBOX = 'allow-scripts allow-forms allow-popups allow-modals allow-downloads';

/**
 * A port of the workspace in a frame, through the server's authenticated proxy. In path mode the
 * frame is sandboxed without same-origin rights (and the proxy says so too), so the previewed app
 * cannot act as the user on this server. In subdomain mode the app is on a host of its own, an
 * origin apart from this one, so the frame keeps that origin: the app's cookies and storage work.
 */
export function PreviewPane({
  workspace,
  port,
  onClose,
}: {
  workspace: string;
  port: number;
  onClose: () => void;
}) {
  const [path, setPath] = useState('/');
  const [typed, setTyped] = useState('/');
  // Bumping the key reloads the frame even when its URL did not change.
  const [generation, setGeneration] = useState(0);
  const url = previewUrl(workspace, port, path);
  const mode = useQuery(previewModeQueryOptions(workspace, port)).data;

  const go = (event: FormEvent) => {
    event.preventDefault();
    const next = typed.trim() === '' ? '/' : typed.trim().replace(/^(?!\/)/, '/');
    setTyped(next);
    setPath(next);
    setGeneration((value) => value + 1);
  };

  return (
    <section aria-label={`Preview of port ${port}`} className="flex h-full min-h-0 flex-col">
      <div className="flex h-9 shrink-0 items-center gap-1 border-b border-line bg-subtle px-1.5">
        <button
          type="button"
          aria-label="Reload the preview"
          title="Reload"
          onClick={() => setGeneration((value) => value + 1)}
          className={toolButton}
        >
          <RefreshIcon className="size-3.5" />
        </button>
        <form onSubmit={go} className="flex min-w-0 flex-1 items-center">
          <span className="shrink-0 pr-1 pl-1.5 font-mono text-[12px] text-muted">:{port}</span>
          <input
            aria-label="Preview address"
            value={typed}
            onChange={(event) => setTyped(event.target.value)}
            spellCheck={false}
            className="h-7 min-w-0 flex-1 rounded border border-line bg-surface px-2 font-mono text-[12px] text-fg"
          />
        </form>
        <a
          href={url}
          target="_blank"
          rel="noreferrer"
          aria-label="Open the preview in a new tab"
          title="Open in a new tab"
          className={toolButton}
        >
          <ExternalLinkIcon className="size-3.5" />
        </a>
        <button
          type="button"
          aria-label="Close the preview"
          title="Close"
          onClick={onClose}
          className={toolButton}
        >
          <CloseIcon className="size-3.5" />
        </button>
      </div>
      {mode === undefined ? (
        <div className="min-h-0 flex-1 bg-white" />
      ) : (
        <iframe
          key={generation}
          title={`Port ${port} of ${workspace}`}
          src={url}
          sandbox={mode === 'subdomain' ? `${SANDBOX} allow-same-origin` : SANDBOX}
          className="min-h-0 w-full flex-1 border-0 bg-white"
        />
      )}
    </section>
  );
}
