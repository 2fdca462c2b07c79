import type { MessagePart, ToolCallStatus } from '@studio/protocol';
import { useState, type ReactNode } from 'react';
import { Badge, type BadgeTone } from '../../components/Badge.tsx';
import { ChevronDownIcon } from '../../components/icons.tsx';
import { Spinner } from '../../components/Spinner.tsx';
import { toolSummary } from './format.ts';

const STATUS: Record<ToolCallStatus, { label: string; tone: BadgeTone }> = {
  running: { label: 'Running', tone: 'accent' },
  awaiting_approval: { label: 'Needs approval', tone: 'warning' },
  done: { label: 'Done', tone: 'success' },
  error: { label: 'Failed', tone: 'danger' },
  denied: { label: 'Denied', tone: 'neutral' },
};

/** One tool call of an agent run: the tool, what it acts on, its status and its output. */
export function ToolCard({
  part,
  children,
}: {
  part: Extract<MessagePart, { type: 'tool' }>;
  /** The approval card, while the call waits for one. */
  children?: ReactNode;
}) {
  const running = part.status === 'running';
  const [open, setOpen] = useState(false);
  const summary = toolSummary(part.tool, part.input);
  const status = STATUS[part.status];
  const output = part.error ?? part.output;
  // A command's output is shown live while it runs; finished output folds away.
  const showOutput = output !== undefined && output !== '' && (running || open);

  return (
    <div
      data-tool={part.tool}
      data-status={part.status}
      className="my-1.5 rounded-md border border-line bg-surface text-[12px]"
    >
      <button
        type="button"
        aria-expanded={showOutput}
        disabled={!output || running}
        onClick={() => setOpen((value) => !value)}
        className="flex w-full min-w-0 items-center gap-2 px-2 py-1.5 text-left disabled:cursor-default"
      >
        {running ? <Spinner className="size-3 shrink-0 text-accent" /> : null}
        <span className="shrink-0 font-mono font-medium text-fg">{part.tool}</span>
        <span className="min-w-0 flex-1 truncate font-mono text-muted" title={summary}>
          {summary}
        </span>
        <Badge tone={status.tone}>{status.label}</Badge>
        {output && !running ? (
          <ChevronDownIcon
            className={`size-3.5 shrink-0 text-muted transition-transform ${open ? 'rotate-180' : ''}`}
          />
        ) : null}
      </button>
      {part.decision?.reason ? (
        <p className="px-2 pb-1.5 text-muted">Reason: {part.decision.reason}</p>
      ) : null}
      {showOutput ? (
        <pre
          aria-label={`${part.tool} output`}
          className={`max-h-60 overflow-auto border-t border-line px-2 py-1.5 font-mono text-[11px] leading-4 whitespace-pre-wrap ${
            part.error ? 'text-danger' : 'text-fg'
          }`}
        >
          {output}
        </pre>
      ) : null}
      {children ? <div className="border-t border-line p-2">{children}</div> : null}
    </div>
  );
}
