import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { EmptyState } from '../../components/EmptyState.tsx';
import { ArrowRightIcon, BoxesIcon, KeyIcon, UsersIcon } from '../../components/icons.tsx';
import { PageHeader } from '../../components/PageHeader.tsx';
import { useDocumentTitle } from '../../components/use-document-title.ts';
import { useCurrentUser } from '../../modules/session/SessionProvider.tsx';

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

/** `/`: the workspace list. The API has no workspaces yet, so this is an honest empty state. */
export function DashboardPage() {
  useDocumentTitle('Workspaces');
  const user = useCurrentUser();
  const firstName = user.name.split(/\s+/)[0] ?? user.name;

  return (
    <>
      <PageHeader
        title="Workspaces"
        description={`Welcome back, ${firstName}. Your development environments will be listed here.`}
      />
      <EmptyState icon={<BoxesIcon />} title="No workspaces yet">
        <p>
          Workspaces — isolated Linux environments with an editor, terminals and AI agents — are
          created from templates. Templates are not available on this server yet, so there is
          nothing to create or list here for now.
        </p>
      </EmptyState>

      <section aria-labelledby="next-steps" className="mt-10">
        <h2 id="next-steps" className="mb-3 text-sm font-semibold text-fg">
          While you wait
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
