import type { AiMode, ContextItem } from '@studio/protocol';
import { useQuery } from '@tanstack/react-query';
import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import { allFilesQueryOptions } from '../../api/files.ts';
import { Button } from '../../components/Button.tsx';
import { CloseIcon } from '../../components/icons.tsx';
import { fuzzyFilter } from '../palette/fuzzy.ts';
import {
  buildContext,
  CHIPS_OFF_BY_DEFAULT,
  insertMention,
  mentionAt,
  mentionsInText,
  type ChipKind,
  type ContextChip,
} from './context.ts';

/**
 * The chat input: context chips, `@file` mentions, the Chat/Agent toggle, Send and Stop; with
 * `steer`, also sending while a run goes and Pause/Resume.
 */
export function Composer({
  workspace,
  chips,
  mode,
  onModeChange,
  streaming,
  sending,
  disabled,
  onSend,
  onStop,
  steer,
  label = 'Message the assistant',
  placeholder,
  focusRequest = 0,
  prefill,
}: {
  /** Where `@file` mentions look; `null` offers none. */
  workspace: string | null;
  chips: ContextChip[];
  mode: AiMode;
  /** Absent: no Chat/Agent toggle (the mode is fixed). */
  onModeChange?: (mode: AiMode) => void;
  streaming: boolean;
  sending: boolean;
  /** Why sending is not possible right now (no model), or `false`. */
  disabled: boolean;
  /** Answers whether the message went, so the input is cleared only then. */
  onSend: (text: string, context: ContextItem[]) => Promise<boolean>;
  onStop: () => void;
  /** Sending stays open while the run goes (the agent reads it at its next step). */
  steer?: { paused: boolean; onPauseOrResume: () => void };
  /** The input's accessible name. */
  label?: string;
  placeholder?: string;
  /** Focus the input whenever this changes (and on mount when set): the keyboard shortcut. */
  focusRequest?: number;
  /** Put `text` into the input and focus it; a new `key` puts it again. */
  prefill?: { text: string; key: number };
}) {
  const [text, setText] = useState('');
  const [caret, setCaret] = useState(0);
  const [off, setOff] = useState<ReadonlySet<ChipKind>>(CHIPS_OFF_BY_DEFAULT);
  const [mentions, setMentions] = useState<string[]>([]);
  const [highlight, setHighlight] = useState(0);
  const [dismissed, setDismissed] = useState<number | null>(null);
  const inputRef = useRef<HTMLTextAreaElement>(null);
  const [prefilled, setPrefilled] = useState<number | undefined>(undefined);

  // Adjusted while rendering (not in an effect), so the text shows in the same paint.
  if (prefill !== undefined && prefill.key !== prefilled) {
    setPrefilled(prefill.key);
    setText(prefill.text);
    setCaret(prefill.text.length);
  }

  useEffect(() => {
    if (focusRequest > 0) inputRef.current?.focus();
  }, [focusRequest]);

  useEffect(() => {
    if (prefilled !== undefined) inputRef.current?.focus();
  }, [prefilled]);

  const mention = workspace === null ? null : mentionAt(text, caret);
  const mentionOpen = mention !== null && dismissed !== mention.start;
  const files = useQuery({
    ...allFilesQueryOptions(workspace ?? ''),
    enabled: mentionOpen && workspace !== null,
  });
  const matches = mentionOpen && files.data ? fuzzyFilter(mention.query, files.data.paths, 8) : [];
  const active = Math.min(highlight, Math.max(0, matches.length - 1));
  const attached = mentionsInText(text, mentions);

  const choose = (path: string) => {
    if (!mention) return;
    const next = insertMention(text, mention, caret, path);
    setText(next.text);
    setCaret(next.caret);
    setMentions((current) => (current.includes(path) ? current : [...current, path]));
    setHighlight(0);
    requestAnimationFrame(() => {
      inputRef.current?.focus();
      inputRef.current?.setSelectionRange(next.caret, next.caret);
    });
  };

  const send = async () => {
    const message = text.trim();
    if (!message || (streaming && !steer) || sending || disabled) return;
    if (await onSend(message, buildContext(chips, off, attached))) {
      setText('');
      setCaret(0);
      setMentions([]);
    }
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (mentionOpen && matches.length > 0) {
      if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
        event.preventDefault();
        const step = event.key === 'ArrowDown' ? 1 : -1;
        setHighlight((active + step + matches.length) % matches.length);
        return;
      }
      if (event.key === 'Enter' || event.key === 'Tab') {
        event.preventDefault();
        choose(matches[active]!.path);
        return;
      }
      if (event.key === 'Escape') {
        event.preventDefault();
        setDismissed(mention.start);
        return;
      }
    }
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      void send();
    }
  };

  const toggle = (kind: ChipKind) =>
    setOff((current) => {
      const next = new Set(current);
      if (next.has(kind)) next.delete(kind);
      else next.add(kind);
      return next;
    });

  return (
    <div className="shrink-0 space-y-2 border-t border-line bg-surface p-2">
      {chips.length > 0 || attached.length > 0 ? (
        <div role="group" aria-label="Context" className="flex flex-wrap gap-1">
          {chips.map((chip) => (
            <button
              key={chip.kind}
              type="button"
              aria-pressed={!off.has(chip.kind)}
              title={
                off.has(chip.kind)
                  ? 'Not attached: click to attach'
                  : 'Attached: click to leave out'
              }
              onClick={() => toggle(chip.kind)}
              className="max-w-56 truncate rounded border border-line px-1.5 py-0.5 text-[11px] text-muted line-through hover:text-fg aria-pressed:border-accent/40 aria-pressed:bg-accent-soft aria-pressed:text-accent aria-pressed:no-underline"
            >
              {chip.label}
            </button>
          ))}
          {attached.map((path) => (
            <span
              key={path}
              className="inline-flex max-w-56 items-center gap-1 rounded border border-accent/40 bg-accent-soft px-1.5 py-0.5 text-[11px] text-accent"
            >
              <span className="truncate">@{path}</span>
              <button
                type="button"
                aria-label={`Remove ${path}`}
                onClick={() => setMentions((current) => current.filter((item) => item !== path))}
              >
                <CloseIcon className="size-3" />
              </button>
            </span>
          ))}
        </div>
      ) : null}
      <div className="relative">
        {mentionOpen && matches.length > 0 ? (
          <ul
            role="listbox"
            aria-label="Files"
            className="absolute right-0 bottom-full left-0 z-20 mb-1 max-h-56 overflow-auto rounded-md border border-line bg-surface py-1 shadow-lg"
          >
            {matches.map((match, index) => (
              <li
                key={match.path}
                role="option"
                aria-selected={index === active}
                onMouseDown={(event) => {
                  event.preventDefault();
                  choose(match.path);
                }}
                className="cursor-pointer truncate px-2 py-1 font-mono text-[12px] text-fg aria-selected:bg-accent-soft"
              >
                {match.path}
              </li>
            ))}
          </ul>
        ) : null}
        <textarea
          ref={inputRef}
          aria-label={label}
          placeholder={
            steer && streaming
              ? 'Tell the agent something; it reads it at its next step…'
              : (placeholder ??
                (mode === 'agent'
                  ? 'Ask the agent to do something… (@ to attach a file)'
                  : 'Ask about this workspace… (@ to attach a file)'))
          }
          value={text}
          rows={3}
          onChange={(event) => {
            setText(event.target.value);
            setCaret(event.target.selectionStart);
            setHighlight(0);
          }}
          onSelect={(event) => setCaret(event.currentTarget.selectionStart)}
          onKeyDown={onKeyDown}
          className="block w-full resize-none rounded-md border border-line bg-canvas px-2.5 py-2 text-[13px] text-fg placeholder:text-muted focus:border-accent focus:outline-none"
        />
      </div>
      <div className="flex items-center gap-2">
        {onModeChange ? (
          <div role="group" aria-label="Mode" className="flex rounded-md border border-line p-0.5">
            {(['chat', 'agent'] as const).map((value) => (
              <button
                key={value}
                type="button"
                aria-pressed={mode === value}
                onClick={() => onModeChange(value)}
                className="rounded px-2 py-0.5 text-[12px] font-medium text-muted hover:text-fg aria-pressed:bg-accent-soft aria-pressed:text-accent"
              >
                {value === 'chat' ? 'Chat' : 'Agent'}
              </button>
            ))}
          </div>
        ) : null}
        <span className="ml-auto text-[11px] text-muted">
          {/* Three buttons leave no room for the hint in a narrow panel. */}
          {streaming && steer ? null : 'Shift+Enter for a new line'}
        </span>
        {streaming && steer ? (
          <Button size="sm" onClick={steer.onPauseOrResume}>
            {steer.paused ? 'Resume' : 'Pause'}
          </Button>
        ) : null}
        {streaming ? (
          <Button size="sm" variant="danger" onClick={onStop}>
            Stop
          </Button>
        ) : null}
        {/* A steerable run takes messages while it works; any other waits for its end. */}
        {!streaming || steer ? (
          <Button
            size="sm"
            variant="primary"
            pending={sending}
            disabled={disabled || !text.trim()}
            onClick={() => void send()}
          >
            Send
          </Button>
        ) : null}
      </div>
    </div>
  );
}
