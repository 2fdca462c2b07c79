import { roleAllows } from '@studio/protocol';
import { useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { portsQueryOptions, previewUrl } from '../../../api/ports.ts';
import { Alert } from '../../../components/Alert.tsx';
import { ExternalLinkIcon, GlobeIcon } from '../../../components/icons.tsx';
import { Loading } from '../../../components/Spinner.tsx';
import { useWorkspaceRole } from '../../workspaces/workspace-role.ts';
import { PreviewLinkDialog } from './PreviewLinkDialog.tsx';

/** Parse what the user typed as a port, or say what is wrong with it. */
export function parsePort(text: string): number | string {
  const port = Number(text.trim());
  if (!/^\d+$/.test(text.trim()) || port < 1 || port > 65_535) {
    return `“${text.trim()}” is not a port: use a number from 1 to 65535.`;
  }
  return port;
}

/** The sidebar's Ports view: what listens in the workspace, each with "Open preview". */
export function PortsPanel({
  workspace,
  declared = [],
  onPreview,
}: {
  workspace: string;
  /** Ports the template or the dev container names (`forwardPorts`), shown before they listen. */
  declared?: readonly { port: number; name: string; label?: string }[];
  onPreview: (port: number) => void;
}) {
  const ports = useQuery(portsQueryOptions(workspace));
  const [typed, setTyped] = useState('');
  const [typedError, setTypedError] = useState<string | null>(null);
  const [sharing, setSharing] = useState<number | null>(null);
  const canShare = roleAllows(useWorkspaceRole(), 'admin');
  const listening = ports.data ?? [];
  const names = new Map(declared.map((entry) => [entry.port, entry.label ?? entry.name]));
  const list = [
    ...listening.map((item) => ({ port: item.port, address: item.address, process: item.process })),
    ...declared
      .filter((entry) => !listening.some((item) => item.port === entry.port))
      .map((entry) => ({ port: entry.port, address: null, process: null })),
  ].sort((a, b) => a.port - b.port);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const port = parsePort(typed);
    if (typeof port === 'string') return setTypedError(port);
    setTypedError(null);
    onPreview(port);
  };

  return (
    <section aria-label="Ports" className="flex h-full min-h-0 flex-col">
      <div className="min-h-0 flex-1 overflow-auto">
        {ports.isPending ? (
          <Loading label="Looking for listening ports…" />
        ) : ports.isError ? (
          <div className="p-3">
            <Alert tone="error">{ports.error.message}</Alert>
          </div>
        ) : list.length === 0 ? (
          <p className="px-3 py-4 text-[13px] text-muted">
            Nothing is listening yet. Start a server in a terminal, for example{' '}
            <code className="rounded bg-subtle px-1 font-mono text-[12px] text-fg">
              python3 -m http.server 8000
            </code>
            , and it appears here.
          </p>
        ) : (
          <ul aria-label="Listening ports" className="py-1">
            {list.map((item) => (
              <li
                key={item.port}
                className="group flex items-center gap-2 px-3 py-1.5 text-[13px] hover:bg-subtle"
              >
                <GlobeIcon className="size-4 shrink-0 text-muted" />
                {/* The port, and under it what it is: its name, or the process listening. */}
                <span className="flex min-w-0 flex-1 flex-col">
                  <span className="font-mono font-medium text-fg">{item.port}</span>
                  <span
                    className="truncate text-[12px] text-muted"
                    title={item.address ?? 'Named by the workspace; nothing listens on it yet'}
                  >
                    {[
                      names.get(item.port),
                      item.address === null ? 'not listening yet' : item.process,
                    ]
                      .filter(Boolean)
                      .join(' · ')}
                  </span>
                </span>
                <button
                  type="button"
                  onClick={() => onPreview(item.port)}
                  className="rounded px-1.5 py-0.5 text-[12px] font-medium text-accent hover:bg-accent-soft"
                >
                  Open preview
                </button>
                {canShare ? (
                  <button
                    type="button"
                    aria-label={`Share port ${item.port}`}
                    title="Share a link to this preview"
                    onClick={() => setSharing(item.port)}
                    className="rounded px-1.5 py-0.5 text-[12px] font-medium text-muted hover:bg-line/60 hover:text-fg"
                  >
                    Share
                  </button>
                ) : null}
                <a
                  href={previewUrl(workspace, item.port)}
                  target="_blank"
                  rel="noreferrer"
                  aria-label={`Open port ${item.port} in a new tab`}
                  title="Open in a new tab"
                  className="rounded p-1 text-muted hover:bg-line/60 hover:text-fg"
                >
                  <ExternalLinkIcon className="size-3.5" />
                </a>
              </li>
            ))}
          </ul>
        )}
      </div>
      <form onSubmit={submit} className="shrink-0 border-t border-line p-2">
        <label className="flex items-center gap-1.5 text-[12px] text-muted">
          Preview port
          <input
            value={typed}
            onChange={(event) => setTyped(event.target.value)}
            aria-label="Preview port"
            inputMode="numeric"
            placeholder="3000"
            aria-invalid={typedError ? true : undefined}
            className="h-7 w-20 rounded border border-line-strong bg-surface px-2 font-mono text-[12px] text-fg"
          />
          <button
            type="submit"
            className="h-7 rounded border border-line-strong px-2 font-medium text-fg hover:bg-subtle"
          >
            Open
          </button>
        </label>
        {typedError ? (
          <p role="alert" className="mt-1 text-[12px] text-danger">
            {typedError}
          </p>
        ) : null}
      </form>
      {sharing !== null ? (
        <PreviewLinkDialog workspace={workspace} port={sharing} onClose={() => setSharing(null)} />
      ) : null}
    </section>
  );
}
