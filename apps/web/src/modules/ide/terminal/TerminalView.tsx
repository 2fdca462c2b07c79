import { WS_CLOSE } from '@studio/protocol';
import { FitAddon } from '@xterm/addon-fit';
import { SearchAddon } from '@xterm/addon-search';
import { WebLinksAddon } from '@xterm/addon-web-links';
import { Terminal as XTerm, type ITheme } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';
import { useEffect, useRef, useState } from 'react';
import { attachTerminal } from '../../../api/terminals.ts';
import { useTheme } from '../../theme/ThemeProvider.tsx';
import type { EditorBridge } from '../editor/use-open-files.ts';

const THEMES: Record<'light' | 'dark', ITheme> = {
  light: {
    background: '#ffffff',
    foreground: '#18181b',
    cursor: '#c2410c',
    selectionBackground: '#fed7aa',
  },
  dark: {
    background: '#151518',
    foreground: '#f4f4f5',
    cursor: '#f97316',
    selectionBackground: '#7c2d12',
  },
};

/** Why the socket closed, in a line the terminal can show; null when nothing needs saying. */
function closeNote(code: number, reason: string): string | null {
  if (code === 1000) return null;
  if (code === WS_CLOSE.unavailable.code) return 'The workspace stopped; this terminal is closed.';
  if (code === WS_CLOSE.notFound.code) return 'This terminal no longer exists.';
  if (code === WS_CLOSE.streamEnded.code)
    return reason && reason !== 'stream_ended' ? reason : null;
  if (code === WS_CLOSE.serverShutdown.code)
    return 'The server restarted; reload the page to reconnect.';
  return `Disconnected (${reason || code}). Reload the page to reconnect.`;
}

/**
 * The last `maxLines` lines of the buffer as plain text: rows xterm wrapped are joined back into
 * the line the program wrote, and the empty rows under the prompt are left out.
 */
function recentOutput(term: XTerm, maxLines: number): string {
  const buffer = term.buffer.active;
  const lines: string[] = [];
  let line = '';
  let nextWrapped = false;
  for (let row = buffer.length - 1; row >= 0 && lines.length < maxLines; row -= 1) {
    const cells = buffer.getLine(row);
    if (!cells) continue;
    // A row continued on the next one keeps its trailing spaces: they are part of the text.
    line = cells.translateToString(!nextWrapped) + line;
    nextWrapped = cells.isWrapped;
    if (cells.isWrapped) continue;
    if (lines.length > 0 || line.trim() !== '') lines.push(line);
    line = '';
  }
  return lines.reverse().join('\n');
}

/** Ctrl/Cmd+Alt+I: the IDE's assistant shortcut, handled by the page; never sent to the shell. */
function isAssistantShortcut(event: KeyboardEvent): boolean {
  return (
    (event.ctrlKey || event.metaKey) && event.altKey && !event.shiftKey && event.code === 'KeyI'
  );
}

/**
 * One terminal: xterm.js attached over a WebSocket. The server replays the scrollback on attach,
 * so a reload shows what was there. Ctrl+Shift+C / Ctrl+Shift+V copy and paste; plain Ctrl+C
 * copies only when text is selected, otherwise it interrupts as a terminal should.
 */
export function TerminalView({
  workspace,
  id,
  title,
  visible,
  bridge,
  onProcess,
}: {
  workspace: string;
  id: string;
  /** The name its tab shows, also the assistant's chip for it. */
  title: string;
  visible: boolean;
  /** Where the shown terminal offers its output to the assistant. */
  bridge?: EditorBridge;
  /** Told the program in the foreground each time it changes ("bash", "python3", …). */
  onProcess?: (name: string) => void;
}) {
  const onProcessRef = useRef(onProcess);
  useEffect(() => {
    onProcessRef.current = onProcess;
  });
  const containerRef = useRef<HTMLDivElement>(null);
  const hostRef = useRef<HTMLDivElement>(null);
  const termRef = useRef<XTerm | null>(null);
  const fitRef = useRef<FitAddon | null>(null);
  const { resolved } = useTheme();
  /** Someone else typing into this terminal just now (shared workspaces). */
  const [typing, setTyping] = useState<string | null>(null);
  const typingTimer = useRef<number | undefined>(undefined);

  useEffect(() => {
    const term = new XTerm({
      fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace',
      fontSize: 13,
      cursorBlink: true,
      scrollback: 5000,
      theme: THEMES.light,
    });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.loadAddon(new WebLinksAddon());
    term.loadAddon(new SearchAddon());
    term.open(hostRef.current!);
    termRef.current = term;
    fitRef.current = fit;

    const connection = attachTerminal(workspace, id, {
      onOutput: (bytes) => term.write(bytes),
      onMessage: (message) => {
        if (message.type === 'process') return onProcessRef.current?.(message.name);
        if (message.type === 'typing') {
          setTyping(message.name);
          window.clearTimeout(typingTimer.current);
          typingTimer.current = window.setTimeout(() => setTyping(null), 2_000);
          return;
        }
        term.write(
          `\r\n\x1b[2m[Process exited${message.code === null ? '' : ` with code ${message.code}`}]\x1b[0m\r\n`,
        );
      },
      onClose: (code, reason) => {
        const note = closeNote(code, reason);
        if (note) term.write(`\r\n\x1b[33m${note}\x1b[0m\r\n`);
      },
    });

    term.attachCustomKeyEventHandler((event) => {
      if (isAssistantShortcut(event)) return false;
      if (event.type !== 'keydown') return true;
      const copy =
        event.ctrlKey &&
        (event.shiftKey ? event.code === 'KeyC' : event.code === 'KeyC' && term.hasSelection());
      if (copy) {
        void navigator.clipboard?.writeText(term.getSelection());
        return false;
      }
      // Let the browser's paste event reach xterm, which sends the text to the shell.
      if (event.ctrlKey && event.shiftKey && event.code === 'KeyV') return false;
      return true;
    });
    const input = term.onData((data) => connection.send(data));
    const resize = term.onResize(({ cols, rows }) => connection.resize(cols, rows));

    // The observed box is sized by the layout alone (xterm sits in an absolutely placed box
    // inside it), so fitting never changes what is observed: sizing settles in one step.
    const observer = new ResizeObserver(() => {
      // A hidden tab has no size; fitting it would shrink the shell to nothing.
      if (containerRef.current?.offsetParent) fit.fit();
    });
    observer.observe(containerRef.current!);
    fit.fit();
    connection.resize(term.cols, term.rows);

    return () => {
      observer.disconnect();
      input.dispose();
      resize.dispose();
      connection.close();
      window.clearTimeout(typingTimer.current);
      term.dispose();
      termRef.current = null;
    };
  }, [workspace, id]);

  useEffect(() => {
    if (termRef.current) termRef.current.options.theme = THEMES[resolved];
  }, [resolved]);

  useEffect(() => {
    if (!visible) return;
    fitRef.current?.fit();
    termRef.current?.focus();
  }, [visible]);

  // Only the shown terminal is offered; its buffer is read when a message is sent, not per write.
  useEffect(() => {
    if (!visible || !bridge) return;
    return bridge.attachTerminal({
      title,
      readOutput: (maxLines) => (termRef.current ? recentOutput(termRef.current, maxLines) : ''),
    });
  }, [bridge, visible, title]);

  return (
    <div
      ref={containerRef}
      role="region"
      aria-label="Terminal output"
      hidden={!visible}
      data-terminal-id={id}
      className="relative h-full min-h-0"
    >
      <div ref={hostRef} className="absolute inset-0 overflow-hidden px-2 pt-1" />
      {typing ? (
        <span
          role="status"
          className="pointer-events-none absolute top-1 right-3 z-10 rounded-full border border-line bg-subtle px-2 py-0.5 text-[11px] shadow-sm"
        >
          typing: {typing}
        </span>
      ) : null}
    </div>
  );
}
