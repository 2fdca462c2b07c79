import type { Mission } from '@studio/protocol';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { lazy, Suspense, useRef, useState } from 'react';
import { useNavigate } from 'react-router';
import { pauseRun, resumeRun, sendRunMessage } from '../../api/ai.ts';
import { hasCode } from '../../api/http.ts';
import {
  deleteMission,
  isDeploying,
  missionQueryKeys,
  stopMission,
  updateMission,
} from '../../api/missions.ts';
import { Alert } from '../../components/Alert.tsx';
import { Button, buttonClasses } from '../../components/Button.tsx';
import { ConfirmDialog } from '../../components/ConfirmDialog.tsx';
import { formatDateTime } from '../../components/format-date.ts';
import { ExternalLinkIcon } from '../../components/icons.tsx';
import { Loading, Spinner } from '../../components/Spinner.tsx';
import { useToast } from '../../components/Toaster.tsx';
import { useNow } from '../../components/use-now.ts';
import { extendedTtl, formatTimeLeft } from './mission-status.ts';
import { MissionSteps } from './MissionSteps.tsx';

// noVNC comes with the viewer, and only once a desktop mission is ready.
const DesktopViewer = lazy(() =>
  import('../../modules/desktop/DesktopViewer.tsx').then((m) => ({ default: m.DesktopViewer })),
);

/** The IDE page of a mission's workspace (the router's `/w/:name`). */
function idePath(mission: Mission): string {
  return `/w/${encodeURIComponent(mission.workspace)}`;
}

function OpenInIde({ mission, primary = false }: { mission: Mission; primary?: boolean }) {
  return (
    // A new tab, so the mission (and its desktop connection) stays open here.
    <a
      href={idePath(mission)}
      target="_blank"
      rel="noopener"
      className={buttonClasses(primary ? 'primary' : 'secondary', primary ? 'md' : 'sm')}
    >
      Open in IDE
      <ExternalLinkIcon className="size-3.5" />
    </a>
  );
}

/** The time-to-live: a countdown with "Keep" and "+30 min", or that it is kept. */
function TimeToLive({
  mission,
  pending,
  onUpdate,
}: {
  mission: Mission;
  pending: boolean;
  onUpdate: (body: { keep?: boolean; ttlMinutes?: number }) => void;
}) {
  const now = useNow(1000);
  if (mission.status === 'failed' || mission.status === 'stopped') return null;
  let text: string;
  if (mission.keep) text = 'Kept until you stop it';
  else if (mission.expiresAt === null) text = 'The time-to-live starts once it is ready';
  else text = `Stops in ${formatTimeLeft(Date.parse(mission.expiresAt) - now)}`;
  return (
    <div className="flex items-center gap-2 text-[13px]">
      <span
        className="text-muted tabular-nums"
        title={mission.expiresAt ? `Stops at ${formatDateTime(mission.expiresAt)}` : undefined}
      >
        {text}
      </span>
      {mission.keep ? (
        <Button
          size="sm"
          variant="ghost"
          disabled={pending}
          onClick={() => onUpdate({ keep: false })}
        >
          Don’t keep
        </Button>
      ) : (
        <>
          <Button
            size="sm"
            disabled={pending}
            title="Keep the environment until you stop it"
            onClick={() => onUpdate({ keep: true })}
          >
            Keep
          </Button>
          <Button
            size="sm"
            disabled={pending || mission.expiresAt === null}
            onClick={() => onUpdate({ ttlMinutes: extendedTtl(mission.expiresAt, Date.now(), 30) })}
          >
            +30 min
          </Button>
        </>
      )}
    </div>
  );
}

/**
 * While the person has the mouse, the worker waits: taking control pauses its run, handing back
 * tells it the screen changed and resumes it (a run the person had paused stays paused).
 */
function useHandOver(mission: Mission) {
  const toast = useToast();
  const pausedByUs = useRef<string | null>(null);
  return (inControl: boolean) => {
    const runId = mission.workerRunId;
    const failed = (error: unknown) => {
      // The run ended meanwhile: nothing to pause or resume.
      if (hasCode(error, 'conflict') || hasCode(error, 'not_found')) return;
      toast(`The worker did not follow: ${(error as Error).message}`, 'error');
    };
    if (inControl && runId) {
      pausedByUs.current = runId;
      pauseRun(runId).catch(failed);
    } else if (!inControl && runId && pausedByUs.current === runId) {
      pausedByUs.current = null;
      sendRunMessage(runId, {
        text: 'I used the desktop myself and handed it back: take a new screenshot before you go on.',
      })
        .then(() => resumeRun(runId))
        .catch(failed);
    }
  };
}

/** What the centre shows below the header: the desktop, the IDE link, or why there is neither. */
function MissionStage({ mission }: { mission: Mission }) {
  const handOver = useHandOver(mission);
  if (mission.status === 'ready' && mission.desktop) {
    return (
      <div data-testid="mission-desktop" className="min-h-0 flex-1">
        <Suspense fallback={<Loading label="Loading the desktop viewer…" />}>
          <DesktopViewer workspace={mission.workspace} onControlChange={handOver} />
        </Suspense>
      </div>
    );
  }
  if (mission.status === 'ready') {
    return (
      <div className="flex flex-1 flex-col items-center justify-center gap-3 p-6 text-center">
        <p className="text-base font-semibold text-fg">The environment is ready</p>
        <p className="max-w-md text-sm text-muted">
          The <span className="font-mono">{mission.template}</span> template has no desktop. Follow
          the worker in its chat, or open the workspace in the IDE to see its files and terminals.
        </p>
        <OpenInIde mission={mission} primary />
      </div>
    );
  }
  if (isDeploying(mission.status)) {
    return (
      <div className="flex flex-1 flex-col items-center justify-center gap-2 p-6 text-center text-sm text-muted">
        <Spinner className="size-6" />
        <p>{mission.statusReason ?? 'Deploying the environment…'}</p>
        {mission.desktop ? <p>The desktop shows here once it is ready.</p> : null}
      </div>
    );
  }
  return null;
}

/** The selected mission: its requirement, deployment, time-to-live, controls and desktop. */
export function MissionView({ mission }: { mission: Mission }) {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const toast = useToast();
  const [confirm, setConfirm] = useState<'stop' | 'delete' | null>(null);

  const remember = (next: Mission) => {
    queryClient.setQueryData(missionQueryKeys.mission(next.id), next);
    void queryClient.invalidateQueries({ queryKey: missionQueryKeys.list() });
  };
  const update = useMutation({
    mutationFn: (body: { keep?: boolean; ttlMinutes?: number }) => updateMission(mission.id, body),
    onSuccess: remember,
    onError: (error) => toast(`Could not change the time-to-live: ${error.message}`, 'error'),
  });
  const stop = useMutation({
    mutationFn: () => stopMission(mission.id),
    onSuccess: (next) => {
      remember(next);
      setConfirm(null);
    },
  });
  const remove = useMutation({
    mutationFn: () => deleteMission(mission.id),
    onSuccess: () => {
      setConfirm(null);
      queryClient.removeQueries({ queryKey: missionQueryKeys.mission(mission.id) });
      void queryClient.invalidateQueries({ queryKey: missionQueryKeys.list() });
      void navigate('/missions', { replace: true });
    },
  });
  const ended = mission.status === 'failed' || mission.status === 'stopped';

  return (
    <div className="flex h-full min-h-0 flex-col">
      <header className="shrink-0 space-y-3 border-b border-line px-4 py-3">
        <div className="flex items-start gap-3">
          <h2
            className="line-clamp-3 min-w-0 flex-1 text-[15px] font-semibold whitespace-pre-wrap text-fg"
            title={mission.requirement}
          >
            {mission.requirement}
          </h2>
          <div className="flex shrink-0 items-center gap-2">
            <OpenInIde mission={mission} />
            {ended ? (
              <Button size="sm" variant="danger" onClick={() => setConfirm('delete')}>
                Delete
              </Button>
            ) : (
              <Button size="sm" variant="danger" onClick={() => setConfirm('stop')}>
                Stop
              </Button>
            )}
          </div>
        </div>
        <div className="flex flex-wrap items-center justify-between gap-x-4 gap-y-2">
          <MissionSteps key={mission.id} status={mission.status} />
          <TimeToLive mission={mission} pending={update.isPending} onUpdate={update.mutate} />
        </div>
        {mission.status === 'failed' ? (
          <Alert tone="error" title="The deployment failed">
            {mission.statusReason ?? 'The server gave no reason.'}
          </Alert>
        ) : mission.status === 'stopped' ? (
          <Alert tone="info" title="Stopped">
            {mission.statusReason ?? 'The environment was stopped.'}
          </Alert>
        ) : mission.worker?.state === 'failed' ? (
          <Alert tone="error" title="The worker stopped with an error">
            {mission.worker.reason ?? 'Its run ended without saying why.'}
          </Alert>
        ) : isDeploying(mission.status) ? null : mission.statusReason ? (
          <p className="text-[13px] text-muted">{mission.statusReason}</p>
        ) : null}
      </header>

      <MissionStage mission={mission} />

      <ConfirmDialog
        open={confirm === 'stop'}
        title="Stop this mission?"
        description="The worker stops and its environment shuts down. The workspace and the worker’s chat stay until you delete the mission."
        confirmLabel="Stop mission"
        pending={stop.isPending}
        error={stop.error?.message}
        onConfirm={() => stop.mutate()}
        onClose={() => {
          setConfirm(null);
          stop.reset();
        }}
      />
      <ConfirmDialog
        open={confirm === 'delete'}
        title="Delete this mission?"
        description={`The mission and its workspace “${mission.workspace}”, with every file in it, are deleted.`}
        confirmLabel="Delete mission"
        pending={remove.isPending}
        error={remove.error?.message}
        onConfirm={() => remove.mutate()}
        onClose={() => {
          setConfirm(null);
          remove.reset();
        }}
      />
    </div>
  );
}
