import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type KeyboardEvent, type ReactNode } from 'react';
import {
  changePaths,
  checkout,
  commit,
  createBranch,
  gitBranchesQueryOptions,
  gitQueryKeys,
  gitReposQueryOptions,
  gitStatusQueryOptions,
  initRepository,
  sync,
  type GitFile,
  type GitStatus,
} from '../../../api/git.ts';
import { Alert } from '../../../components/Alert.tsx';
import { Button } from '../../../components/Button.tsx';
import { ConfirmDialog } from '../../../components/ConfirmDialog.tsx';
import { BranchIcon, PlusIcon } from '../../../components/icons.tsx';
import { IconButton } from '../../../components/IconButton.tsx';
import { Loading } from '../../../components/Spinner.tsx';
import { useToast } from '../../../components/Toaster.tsx';
import { diffTabId, type DiffTab } from './diff-tab.ts';

const LETTERS: Record<string, { label: string; className: string }> = {
  M: { label: 'Modified', className: 'text-warning' },
  A: { label: 'Added', className: 'text-success' },
  D: { label: 'Deleted', className: 'text-danger' },
  R: { label: 'Renamed', className: 'text-accent' },
  C: { label: 'Copied', className: 'text-accent' },
  U: { label: 'Conflict', className: 'text-danger' },
  '?': { label: 'Untracked', className: 'text-success' },
};

/** Staged: the index differs from HEAD. Unstaged: the worktree differs from the index, or new. */
export function splitChanges(files: GitFile[]): { staged: GitFile[]; unstaged: GitFile[] } {
  return {
    staged: files.filter((file) => file.index !== '.' && file.index !== '?'),
    unstaged: files.filter((file) => file.worktree !== '.'),
  };
}

function ChangeRow({
  file,
  letter,
  onOpen,
  actions,
}: {
  file: GitFile;
  letter: string;
  onOpen: () => void;
  actions: ReactNode;
}) {
  const slash = file.path.lastIndexOf('/');
  const kind = LETTERS[letter] ?? { label: letter, className: 'text-muted' };
  return (
    <li className="group flex h-7 items-center gap-1.5 pr-1.5 pl-3 text-[13px] hover:bg-subtle">
      <button
        type="button"
        onClick={onOpen}
        title={file.origPath ? `${file.origPath} → ${file.path}` : file.path}
        className="flex min-w-0 flex-1 items-baseline gap-1.5 text-left"
      >
        <span className="truncate text-fg">{file.path.slice(slash + 1)}</span>
        {slash > 0 ? (
          <span className="truncate text-[11px] text-muted">{file.path.slice(0, slash)}</span>
        ) : null}
      </button>
      <span className="hidden items-center gap-0.5 group-focus-within:flex group-hover:flex">
        {actions}
      </span>
      <span
        aria-label={kind.label}
        title={kind.label}
        className={`w-3 text-center font-mono text-[12px] font-semibold ${kind.className}`}
      >
        {letter === '?' ? 'U' : letter}
      </span>
    </li>
  );
}

function Section({
  title,
  count,
  action,
  children,
}: {
  title: string;
  count: number;
  action?: ReactNode;
  children: ReactNode;
}) {
  return (
    <section aria-label={title} className="mt-2">
      <div className="flex h-7 items-center gap-2 px-3 text-[11px] font-semibold tracking-wide text-muted uppercase">
        <span className="flex-1">
          {title} <span className="font-normal">{count}</span>
        </span>
        {action}
      </div>
      <ul>{children}</ul>
    </section>
  );
}

/** Branch switcher: existing branches, or a new one from the current HEAD. */
function BranchPicker({
  workspace,
  repo,
  status,
  onDone,
}: {
  workspace: string;
  repo: string;
  status: GitStatus;
  onDone: (status: GitStatus) => void;
}) {
  const branches = useQuery(gitBranchesQueryOptions(workspace, repo));
  const [open, setOpen] = useState(false);
  const [newName, setNewName] = useState('');
  const toast = useToast();
  const change = useMutation({
    mutationFn: ({ branch, create }: { branch: string; create: boolean }) =>
      create ? createBranch(workspace, repo, branch) : checkout(workspace, repo, branch),
    onSuccess: (next) => {
      setOpen(false);
      setNewName('');
      onDone(next);
    },
    onError: (error) => toast(error.message, 'error'),
  });
  const local = branches.data?.branches.filter((branch) => !branch.remote) ?? [];

  return (
    <div className="relative">
      <button
        type="button"
        aria-haspopup="listbox"
        aria-expanded={open}
        onClick={() => setOpen((value) => !value)}
        className="flex h-7 max-w-full items-center gap-1.5 rounded px-1.5 text-[13px] font-medium text-fg hover:bg-subtle"
      >
        <BranchIcon className="size-4 shrink-0 text-muted" />
        <span className="truncate">{status.branch ?? `detached at ${status.head ?? '—'}`}</span>
      </button>
      {open ? (
        <div className="absolute top-8 left-0 z-20 w-64 rounded-md border border-line bg-surface p-1 shadow-lg">
          <form
            onSubmit={(event) => {
              event.preventDefault();
              if (newName.trim()) change.mutate({ branch: newName.trim(), create: true });
            }}
            className="flex gap-1 p-1"
          >
            <input
              autoFocus
              aria-label="New branch name"
              placeholder="New branch name"
              value={newName}
              onChange={(event) => setNewName(event.target.value)}
              onKeyDown={(event) => event.key === 'Escape' && setOpen(false)}
              className="h-7 min-w-0 flex-1 rounded border border-line-strong bg-surface px-2 text-[12px]"
            />
            <Button size="sm" type="submit" pending={change.isPending} aria-label="Create branch">
              <PlusIcon className="size-3.5" />
            </Button>
          </form>
          <ul role="listbox" aria-label="Branches" className="max-h-60 overflow-auto">
            {branches.isPending ? (
              <li className="px-2 py-1 text-[12px] text-muted">Loading branches…</li>
            ) : (
              local.map((branch) => (
                <li key={branch.name}>
                  <button
                    type="button"
                    role="option"
                    aria-selected={branch.name === status.branch}
                    onClick={() => change.mutate({ branch: branch.name, create: false })}
                    className="w-full truncate rounded px-2 py-1 text-left text-[13px] hover:bg-subtle aria-selected:font-semibold"
                  >
                    {branch.name}
                  </button>
                </li>
              ))
            )}
          </ul>
        </div>
      ) : null}
    </div>
  );
}

function RepoView({
  workspace,
  repo,
  onOpenDiff,
}: {
  workspace: string;
  repo: string;
  onOpenDiff: (tab: DiffTab) => void;
}) {
  const queryClient = useQueryClient();
  const toast = useToast();
  const status = useQuery(gitStatusQueryOptions(workspace, repo));
  const [message, setMessage] = useState('');
  const [discarding, setDiscarding] = useState<GitFile[] | null>(null);
  const [syncOutput, setSyncOutput] = useState<string | null>(null);

  const setStatus = (next: GitStatus) => {
    queryClient.setQueryData(gitQueryKeys.status(workspace, repo), next);
    void queryClient.invalidateQueries({ queryKey: gitQueryKeys.all(workspace) });
  };
  const paths = useMutation({
    mutationFn: ({
      action,
      files,
    }: {
      action: 'stage' | 'unstage' | 'discard';
      files: GitFile[];
    }) =>
      changePaths(
        workspace,
        action,
        repo,
        files.map((file) => file.path),
      ),
    onSuccess: setStatus,
    onError: (error) => toast(error.message, 'error'),
  });
  const commitMutation = useMutation({
    mutationFn: () => commit(workspace, repo, message),
    onSuccess: (result) => {
      setMessage('');
      toast(`Committed ${result.sha.slice(0, 7)}: ${result.summary}`);
      void queryClient.invalidateQueries({ queryKey: gitQueryKeys.all(workspace) });
    },
    onError: (error) => toast(error.message, 'error'),
  });
  const syncMutation = useMutation({
    mutationFn: (action: 'push' | 'pull') =>
      sync(workspace, action, repo, action === 'push' && !status.data?.upstream),
    onSuccess: (_result, action) => {
      setSyncOutput(null);
      toast(action === 'push' ? 'Pushed.' : 'Pulled.');
      void queryClient.invalidateQueries({ queryKey: gitQueryKeys.all(workspace) });
    },
    onError: (error) => setSyncOutput(error.message),
  });

  if (status.isPending) return <Loading label="Reading the repository…" />;
  if (status.isError) {
    return (
      <div className="p-3">
        <Alert tone="error">{status.error.message}</Alert>
      </div>
    );
  }
  const { staged, unstaged } = splitChanges(status.data.files);
  const canCommit = staged.length > 0 && message.trim() !== '' && !commitMutation.isPending;
  const onMessageKey = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey) && canCommit) {
      event.preventDefault();
      commitMutation.mutate();
    }
  };

  return (
    <div className="flex min-h-0 flex-1 flex-col overflow-auto pb-3">
      <div className="flex items-center gap-1 px-1.5 pt-2">
        <div className="min-w-0 flex-1">
          <BranchPicker workspace={workspace} repo={repo} status={status.data} onDone={setStatus} />
        </div>
        <Button
          size="sm"
          variant="ghost"
          pending={syncMutation.isPending && syncMutation.variables === 'pull'}
          onClick={() => syncMutation.mutate('pull')}
          title="Pull"
        >
          Pull{status.data.behind ? ` ↓${status.data.behind}` : ''}
        </Button>
        <Button
          size="sm"
          variant="ghost"
          pending={syncMutation.isPending && syncMutation.variables === 'push'}
          onClick={() => syncMutation.mutate('push')}
          title={status.data.upstream ? `Push to ${status.data.upstream}` : 'Push and set upstream'}
        >
          Push{status.data.ahead ? ` ↑${status.data.ahead}` : ''}
        </Button>
      </div>
      {syncOutput ? (
        <div className="px-3 pt-2">
          <Alert tone="error">{syncOutput}</Alert>
        </div>
      ) : null}
      <div className="px-3 pt-2">
        <textarea
          aria-label="Commit message"
          placeholder="Message (Ctrl+Enter to commit)"
          rows={3}
          value={message}
          onChange={(event) => setMessage(event.target.value)}
          onKeyDown={onMessageKey}
          className="w-full resize-y rounded-md border border-line-strong bg-surface px-2 py-1.5 text-[13px] text-fg placeholder:text-muted"
        />
        <Button
          variant="primary"
          size="sm"
          className="mt-1.5 w-full"
          disabled={!canCommit}
          pending={commitMutation.isPending}
          onClick={() => commitMutation.mutate()}
          title={
            staged.length === 0
              ? 'Stage changes first'
              : message.trim() === ''
                ? 'Write a commit message first'
                : undefined
          }
        >
          Commit{staged.length ? ` ${staged.length} file${staged.length > 1 ? 's' : ''}` : ''}
        </Button>
      </div>
      {staged.length === 0 && unstaged.length === 0 ? (
        <p className="px-3 pt-4 text-[13px] text-muted">No changes. The working tree is clean.</p>
      ) : null}
      {staged.length > 0 ? (
        <Section
          title="Staged changes"
          count={staged.length}
          action={
            <IconButton
              size="sm"
              label="Unstage all"
              onClick={() => paths.mutate({ action: 'unstage', files: staged })}
            >
              −
            </IconButton>
          }
        >
          {staged.map((file) => (
            <ChangeRow
              key={`s:${file.path}`}
              file={file}
              letter={file.index}
              onOpen={() => onOpenDiff({ repo, path: file.path, staged: true })}
              actions={
                <IconButton
                  size="sm"
                  label={`Unstage ${file.path}`}
                  onClick={() => paths.mutate({ action: 'unstage', files: [file] })}
                >
                  −
                </IconButton>
              }
            />
          ))}
        </Section>
      ) : null}
      {unstaged.length > 0 ? (
        <Section
          title="Changes"
          count={unstaged.length}
          action={
            <IconButton
              size="sm"
              label="Stage all"
              onClick={() => paths.mutate({ action: 'stage', files: unstaged })}
            >
              +
            </IconButton>
          }
        >
          {unstaged.map((file) => (
            <ChangeRow
              key={`u:${file.path}`}
              file={file}
              letter={file.worktree}
              onOpen={() => onOpenDiff({ repo, path: file.path, staged: false })}
              actions={
                <>
                  <IconButton
                    size="sm"
                    label={`Discard changes in ${file.path}`}
                    onClick={() => setDiscarding([file])}
                  >
                    ↶
                  </IconButton>
                  <IconButton
                    size="sm"
                    label={`Stage ${file.path}`}
                    onClick={() => paths.mutate({ action: 'stage', files: [file] })}
                  >
                    +
                  </IconButton>
                </>
              }
            />
          ))}
        </Section>
      ) : null}
      <ConfirmDialog
        open={discarding !== null}
        title={`Discard changes in ${discarding?.map((file) => file.path).join(', ') ?? ''}?`}
        description="The file goes back to its last staged or committed state; a new file is deleted. This cannot be undone."
        confirmLabel="Discard"
        onConfirm={() => {
          if (discarding) paths.mutate({ action: 'discard', files: discarding });
          setDiscarding(null);
        }}
        onClose={() => setDiscarding(null)}
      />
    </div>
  );
}

/** The sidebar's Source Control view: branch, sync, commit, and staged and unstaged changes. */
export function SourceControlPanel({
  workspace,
  onOpen,
}: {
  workspace: string;
  onOpen: (tab: string) => void;
}) {
  const queryClient = useQueryClient();
  const repos = useQuery(gitReposQueryOptions(workspace));
  const [chosen, setChosen] = useState<string | null>(null);
  const init = useMutation({
    mutationFn: () => initRepository(workspace, ''),
    onSuccess: (found) => queryClient.setQueryData(gitQueryKeys.repos(workspace), found),
  });
  const list = repos.data ?? [];
  const repo = list.find((item) => item.path === chosen)?.path ?? list[0]?.path ?? null;

  if (repos.isPending) return <Loading label="Looking for repositories…" />;
  if (repos.isError) {
    return (
      <div className="p-3">
        <Alert tone="error">{repos.error.message}</Alert>
      </div>
    );
  }
  if (repo === null) {
    return (
      <div className="space-y-3 px-3 py-4 text-[13px] text-muted">
        <p>No git repository in this workspace.</p>
        <Button variant="primary" pending={init.isPending} onClick={() => init.mutate()}>
          Initialize repository
        </Button>
        {init.isError ? <Alert tone="error">{init.error.message}</Alert> : null}
        <p>
          Or clone one in a terminal with{' '}
          <code className="rounded bg-subtle px-1 font-mono text-[12px] text-fg">git clone</code>;
          it shows here as soon as it is there.
        </p>
      </div>
    );
  }
  return (
    <section aria-label="Source control" className="flex h-full min-h-0 flex-col">
      {list.length > 1 ? (
        <label className="flex items-center gap-2 border-b border-line px-3 py-1.5 text-[12px] text-muted">
          Repository
          <select
            value={repo}
            onChange={(event) => setChosen(event.target.value)}
            className="h-7 min-w-0 flex-1 rounded border border-line-strong bg-surface px-1 text-[12px] text-fg"
          >
            {list.map((item) => (
              <option key={item.path} value={item.path}>
                {item.path === '' || item.path === '.' ? '~ (home)' : item.path}
              </option>
            ))}
          </select>
        </label>
      ) : null}
      <RepoView
        key={repo}
        workspace={workspace}
        repo={repo}
        onOpenDiff={(tab) => onOpen(diffTabId(tab))}
      />
    </section>
  );
}
