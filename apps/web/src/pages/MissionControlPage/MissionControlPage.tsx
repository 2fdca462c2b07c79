import type { Mission, RunEvent } from '@studio/protocol';
import { useQuery, useQueryClient, type UseQueryResult } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { hasCode } from '../../api/http.ts';
import {
  deployedMissionId,
  missionQueryKeys,
  missionQueryOptions,
  missionsQueryOptions,
} from '../../api/missions.ts';
import { Alert } from '../../components/Alert.tsx';
import { Loading } from '../../components/Spinner.tsx';
import { useDocumentTitle } from '../../components/use-document-title.ts';
import AssistantPanel from '../../modules/assistant/AssistantPanel.tsx';
import { firstLine } from './mission-status.ts';
import { MissionList } from './MissionList.tsx';
import { MissionView } from './MissionView.tsx';

/** Prompts the empty page offers, to show what a mission can be. */
const EXAMPLES = [
  'Compare the prices of the three best-selling 14-inch laptops in three online shops and put them in a spreadsheet.',
  'Find five open-source alternatives to Trello, try the demo of each, and write a short comparison to comparison.md.',
];

// The main agent's tools that change missions; after each, the list is asked for again.
const MISSION_TOOLS = new Set(['deploy_environment', 'stop_environment', 'get_status']);

/** Ctrl/Cmd+Alt+I, as in the IDE. `code`, not `key`: on a Mac, Alt+I types "ˆ". */
function isChatShortcut(event: KeyboardEvent): boolean {
  return (
    (event.ctrlKey || event.metaKey) && event.altKey && !event.shiftKey && event.code === 'KeyI'
  );
}

/** Run `onPress` on the chat shortcut; the capture phase takes it before the desktop viewer. */
function useChatShortcut(onPress: () => void) {
  const onPressRef = useRef(onPress);
  useEffect(() => {
    onPressRef.current = onPress;
  });
  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent) => {
      if (!isChatShortcut(event)) return;
      event.preventDefault();
      event.stopPropagation();
      if (!event.repeat) onPressRef.current();
    };
    window.addEventListener('keydown', onKeyDown, true);
    return () => window.removeEventListener('keydown', onKeyDown, true);
  }, []);
}

function EmptyMissions({ onExample }: { onExample: (text: string) => void }) {
  return (
    <div className="flex flex-1 flex-col items-center justify-center p-8 text-center">
      <p className="text-base font-semibold text-fg">No missions yet</p>
      <p className="mt-2 max-w-lg text-sm text-muted">
        Tell the main agent what you need. It deploys an environment, usually a Linux desktop, and
        hands your requirement to a worker agent that does it there. You watch its screen and its
        chat here, and can step in at any time.
      </p>
      <p className="mt-5 text-[13px] font-medium text-fg">Try one:</p>
      <ul className="mt-2 flex max-w-lg flex-col gap-2">
        {EXAMPLES.map((example) => (
          <li key={example}>
            <button
              type="button"
              onClick={() => onExample(example)}
              className="w-full rounded-lg border border-line bg-surface px-3 py-2 text-left text-[13px] text-fg shadow-xs hover:border-accent/50 hover:bg-accent-soft/40"
            >
              {example}
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** The centre: the selected mission, or why it cannot show. */
function SelectedMission({ mission }: { mission: UseQueryResult<Mission> }) {
  if (mission.data) return <MissionView mission={mission.data} />;
  if (mission.isError) {
    return (
      <div className="p-4">
        <Alert
          tone="error"
          title={hasCode(mission.error, 'not_found') ? 'No such mission' : undefined}
        >
          {hasCode(mission.error, 'not_found') ? (
            <>
              It may have been deleted.{' '}
              <Link to="/missions" className="font-medium text-accent underline">
                Show the newest mission
              </Link>
            </>
          ) : (
            mission.error.message
          )}
        </Alert>
      </div>
    );
  }
  return (
    <div className="p-4">
      <Loading label="Loading the mission…" />
    </div>
  );
}

/** The right column: the worker's chat in the mission's workspace, steerable while it runs. */
function WorkerChat({ mission }: { mission: Mission | undefined }) {
  if (!mission) {
    return (
      <aside aria-label="Worker" className="flex h-full items-center justify-center p-6">
        <p className="text-center text-[13px] text-muted">
          The worker agent of the selected mission shows here.
        </p>
      </aside>
    );
  }
  return (
    <AssistantPanel
      // A new mission is a new worker: nothing carries over (pause, notes, errors).
      key={mission.id}
      workspace={mission.workspace}
      conversationId={mission.workerConversationId}
      runId={mission.workerRunId}
      steer
      title="Worker"
      emptyHint={
        <>
          <p className="font-medium text-fg">
            {mission.workerConversationId ? 'The worker is starting' : 'No worker yet'}
          </p>
          <p className="mt-1">
            {mission.status === 'failed' || mission.status === 'stopped'
              ? 'This mission ended before a worker started.'
              : 'It starts on your requirement once the environment is ready. You can message it while it works, pause it or stop it.'}
          </p>
        </>
      }
    />
  );
}

/**
 * `/missions` and `/missions/:id`: the main agent's chat and the missions left, the selected
 * mission (its deployment, then its desktop) in the centre, its worker's chat right.
 */
export function MissionControlPage() {
  const { id } = useParams();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const missions = useQuery(missionsQueryOptions());
  const [focusRequest, setFocusRequest] = useState(0);
  const [prefill, setPrefill] = useState<{ text: string; key: number } | undefined>();
  // Calls of the main agent's mission tools in the followed run, by call id.
  const toolCalls = useRef(new Map<string, string>());

  const selectedId = id ?? missions.data?.[0]?.id ?? null;
  const listed = missions.data?.find((mission) => mission.id === selectedId);
  // Polled while shown (fast while it deploys); the list's copy shows until the first answer.
  const selected = useQuery({
    ...missionQueryOptions(selectedId ?? ''),
    enabled: selectedId !== null,
    placeholderData: listed,
  });
  const mission = selectedId === null ? undefined : selected.data;
  useDocumentTitle(mission ? `${firstLine(mission.requirement)} · Missions` : 'Mission control');

  useChatShortcut(() => setFocusRequest((count) => count + 1));

  // After the main agent deployed, show the new mission; after its other mission tools, refresh.
  const onMainRunEvent = (event: RunEvent) => {
    if (event.type === 'tool-call' || event.type === 'approval') {
      if (MISSION_TOOLS.has(event.tool)) toolCalls.current.set(event.callId, event.tool);
      return;
    }
    if (event.type !== 'tool-result') return;
    const tool = toolCalls.current.get(event.callId);
    if (tool === undefined) return;
    toolCalls.current.delete(event.callId);
    if (tool !== 'deploy_environment' || event.status !== 'done') {
      void queryClient.invalidateQueries({ queryKey: missionQueryKeys.all() });
      return;
    }
    void queryClient.fetchQuery({ ...missionsQueryOptions(), staleTime: 0 }).then(
      (list) => {
        const deployed = deployedMissionId(event.output, list);
        if (deployed) void navigate(`/missions/${encodeURIComponent(deployed)}`);
      },
      () => {},
    );
  };

  return (
    // Wide: exactly the window below the header (3.5rem and its 1px border), each column scrolls.
    <div className="flex flex-col xl:h-[calc(100dvh-3.5rem-1px)] xl:flex-row">
      <h1 className="sr-only">Mission control</h1>
      <div className="flex h-[80dvh] min-h-0 flex-col border-b border-line xl:h-auto xl:w-[380px] xl:shrink-0 xl:border-r xl:border-b-0">
        {missions.isError ? (
          <div className="p-2">
            <Alert tone="error">{missions.error.message}</Alert>
          </div>
        ) : missions.data ? (
          <MissionList missions={missions.data} selected={selectedId} />
        ) : null}
        <div className="min-h-0 flex-1">
          <AssistantPanel
            workspace={null}
            title="Main agent"
            focusRequest={focusRequest}
            prefill={prefill}
            onRunEvent={onMainRunEvent}
            emptyHint={
              <>
                <p className="font-medium text-fg">What should be done?</p>
                <p className="mt-1">
                  The main agent deploys an environment for it and puts a worker agent on it, asking
                  you before it deploys.
                </p>
              </>
            }
          />
        </div>
      </div>

      <section
        aria-label="Mission"
        className="flex min-h-[70dvh] min-w-0 flex-1 flex-col bg-canvas xl:min-h-0"
      >
        {missions.isPending && id === undefined ? (
          <div className="p-4">
            <Loading label="Loading missions…" />
          </div>
        ) : selectedId === null ? (
          <EmptyMissions onExample={(text) => setPrefill({ text, key: Date.now() })} />
        ) : (
          <SelectedMission mission={selected} />
        )}
      </section>

      <div className="h-[80dvh] min-h-0 border-t border-line xl:h-auto xl:w-[380px] xl:shrink-0 xl:border-t-0 xl:border-l">
        <WorkerChat mission={mission} />
      </div>
    </div>
  );
}
