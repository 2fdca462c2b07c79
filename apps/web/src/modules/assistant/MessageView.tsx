import type { ChatMessage, ContextItem } from '@studio/protocol';
import { Alert } from '../../components/Alert.tsx';
import { ApprovalCard, type ApprovalAnswer } from './ApprovalCard.tsx';
import { Markdown } from './Markdown.tsx';
import type { PendingApproval } from './run-state.ts';
import { ToolCard } from './ToolCard.tsx';

/** What a message's tool cards need from the live run to show approval cards. */
export interface ApprovalHandlers {
  approvals: Record<string, PendingApproval>;
  answering: Record<string, { pending: boolean; error: string | null }>;
  onAnswer: (callId: string, answer: ApprovalAnswer) => void;
  /** The run works in a workspace: "always allow" makes a rule for it alone. */
  inWorkspace: boolean;
}

function contextLabel(item: ContextItem): string {
  switch (item.kind) {
    case 'file':
      return item.path;
    case 'selection':
      return `${item.path}:${item.startLine}–${item.endLine}`;
    case 'tabs':
      return `${item.paths.length} tabs`;
    case 'terminal':
      return item.title;
    case 'diagnostics':
      return `${item.items.length} problems`;
  }
}

/** One message of the transcript: the person's as a bubble, the assistant's as its parts. */
export function MessageView({
  message,
  streaming,
  approvals,
}: {
  message: ChatMessage;
  streaming: boolean;
  approvals?: ApprovalHandlers;
}) {
  if (message.role === 'user') {
    const text = message.parts.map((part) => (part.type === 'text' ? part.text : '')).join('');
    return (
      <div data-role="user" className="ml-8 flex flex-col items-end gap-1">
        <div className="rounded-lg rounded-br-sm bg-accent-soft px-3 py-2 text-[13px] whitespace-pre-wrap text-fg">
          {text}
        </div>
        {message.context.length > 0 ? (
          <div className="flex flex-wrap justify-end gap-1">
            {message.context.map((item, index) => (
              <span
                key={index}
                className="max-w-48 truncate rounded border border-line px-1.5 text-[11px] text-muted"
              >
                {contextLabel(item)}
              </span>
            ))}
          </div>
        ) : null}
      </div>
    );
  }
  return (
    <div data-role="assistant" aria-busy={streaming || undefined} className="min-w-0">
      {message.parts.map((part, index) => {
        if (part.type === 'text') return <Markdown key={index} text={part.text} />;
        if (part.type === 'user-note') {
          return (
            <div key={index} data-role="user-note" className="my-2 ml-8 flex justify-end">
              <div className="rounded-lg rounded-br-sm bg-accent-soft px-3 py-1.5 text-[12px] whitespace-pre-wrap text-fg">
                <span className="text-muted">You (during the run): </span>
                {part.text}
              </div>
            </div>
          );
        }
        if (part.type === 'notice') {
          return (
            <Alert key={index} tone={part.level === 'error' ? 'error' : 'info'} className="my-2">
              {part.message}
            </Alert>
          );
        }
        const approval =
          part.status === 'awaiting_approval' ? approvals?.approvals[part.callId] : undefined;
        const answering = approvals?.answering[part.callId];
        return (
          <ToolCard key={part.callId} part={part}>
            {approval && approvals ? (
              <ApprovalCard
                approval={approval}
                pending={answering?.pending ?? false}
                error={answering?.error ?? null}
                onAnswer={(answer) => approvals.onAnswer(part.callId, answer)}
                inWorkspace={approvals.inWorkspace}
              />
            ) : null}
          </ToolCard>
        );
      })}
      {streaming && message.parts.length === 0 ? (
        <p className="animate-pulse text-[13px] text-muted">Thinking…</p>
      ) : null}
    </div>
  );
}
