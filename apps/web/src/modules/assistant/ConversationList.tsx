import type { Conversation } from '@studio/protocol';
import { useState } from 'react';
import { formatDate } from '../../components/format-date.ts';

/** The workspace's conversations, newest first: pick, rename inline, delete. */
export function ConversationList({
  conversations,
  selected,
  onSelect,
  onRename,
  onDelete,
}: {
  conversations: Conversation[];
  selected: string | null;
  onSelect: (id: string) => void;
  onRename: (id: string, title: string) => void;
  onDelete: (conversation: Conversation) => void;
}) {
  const [editing, setEditing] = useState<string | null>(null);
  const [draft, setDraft] = useState('');

  if (conversations.length === 0) {
    return <p className="p-4 text-center text-[13px] text-muted">No conversations yet.</p>;
  }
  return (
    <ul aria-label="Conversations" className="divide-y divide-line">
      {conversations.map((conversation) => (
        <li
          key={conversation.id}
          className={`group flex items-center gap-1 px-2 py-1.5 ${
            conversation.id === selected ? 'bg-accent-soft/60' : 'hover:bg-subtle'
          }`}
        >
          {editing === conversation.id ? (
            <input
              autoFocus
              aria-label="Conversation title"
              value={draft}
              onChange={(event) => setDraft(event.target.value)}
              onBlur={() => setEditing(null)}
              onKeyDown={(event) => {
                if (event.key === 'Enter') {
                  const title = draft.trim();
                  if (title && title !== conversation.title) onRename(conversation.id, title);
                  setEditing(null);
                } else if (event.key === 'Escape') {
                  event.preventDefault();
                  setEditing(null);
                }
              }}
              className="h-7 min-w-0 flex-1 rounded border border-accent bg-surface px-1.5 text-[13px] text-fg"
            />
          ) : (
            <button
              type="button"
              aria-current={conversation.id === selected || undefined}
              onClick={() => onSelect(conversation.id)}
              className="min-w-0 flex-1 text-left"
            >
              <span className="block truncate text-[13px] text-fg">
                {conversation.activeRunId ? '● ' : ''}
                {conversation.title}
              </span>
              <span className="block text-[11px] text-muted">
                {formatDate(conversation.updatedAt)}
              </span>
            </button>
          )}
          {editing === conversation.id ? null : (
            <>
              <button
                type="button"
                aria-label={`Rename ${conversation.title}`}
                onClick={() => {
                  setDraft(conversation.title);
                  setEditing(conversation.id);
                }}
                className="rounded px-1.5 py-0.5 text-[11px] text-muted opacity-0 group-focus-within:opacity-100 group-hover:opacity-100 hover:bg-line/60 hover:text-fg"
              >
                Rename
              </button>
              <button
                type="button"
                aria-label={`Delete ${conversation.title}`}
                onClick={() => onDelete(conversation)}
                className="rounded px-1.5 py-0.5 text-[11px] text-danger opacity-0 group-focus-within:opacity-100 group-hover:opacity-100 hover:bg-danger-soft"
              >
                Delete
              </button>
            </>
          )}
        </li>
      ))}
    </ul>
  );
}
