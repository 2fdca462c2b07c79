import type {
  AiMode,
  ChatMessage,
  ContextItem,
  Conversation,
  MessagePart,
  RunEvent,
} from '@studio/protocol';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import {
  lazy,
  Suspense,
  useEffect,
  useMemo,
  useRef,
  useState,
  useSyncExternalStore,
  type ReactNode,
} from 'react';
import { Link } from 'react-router';
import {
  aiQueryKeys,
  aiSettingsQueryOptions,
  answerApproval,
  conversationQueryOptions,
  conversationsQueryOptions,
  createConversation,
  deleteConversation,
  followRun,
  pauseRun,
  renameConversation,
  resumeRun,
  sendMessage,
  sendRunMessage,
  stopRun,
  type ConversationScope,
} from '../../api/ai.ts';
import { hasCode } from '../../api/http.ts';
import { Alert } from '../../components/Alert.tsx';
import { ConfirmDialog } from '../../components/ConfirmDialog.tsx';
import { ChevronDownIcon, PlusIcon } from '../../components/icons.tsx';
import { IconButton } from '../../components/IconButton.tsx';
import { Loading } from '../../components/Spinner.tsx';
import { useToast } from '../../components/Toaster.tsx';
import type { EditorBridge, QuickAction } from '../ide/editor/use-open-files.ts';
import { applySnippet, placeSnippet } from './place-snippet.ts';
import type { ApprovalAnswer } from './ApprovalCard.tsx';
import { Composer } from './Composer.tsx';
import { editorChips, terminalChips } from './context.ts';
import { ConversationList } from './ConversationList.tsx';
import { EditorActionsContext, type EditorActions } from './editor-actions.ts';
import { QUICK_ACTION_PROMPTS, quickActionContext, titleFrom } from './format.ts';
import { MessageView } from './MessageView.tsx';
import { applyRunEvent, initialRunState, mergeTranscript, type RunState } from './run-state.ts';

// Monaco's diff editor is heavy: it loads when a reply's code is first applied.
const ApplyDiffDialog = lazy(() => import('./ApplyDiffDialog.tsx'));

const storage = typeof window === 'undefined' ? undefined : window.localStorage;

/** Chat or Agent, remembered per workspace (a reload keeps the mode the person works in). */
function useRememberedMode(workspace: ConversationScope) {
  const key = `studio.assistant.mode.${workspace ?? ''}`;
  const [mode, setMode] = useState<AiMode>(() => {
    try {
      return storage?.getItem(key) === 'agent' ? 'agent' : 'chat';
    } catch {
      return 'chat';
    }
  });
  const remember = (next: AiMode) => {
    setMode(next);
    try {
      storage?.setItem(key, next);
    } catch {
      // Private mode or a full quota: the choice lasts until the page closes.
    }
  };
  return [mode, remember] as const;
}

/** The conversation shown, remembered per workspace (and for the main agent). */
function useSelectedConversation(workspace: ConversationScope) {
  const key =
    workspace === null
      ? 'studio.main-agent.conversation'
      : `studio.assistant.conversation.${workspace}`;
  const [id, setId] = useState<string | null>(() => {
    try {
      return storage?.getItem(key) ?? null;
    } catch {
      return null;
    }
  });
  const select = (next: string | null) => {
    setId(next);
    try {
      if (next === null) storage?.removeItem(key);
      else storage?.setItem(key, next);
    } catch {
      // Storage blocked: the panel opens on no conversation after a reload.
    }
  };
  return [id, select] as const;
}

/** A message this panel sent, and the run answering it. */
interface Sent {
  conversationId: string;
  runId: string;
  userMessage: ChatMessage;
  mode: AiMode;
}

/** A note sent to a running agent, shown until the run's transcript has it. */
interface Note {
  key: number;
  runId: string;
  text: string;
}

/** True when the run's parts hold the note `text`: the server has handed it to the agent. */
function hasNote(parts: MessagePart[], text: string): boolean {
  return parts.some((part) => part.type === 'user-note' && part.text === text);
}

// Without an editor (Mission control), the chips read from nothing.
const noSubscribe = () => () => {};
const noValue = () => null;
const NO_TABS: string[] = [];

interface Proposal {
  path: string;
  language: string;
  current: string;
  proposed: string;
}

/** Options of the assistant panel; without the optional ones it is the IDE's assistant. */
export interface AssistantPanelProps {
  /**
   * Whose conversations: a workspace's name, or `null` for the main agent's (Mission control),
   * which always runs in Agent mode.
   */
  workspace: ConversationScope;
  /** The IDE's open tabs, for the context chips. */
  tabs?: string[];
  /**
   * The editor and the shown terminal, as the chips above the input offer them. Without it there
   * are no chips, no quick actions and no "Insert at cursor" or "Apply to file".
   */
  editor?: EditorBridge;
  /** Focus the input whenever this changes: the page's keyboard shortcut. */
  focusRequest?: number;
  /**
   * Show only this conversation, in Agent mode, without the list or "New conversation" (the
   * worker of a mission); `null` while it does not exist yet. Absent: the person picks.
   */
  conversationId?: string | null;
  /** The run the server says is going there; a new one reloads the conversation to attach to it. */
  runId?: string | null;
  /**
   * While a run goes, the input stays open and sends notes the agent reads at its next step, and
   * Pause/Resume shows beside Stop.
   */
  steer?: boolean;
  /** Who the person talks to, in labels ("Assistant", "Main agent", "Worker"). */
  title?: string;
  /** Shown while the conversation is empty. */
  emptyHint?: ReactNode;
  /** Every event of the run being followed, after the panel took it in. */
  onRunEvent?: (event: RunEvent) => void;
  /** Put `text` into the input and focus it; a new `key` puts it again. */
  prefill?: { text: string; key: number };
}

/**
 * The assistant: a scope's conversations, the streamed replies and agent runs with their
 * approval cards, and the input (with context from the editor, when there is one).
 */
export default function AssistantPanel({
  workspace,
  tabs = NO_TABS,
  editor,
  focusRequest,
  conversationId,
  runId: serverRunId,
  steer = false,
  title = 'Assistant',
  emptyHint,
  onRunEvent,
  prefill,
}: AssistantPanelProps) {
  const queryClient = useQueryClient();
  const toast = useToast();
  const [selected, select] = useSelectedConversation(workspace);
  const [showList, setShowList] = useState(false);
  const [rememberedMode, setMode] = useRememberedMode(workspace);
  const forced = conversationId !== undefined;
  // The main agent and a mission's worker are agents; only the IDE offers Chat.
  const fixedMode = workspace === null || forced;
  const mode: AiMode = fixedMode ? 'agent' : rememberedMode;
  const [sending, setSending] = useState(false);
  const [sendError, setSendError] = useState<unknown>(null);
  const [sent, setSent] = useState<Sent | null>(null);
  const [runs, setRuns] = useState<Record<string, RunState>>({});
  const [answering, setAnswering] = useState<
    Record<string, { pending: boolean; error: string | null }>
  >({});
  const [deleting, setDeleting] = useState<Conversation | null>(null);
  const [proposal, setProposal] = useState<Proposal | null>(null);
  const [followError, setFollowError] = useState<string | null>(null);
  const [notes, setNotes] = useState<Note[]>([]);

  const settings = useQuery(aiSettingsQueryOptions());
  const conversations = useQuery({ ...conversationsQueryOptions(workspace), enabled: !forced });
  // A remembered conversation that was deleted elsewhere is forgotten.
  const currentId = forced
    ? conversationId
    : selected !== null && conversations.data?.some((item) => item.id === selected)
      ? selected
      : null;
  const detail = useQuery({
    ...conversationQueryOptions(workspace, currentId ?? ''),
    enabled: currentId !== null,
  });
  const current =
    conversations.data?.find((item) => item.id === currentId) ??
    (detail.data?.id === currentId ? detail.data : null) ??
    null;
  const snapshot = useSyncExternalStore(
    editor?.subscribe ?? noSubscribe,
    editor?.getSnapshot ?? noValue,
  );
  const terminal = useSyncExternalStore(
    editor?.subscribe ?? noSubscribe,
    editor?.getTerminal ?? noValue,
  );
  const chips = useMemo(
    () => (editor ? [...editorChips(snapshot, tabs), ...terminalChips(terminal)] : []),
    [editor, snapshot, tabs, terminal],
  );

  // The server started a run here (a mission's worker): reload to learn it and attach.
  useEffect(() => {
    if (!serverRunId || !currentId) return;
    void queryClient.invalidateQueries({
      queryKey: aiQueryKeys.conversation(workspace, currentId),
    });
  }, [serverRunId, currentId, workspace, queryClient]);

  // The run to follow: the one this panel started here, else the one a reload finds going.
  const mine = sent !== null && sent.conversationId === currentId ? sent : null;
  const followId = mine?.runId ?? (currentId ? (detail.data?.activeRunId ?? null) : null);
  const run = followId ? (runs[followId] ?? initialRunState(followId)) : null;
  const streaming = run !== null && !run.ended;
  const paused = streaming && run.paused;
  const onRunEventRef = useRef(onRunEvent);
  useEffect(() => {
    onRunEventRef.current = onRunEvent;
  });

  useEffect(() => {
    if (!followId || !currentId) return;
    const controller = new AbortController();
    void followRun(followId, {
      signal: controller.signal,
      onEvent: (event) => {
        setRuns((all) => ({
          ...all,
          [followId]: applyRunEvent(all[followId] ?? initialRunState(followId), event),
        }));
        if (event.type === 'end') {
          void queryClient.invalidateQueries({ queryKey: aiQueryKeys.conversations(workspace) });
        }
        onRunEventRef.current?.(event);
      },
      onError: (error) => setFollowError(error.message),
    });
    return () => controller.abort();
  }, [followId, currentId, workspace, queryClient]);

  const messages = mergeTranscript(
    detail.data?.messages ?? [],
    run && followId
      ? { run, userMessage: mine?.userMessage ?? null, mode: mine?.mode ?? mode }
      : null,
  );

  // Keep the newest text in view while it streams, unless the person scrolled up to read.
  const scrollRef = useRef<HTMLDivElement>(null);
  const stickRef = useRef(true);
  const lastPartsLength = JSON.stringify(messages.at(-1)?.parts ?? []).length;
  useEffect(() => {
    const element = scrollRef.current;
    if (element && stickRef.current) element.scrollTop = element.scrollHeight;
  }, [messages.length, lastPartsLength]);

  const notConfigured =
    hasCode(sendError, 'ai_not_configured') ||
    // The server lets either model serve both modes, so only having neither is "not set up".
    (settings.data !== undefined &&
      settings.data.effective.chat === null &&
      settings.data.effective.agent === null);

  const newConversation = async (title?: string) => {
    const conversation = await createConversation(workspace, title);
    queryClient.setQueryData<Conversation[]>(aiQueryKeys.conversations(workspace), (list) => [
      conversation,
      ...(list ?? []).filter((item) => item.id !== conversation.id),
    ]);
    select(conversation.id);
    return conversation;
  };

  const pendingNotes = notes.filter(
    (note) =>
      run !== null && note.runId === run.runId && !run.ended && !hasNote(run.parts, note.text),
  );

  const send = async (text: string, context: ContextItem[]): Promise<boolean> => {
    setSending(true);
    setSendError(null);
    setFollowError(null);
    try {
      if (steer && streaming && followId) {
        await sendRunMessage(followId, { text });
        stickRef.current = true;
        setNotes((all) => [...all, { key: Date.now(), runId: followId, text }]);
        return true;
      }
      if (forced && currentId === null) return false;
      const conversationId = currentId ?? (await newConversation(titleFrom(text))).id;
      const result = await sendMessage(workspace, conversationId, { text, mode, context });
      stickRef.current = true;
      setSent({ conversationId, runId: result.runId, userMessage: result.message, mode });
      void queryClient.invalidateQueries({ queryKey: aiQueryKeys.conversations(workspace) });
      return true;
    } catch (error) {
      setSendError(error);
      return false;
    } finally {
      setSending(false);
    }
  };

  // Editor quick actions arrive through the bridge; one sent before this panel loaded waits there.
  const quickActionRef = useRef<(action: QuickAction) => void>(() => {});
  useEffect(() => {
    quickActionRef.current = (action) => {
      if (streaming || sending) {
        toast('The assistant is still answering. Stop it or wait, then try again.', 'error');
        return;
      }
      void send(QUICK_ACTION_PROMPTS[action.kind], quickActionContext(action));
    };
  });
  useEffect(() => {
    if (!editor) return;
    const take = () => {
      const action = editor.takeQuickAction();
      if (action) quickActionRef.current(action);
    };
    take();
    return editor.onQuickAction(take);
  }, [editor]);

  const answer = (callId: string, value: ApprovalAnswer) => {
    if (!followId) return;
    setAnswering((all) => ({ ...all, [callId]: { pending: true, error: null } }));
    answerApproval(followId, callId, value).then(
      () => setAnswering((all) => ({ ...all, [callId]: { pending: true, error: null } })),
      (error: unknown) =>
        setAnswering((all) => ({
          ...all,
          [callId]: { pending: false, error: (error as Error).message },
        })),
    );
  };

  const stop = () => {
    if (!followId) return;
    stopRun(followId).catch((error: unknown) =>
      toast(`Could not stop the run: ${(error as Error).message}`, 'error'),
    );
  };

  const pauseOrResume = () => {
    if (!followId) return;
    const pausing = !paused;
    // The run's `paused` event updates the button, here and in every other tab following it.
    (pausing ? pauseRun(followId) : resumeRun(followId)).catch((error: unknown) =>
      toast(
        `Could not ${pausing ? 'pause' : 'resume'} the run: ${(error as Error).message}`,
        'error',
      ),
    );
  };

  const editorActions: EditorActions | null = editor
    ? {
        path: snapshot?.path ?? null,
        insert: (code) => editor.getEditor()?.insertAtCursor(code),
        propose: (code) => {
          const active = editor.getEditor();
          const view = editor.getSnapshot();
          if (!active || !view) return;
          const current = active.getValue();
          // The selection it was asked about, or the region it rewrites, else the whole file.
          const placement = placeSnippet(current, code, view.selection);
          setProposal({
            path: view.path,
            language: view.languageId,
            current,
            proposed: applySnippet(current, code, placement),
          });
        },
      }
    : null;

  const acceptProposal = () => {
    if (!proposal || !editor) return;
    if (editor.getSnapshot()?.path !== proposal.path) {
      toast(`Open ${proposal.path} in the editor to apply the change.`, 'error');
    } else {
      editor.getEditor()?.replaceContent(proposal.proposed);
    }
    setProposal(null);
  };

  const deletion = async () => {
    if (!deleting) return;
    try {
      await deleteConversation(workspace, deleting.id);
      if (deleting.id === currentId) select(null);
      queryClient.setQueryData<Conversation[]>(aiQueryKeys.conversations(workspace), (list) =>
        list?.filter((item) => item.id !== deleting.id),
      );
      queryClient.removeQueries({ queryKey: aiQueryKeys.conversation(workspace, deleting.id) });
    } catch (error) {
      toast(`Could not delete the conversation: ${(error as Error).message}`, 'error');
    }
    setDeleting(null);
  };

  const rename = (id: string, title: string) => {
    renameConversation(workspace, id, title).then(
      () => queryClient.invalidateQueries({ queryKey: aiQueryKeys.conversations(workspace) }),
      (error: unknown) =>
        toast(`Could not rename the conversation: ${(error as Error).message}`, 'error'),
    );
  };

  return (
    <aside aria-label={title} className="flex h-full min-h-0 flex-col bg-surface">
      <div className="flex h-9 shrink-0 items-center gap-1 border-b border-line bg-subtle/60 px-2">
        {forced ? (
          <p className="min-w-0 flex-1 truncate px-1.5 text-[13px] font-medium text-fg">
            {title}
            {current ? <span className="font-normal text-muted"> · {current.title}</span> : null}
          </p>
        ) : (
          <>
            <button
              type="button"
              aria-expanded={showList}
              onClick={() => setShowList((value) => !value)}
              className="flex min-w-0 flex-1 items-center gap-1 rounded px-1.5 py-1 text-left text-[13px] font-medium text-fg hover:bg-line/60"
            >
              <span className="truncate">{current?.title ?? title}</span>
              <ChevronDownIcon
                className={`size-3.5 shrink-0 text-muted ${showList ? 'rotate-180' : ''}`}
              />
              <span className="sr-only">Conversations</span>
            </button>
            <IconButton
              label="New conversation"
              onClick={() => {
                setShowList(false);
                newConversation().catch((error: unknown) =>
                  toast(`Could not start a conversation: ${(error as Error).message}`, 'error'),
                );
              }}
            >
              <PlusIcon className="size-4" />
            </IconButton>
          </>
        )}
      </div>

      {showList ? (
        <div className="max-h-[50%] shrink-0 overflow-auto border-b border-line">
          {conversations.isPending ? (
            <Loading label="Loading conversations…" />
          ) : conversations.isError ? (
            <div className="p-2">
              <Alert tone="error">{conversations.error.message}</Alert>
            </div>
          ) : (
            <ConversationList
              conversations={conversations.data}
              selected={currentId}
              onSelect={(id) => {
                select(id);
                setShowList(false);
              }}
              onRename={rename}
              onDelete={setDeleting}
            />
          )}
        </div>
      ) : null}

      <EditorActionsContext.Provider value={editorActions}>
        <div
          ref={scrollRef}
          onScroll={(event) => {
            const element = event.currentTarget;
            stickRef.current = element.scrollHeight - element.scrollTop - element.clientHeight < 40;
          }}
          className="min-h-0 flex-1 space-y-4 overflow-y-auto px-3 py-3"
        >
          {currentId && detail.isPending ? <Loading label="Loading the conversation…" /> : null}
          {detail.isError ? <Alert tone="error">{detail.error.message}</Alert> : null}
          {messages.length === 0 && !(currentId && detail.isPending) ? (
            <div className="px-2 py-8 text-center text-[13px] text-muted">
              {emptyHint ?? (
                <>
                  <p className="font-medium text-fg">Ask about this workspace</p>
                  <p className="mt-1">
                    Chat answers questions and reads files. Agent also edits files and runs
                    commands, asking you first.
                  </p>
                </>
              )}
            </div>
          ) : null}
          {messages.map((message, index) => {
            const live =
              index === messages.length - 1 && run !== null && message.role === 'assistant';
            return (
              <MessageView
                key={message.id}
                message={message}
                streaming={live && streaming}
                approvals={
                  live && run
                    ? {
                        approvals: run.approvals,
                        answering,
                        onAnswer: answer,
                        inWorkspace: workspace !== null,
                      }
                    : undefined
                }
              />
            );
          })}
          {pendingNotes.map((note) => (
            <div key={note.key} data-role="note" className="ml-8 flex flex-col items-end gap-1">
              <div className="rounded-lg rounded-br-sm border border-dashed border-accent/40 px-3 py-2 text-[13px] whitespace-pre-wrap text-fg">
                {note.text}
              </div>
              <span className="text-[11px] text-muted">Sent: read at the agent's next step</span>
            </div>
          ))}
          {followError ? <Alert tone="error">{followError}</Alert> : null}
        </div>
      </EditorActionsContext.Provider>

      {notConfigured ? (
        <div className="shrink-0 px-2 pt-2">
          <Alert
            tone="warning"
            title={`No model is set up for ${mode === 'chat' ? 'Chat' : 'Agent'}`}
          >
            <Link to="/settings#ai" className="font-medium text-accent underline">
              Add a provider in Settings → AI
            </Link>
          </Alert>
        </div>
      ) : sendError && !hasCode(sendError, 'ai_not_configured') ? (
        <div className="shrink-0 px-2 pt-2">
          <Alert tone="error">
            {hasCode(sendError, 'run_busy')
              ? 'The assistant is still answering in this conversation. Stop it or wait.'
              : (sendError as Error).message}
          </Alert>
        </div>
      ) : null}

      <Composer
        workspace={workspace}
        chips={chips}
        mode={mode}
        onModeChange={
          fixedMode
            ? undefined
            : (next) => {
                setMode(next);
                setSendError(null);
              }
        }
        streaming={streaming}
        sending={sending}
        disabled={notConfigured || (forced && currentId === null)}
        onSend={send}
        onStop={stop}
        steer={steer ? { paused, onPauseOrResume: pauseOrResume } : undefined}
        // Every input's name starts alike, so one query finds them all; the title tells them apart.
        label={
          title === 'Assistant'
            ? 'Message the assistant'
            : `Message the assistant (${title.toLowerCase()})`
        }
        placeholder={
          workspace === null ? 'Describe what you need done, e.g. a research task…' : undefined
        }
        focusRequest={focusRequest}
        prefill={prefill}
      />

      <ConfirmDialog
        open={deleting !== null}
        title={`Delete “${deleting?.title ?? ''}”?`}
        description="The conversation and its messages are deleted. A run still going in it stops."
        confirmLabel="Delete conversation"
        onConfirm={() => void deletion()}
        onClose={() => setDeleting(null)}
      />
      {proposal ? (
        <Suspense fallback={null}>
          <ApplyDiffDialog
            path={proposal.path}
            language={proposal.language}
            current={proposal.current}
            proposed={proposal.proposed}
            onAccept={acceptProposal}
            onClose={() => setProposal(null)}
          />
        </Suspense>
      ) : null}
    </aside>
  );
}
