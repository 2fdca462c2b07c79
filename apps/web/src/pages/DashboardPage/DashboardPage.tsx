import { useQuery } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import { Link } from 'react-router';
import { workspacesQueryOptions } from '../../api/workspaces.ts';
import { Alert } from '../../components/Alert.tsx';
import { Button } from '../../components/Button.tsx';
import { EmptyState } from '../../components/EmptyState.tsx';
import {
  ArrowRightIcon,
  BoxesIcon,
  KeyIcon,
  PlusIcon,
  UsersIcon,
} from '../../components/icons.tsx';
import { PageHeader } from '../../components/PageHeader.tsx';
import { Loading } from '../../components/Spinner.tsx';
import { useDocumentTitle } from '../../components/use-document-title.ts';
import { useCurrentUser } from '../../modules/session/SessionProvider.tsx';
import { NewWorkspaceDialog } from '../../modules/workspaces/NewWorkspaceDialog.tsx';
import { UnsandboxedBanner } from '../../modules/workspaces/UnsandboxedBanner.tsx';
import { WorkspaceTable } from '../../modules/workspaces/WorkspaceTable.tsx';

function NextStep({
  to,
  icon,
  title,
  children,
}: {
  to: string;
  icon: ReactNode;
  title: string;
  children: ReactNode;
}) {
  return (
    <Link
      to={to}
      className="group flex gap-3 rounded-lg border border-line bg-surface p-4 shadow-xs transition-colors hover:border-line-strong hover:bg-subtle/50"
    >
      <div className="flex size-9 shrink-0 items-center justify-center rounded-md bg-subtle text-lg text-muted group-hover:text-accent">
        {icon}
      </div>
      <div className="min-w-0">
        <p className="flex items-center gap-1.5 text-sm font-medium text-fg">
          {title}
          <ArrowRightIcon className="size-3.5 text-muted transition-transform group-hover:translate-x-0.5" />
        </p>
        <p className="mt-0.5 text-[13px] text-muted">{children}</p>
      </div>
    </Link>
  );
}

/** `/`: the signed-in user's workspaces, kept current by `/api/events`. */
export function DashboardPage() {
  useDocumentTitle('Workspaces');
  const user = useCurrentUser();
  const firstName = user.name.split(/\s+/)[0] ?? user.name;
  const workspaces = useQuery(workspacesQueryOptions());
  const [creating, setCreating] = useState(false);

  // One "New workspace" button on screen at a time: in the header, or in the empty state.
  const newWorkspace = (
    <Button variant="primary" onClick={() => setCreating(true)}>
      <PlusIcon className="size-4" />
      New workspace
    </Button>
  );
  const mine = workspaces.data?.filter((workspace) => workspace.role === 'owner') ?? [];
  const shared = workspaces.data?.filter((workspace) => workspace.role !== 'owner') ?? [];
  const empty = mine.length === 0;

  return (
    <>
      <PageHeader
        title="Workspaces"
        description={`Welcome back, ${firstName}. Each workspace is an isolated Linux environment made from a template.`}
        actions={workspaces.data && !empty ? newWorkspace : null}
      />
      <UnsandboxedBanner className="mb-6" />
      {workspaces.isPending ? (
        <Loading label="Loading workspaces…" />
      ) : workspaces.isError ? (
        <Alert tone="error">{workspaces.error.message}</Alert>
      ) : (
        <>
          {empty ? (
            <EmptyState icon={<BoxesIcon />} title="No workspaces yet" action={newWorkspace}>
              <p>
                A workspace is a Linux environment with an editor, terminals and AI agents, made
                from a template and optionally a Git repository. Create one to get started.
              </p>
            </EmptyState>
          ) : (
            <WorkspaceTable workspaces={mine} />
          )}
          {shared.length > 0 ? (
            <section aria-labelledby="shared-with-me" className="mt-8">
              <h2 id="shared-with-me" className="mb-3 text-sm font-semibold text-fg">
                Shared with me
              </h2>
              <WorkspaceTable workspaces={shared} caption="Workspaces shared with you" />
            </section>
          ) : null}
        </>
      )}
      {creating ? <NewWorkspaceDialog onClose={() => setCreating(false)} /> : null}

      <section aria-labelledby="next-steps" className="mt-10">
        <h2 id="next-steps" className="mb-3 text-sm font-semibold text-fg">
          Next steps
        </h2>
        <div className="grid grid-cols-1 gap-3 md:grid-cols-2 lg:grid-cols-3">
          <NextStep to="/settings#api-tokens" icon={<KeyIcon />} title="Create an API token">
            Use the studio CLI or scripts against this server.
          </NextStep>
          {user.role === 'admin' ? (
            <NextStep to="/admin/users" icon={<UsersIcon />} title="Invite your team">
              Add people and decide who manages this server.
            </NextStep>
          ) : null}
          <NextStep to="/settings" icon={<UsersIcon />} title="Review your profile">
            Update your name and password, or sign out other devices.
          </NextStep>
        </div>
      </section>
    </>
  );
}
