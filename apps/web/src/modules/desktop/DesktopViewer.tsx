import RFB from '@novnc/novnc';
import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import { openDesktopSocket } from '../../api/desktop.ts';
import { afterDisconnect, type DesktopEnd } from './desktop-connection.ts';

type Status =
  | { state: 'connecting' }
  | { state: 'connected' }
  | { state: 'disconnected'; message: string; retryInMs: number | null };

const toolButton =
  'h-7 shrink-0 rounded px-2 text-[12px] font-medium text-muted hover:bg-line/60 hover:text-fg aria-pressed:bg-accent-soft aria-pressed:text-accent aria-expanded:bg-line/60 aria-expanded:text-fg disabled:cursor-not-allowed disabled:opacity-55';

function statusText(status: Status): string {
  if (status.state === 'connecting') return 'Connecting…';
  if (status.state === 'connected') return 'Connected';
  const retry =
    status.retryInMs === null
      ? ''
      : ` Reconnecting in ${Math.max(1, Math.round(status.retryInMs / 1000))} s…`;
  // Server reasons may come without a full stop; the retry note reads as a second sentence.
  const message = /[.!?…]$/.test(status.message) ? status.message : `${status.message}.`;
  return `Disconnected: ${message}${retry}`;
}

/**
 * The workspace's Linux desktop over VNC (noVNC). It opens view-only, since the agent works there
 * and the person watches; "Take control" hands them keyboard and mouse until "Hand back".
 * Unmounting disconnects.
 */
export function DesktopViewer({
  workspace,
  onControlChange,
}: {
  workspace: string;
  /** The person took control (true) or handed it back (false). */
  onControlChange?: (inControl: boolean) => void;
}) {
  const viewerRef = useRef<HTMLElement>(null);
  const screenRef = useRef<HTMLDivElement>(null);
  const rfbRef = useRef<RFB | null>(null);
  // Retries since the last successful connect, for the backoff.
  const attemptRef = useRef(0);
  // Bumped to open a new connection (noVNC's RFB cannot reconnect once disconnected).
  const [generation, setGeneration] = useState(0);
  const [status, setStatus] = useState<Status>({ state: 'connecting' });
  const [inControl, setInControl] = useState(false);
  const [scaled, setScaled] = useState(true);
  const [fullscreen, setFullscreen] = useState(false);
  const [clipboardOpen, setClipboardOpen] = useState(false);
  const [clipboardText, setClipboardText] = useState('');
  const [clipboardFresh, setClipboardFresh] = useState(false);
  const clipboardId = useId();

  useEffect(() => {
    let disposed = false;
    let ended = false;
    let retryTimer: number | undefined;
    let closed: { code: number; reason: string } | null = null;
    let failure: DesktopEnd | null = null;

    const socket = openDesktopSocket(workspace, (code, reason) => {
      closed = { code, reason };
    });
    const rfb = new RFB(screenRef.current!, socket, { shared: true });
    // The agent's screenshots and clicks use the desktop's own size: never resize it to this panel.
    rfb.resizeSession = false;
    rfbRef.current = rfb;

    const onConnect = () => {
      attemptRef.current = 0;
      setStatus({ state: 'connected' });
    };
    const onDisconnect = () => {
      ended = true;
      if (rfbRef.current === rfb) rfbRef.current = null;
      if (disposed) return;
      const end: DesktopEnd =
        failure ?? (closed ? { kind: 'closed', ...closed } : { kind: 'failed' });
      const next = afterDisconnect(end, attemptRef.current);
      setStatus({ state: 'disconnected', ...next });
      if (next.retryInMs === null) return;
      retryTimer = window.setTimeout(() => {
        attemptRef.current += 1;
        setStatus({ state: 'connecting' });
        setGeneration((value) => value + 1);
      }, next.retryInMs);
    };
    const onCredentials = () => {
      failure = { kind: 'credentials' };
      rfb.disconnect();
    };
    const onSecurityFailure = (event: CustomEvent<{ reason?: string }>) => {
      failure = { kind: 'security', reason: event.detail.reason };
    };
    const onClipboard = (event: CustomEvent<{ text: string }>) => {
      setClipboardText(event.detail.text);
      setClipboardFresh(true);
    };
    rfb.addEventListener('connect', onConnect);
    rfb.addEventListener('disconnect', onDisconnect);
    rfb.addEventListener('credentialsrequired', onCredentials);
    rfb.addEventListener('securityfailure', onSecurityFailure);
    rfb.addEventListener('clipboard', onClipboard);

    return () => {
      disposed = true;
      window.clearTimeout(retryTimer);
      rfb.removeEventListener('connect', onConnect);
      rfb.removeEventListener('disconnect', onDisconnect);
      rfb.removeEventListener('credentialsrequired', onCredentials);
      rfb.removeEventListener('securityfailure', onSecurityFailure);
      rfb.removeEventListener('clipboard', onClipboard);
      if (rfbRef.current === rfb) rfbRef.current = null;
      // A disconnected RFB is final; disconnecting it again only logs an error.
      if (!ended) rfb.disconnect();
    };
  }, [workspace, generation]);

  // Applied to every new connection as well as on each change.
  useEffect(() => {
    const rfb = rfbRef.current;
    if (!rfb) return;
    rfb.viewOnly = !inControl;
    // View-only, a click must not take keyboard focus into the canvas.
    rfb.focusOnClick = inControl;
    rfb.scaleViewport = scaled;
  }, [inControl, scaled, generation]);

  useEffect(() => {
    const onChange = () => setFullscreen(document.fullscreenElement === viewerRef.current);
    document.addEventListener('fullscreenchange', onChange);
    return () => document.removeEventListener('fullscreenchange', onChange);
  }, []);

  const toggleControl = () => {
    const next = !inControl;
    setInControl(next);
    onControlChange?.(next);
    const rfb = rfbRef.current;
    if (!rfb) return;
    rfb.viewOnly = !next;
    rfb.focusOnClick = next;
    if (next) rfb.focus();
    else rfb.blur();
  };

  const toggleFullscreen = () => {
    if (document.fullscreenElement === viewerRef.current) void document.exitFullscreen();
    // Refused (no user gesture, or an iframe without allowfullscreen): nothing changes.
    else void viewerRef.current?.requestFullscreen().catch(() => undefined);
  };

  const reconnect = () => {
    attemptRef.current = 0;
    setStatus({ state: 'connecting' });
    setGeneration((value) => value + 1);
  };

  const toggleClipboard = () => {
    setClipboardOpen((open) => !open);
    setClipboardFresh(false);
  };

  const onClipboardKeyDown = (event: KeyboardEvent) => {
    if (event.key !== 'Escape') return;
    event.stopPropagation();
    setClipboardOpen(false);
  };

  const connected = status.state === 'connected';

  return (
    <section
      ref={viewerRef}
      aria-label="Desktop"
      className="relative flex h-full min-h-0 flex-col bg-surface"
    >
      <div className="flex shrink-0 flex-wrap items-center gap-1 border-b border-line bg-subtle px-1.5 py-1">
        <button
          type="button"
          aria-pressed={inControl}
          title={
            inControl
              ? 'Give keyboard and mouse back: watch only'
              : 'Use the keyboard and mouse on the desktop'
          }
          onClick={toggleControl}
          className={toolButton}
        >
          {inControl ? 'Hand back' : 'Take control'}
        </button>
        <button
          type="button"
          aria-pressed={scaled}
          title={scaled ? 'Show the desktop at its own size' : 'Fit the desktop to the panel'}
          onClick={() => setScaled((value) => !value)}
          className={toolButton}
        >
          Scale to fit
        </button>
        <button
          type="button"
          aria-expanded={clipboardOpen}
          aria-controls={clipboardId}
          title="Text copied on the desktop, and text to paste there"
          onClick={toggleClipboard}
          className={toolButton}
        >
          Clipboard
          {clipboardFresh ? (
            // The name stays "Clipboard"; the dot only hints that the desktop copied something.
            <span
              aria-hidden="true"
              className="ml-1 inline-block size-1.5 rounded-full bg-accent align-middle"
            />
          ) : null}
        </button>
        <button
          type="button"
          aria-pressed={fullscreen}
          title={fullscreen ? 'Leave full screen (Esc)' : 'Show the desktop full screen'}
          onClick={toggleFullscreen}
          className={toolButton}
        >
          Fullscreen
        </button>
      </div>

      {clipboardOpen ? (
        <div
          id={clipboardId}
          role="group"
          aria-label="Clipboard"
          onKeyDown={onClipboardKeyDown}
          className="absolute top-10 left-1.5 z-10 flex w-72 max-w-[calc(100%-0.75rem)] flex-col gap-2 rounded-md border border-line bg-surface p-2 shadow-lg"
        >
          <textarea
            aria-label="Clipboard text"
            value={clipboardText}
            onChange={(event) => setClipboardText(event.target.value)}
            rows={4}
            spellCheck={false}
            placeholder="Text copied on the desktop shows here. Type or paste text to send it."
            className="w-full resize-y rounded border border-line bg-canvas px-2 py-1 font-mono text-[12px] text-fg"
          />
          <div className="flex items-center justify-end gap-2">
            {!inControl ? (
              // noVNC neither sends nor receives clipboard text while view-only.
              <span className="mr-auto text-[11px] text-muted">
                Take control to share the clipboard.
              </span>
            ) : null}
            <button
              type="button"
              disabled={!connected || !inControl || clipboardText === ''}
              onClick={() => {
                // The desktop's clipboard now holds the text; focus lets Ctrl+V paste it there.
                rfbRef.current?.clipboardPasteFrom(clipboardText);
                rfbRef.current?.focus();
              }}
              className="h-7 rounded bg-accent px-2.5 text-[12px] font-medium text-accent-fg hover:bg-accent-hover disabled:cursor-not-allowed disabled:opacity-55"
            >
              Send to desktop
            </button>
          </div>
        </div>
      ) : null}

      {/* noVNC adds its screen and <canvas> here; React renders nothing inside. */}
      {/* Focusable, so a click on the view-only screen takes the keyboard away from whatever had
          it (Enter on a focused header button would otherwise act on it). */}
      <div
        ref={screenRef}
        tabIndex={-1}
        onPointerDown={(event) => event.currentTarget.focus({ preventScroll: true })}
        className="min-h-0 flex-1 bg-[#282828] outline-none"
      />

      <div className="flex shrink-0 items-center gap-2 border-t border-line bg-subtle px-2 py-1 text-[12px]">
        <span
          aria-hidden="true"
          className={`size-2 shrink-0 rounded-full ${
            connected ? 'bg-success' : status.state === 'connecting' ? 'bg-warning' : 'bg-danger'
          }`}
        />
        <p role="status" className="min-w-0 flex-1 truncate text-muted" title={statusText(status)}>
          {statusText(status)}
        </p>
        {status.state === 'disconnected' ? (
          <button type="button" onClick={reconnect} className={toolButton}>
            Reconnect
          </button>
        ) : null}
      </div>
    </section>
  );
}
