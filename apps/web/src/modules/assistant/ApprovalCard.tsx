import { useState } from 'react';
import { Alert } from '../../components/Alert.tsx';
import { Button } from '../../components/Button.tsx';
import { diffLineKind } from './format.ts';
import type { PendingApproval } from './run-state.ts';

const DIFF_CLASSES = {
  add: 'bg-success-soft text-success',
  remove: 'bg-danger-soft text-danger',
  hunk: 'text-accent',
  meta: 'text-muted',
  context: 'text-fg',
};

/** A unified diff with its added and removed lines coloured. */
export function UnifiedDiff({ diff }: { diff: string }) {
  return (
    <pre className="max-h-72 overflow-auto rounded border border-line bg-surface py-1 font-mono text-[11px] leading-4">
      {diff.split('\n').map((line, index) => (
        <div key={index} className={`px-2 whitespace-pre ${DIFF_CLASSES[diffLineKind(line)]}`}>
          {line || ' '}
        </div>
      ))}
    </pre>
  );
}

/** The person's answer to an approval card. */
export interface ApprovalAnswer {
  decision: 'approve' | 'deny';
  reason?: string;
  input?: unknown;
  remember: boolean;
}

/**
 * What the agent wants to do, exactly (the command, editable; or the diff), and the person's
 * answer. Ctrl/Cmd+Enter anywhere in the card approves.
 */
export function ApprovalCard({
  approval,
  pending,
  error,
  onAnswer,
  inWorkspace = true,
}: {
  approval: PendingApproval;
  pending: boolean;
  error: string | null;
  onAnswer: (answer: ApprovalAnswer) => void;
  /** "Always allow" then makes a rule for this workspace; otherwise one for everywhere. */
  inWorkspace?: boolean;
}) {
  const { detail, tool, input } = approval;
  const [command, setCommand] = useState(detail.command ?? '');
  const [denying, setDenying] = useState(false);
  const [reason, setReason] = useState('');
  const [remember, setRemember] = useState(false);

  const approve = () => {
    const edited = detail.command !== undefined && command !== detail.command;
    onAnswer({
      decision: 'approve',
      remember,
      // Edit-then-approve: the model's input with the command the person wrote.
      input:
        edited && tool === 'run_command'
          ? { ...(typeof input === 'object' && input !== null ? input : {}), command }
          : undefined,
    });
  };
  const deny = () => {
    // "Always allow" is about approving; a denial is never remembered from here.
    onAnswer({ decision: 'deny', remember: false, reason: reason.trim() || undefined });
  };

  return (
    <div
      role="group"
      aria-label="Approval needed"
      // Focusable, so Ctrl/Cmd+Enter works after a click anywhere on the card.
      tabIndex={-1}
      className="space-y-2 rounded-md border border-warning/40 bg-warning-soft/60 p-2.5"
      onKeyDown={(event) => {
        if (event.key === 'Enter' && (event.ctrlKey || event.metaKey) && !pending) {
          event.preventDefault();
          approve();
        }
      }}
    >
      <p className="text-[12px] font-medium text-fg">{detail.summary}</p>
      {detail.command !== undefined ? (
        <textarea
          aria-label="Command to run"
          value={command}
          onChange={(event) => setCommand(event.target.value)}
          // Long commands wrap: a few rows, so the whole command is in view before approving.
          rows={Math.min(8, Math.max(command.split('\n').length, Math.ceil(command.length / 34)))}
          spellCheck={false}
          className="w-full resize-y rounded border border-line bg-surface px-2 py-1 font-mono text-[12px] text-fg"
        />
      ) : null}
      {detail.path && detail.command === undefined ? (
        <p className="font-mono text-[12px] text-muted">{detail.path}</p>
      ) : null}
      {detail.url ? (
        <p className="font-mono text-[12px] break-all text-muted">{detail.url}</p>
      ) : null}
      {detail.diff ? <UnifiedDiff diff={detail.diff} /> : null}
      {denying ? (
        <input
          aria-label="Reason for denying (optional)"
          placeholder="Why not? (optional, shown to the model)"
          value={reason}
          onChange={(event) => setReason(event.target.value)}
          onKeyDown={(event) => {
            if (event.key === 'Enter' && !event.ctrlKey && !event.metaKey) {
              event.preventDefault();
              deny();
            }
          }}
          className="h-8 w-full rounded border border-line bg-surface px-2 text-[12px] text-fg"
        />
      ) : null}
      <label className="flex items-center gap-2 text-[12px] text-fg">
        <input
          type="checkbox"
          checked={remember}
          onChange={(event) => setRemember(event.target.checked)}
        />
        {inWorkspace ? 'Always allow this in this workspace' : 'Always allow this'}
      </label>
      {error ? <Alert tone="error">{error}</Alert> : null}
      <div className="flex gap-2">
        <Button size="sm" variant="primary" pending={pending} onClick={approve}>
          Approve
        </Button>
        <Button
          size="sm"
          variant="danger"
          disabled={pending}
          onClick={() => (denying ? deny() : setDenying(true))}
        >
          {denying ? 'Deny' : 'Deny…'}
        </Button>
      </div>
    </div>
  );
}
