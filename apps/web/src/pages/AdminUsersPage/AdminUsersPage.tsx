import { useQuery } from '@tanstack/react-query';
import { adminUsersQueryOptions } from '../../api/admin-users.ts';
import { hasCode } from '../../api/http.ts';
import { Alert } from '../../components/Alert.tsx';
import { EmptyState } from '../../components/EmptyState.tsx';
import { PageHeader } from '../../components/PageHeader.tsx';
import { Loading } from '../../components/Spinner.tsx';
import { useDocumentTitle } from '../../components/use-document-title.ts';
import { AdminTabs } from '../../modules/layout/AdminTabs.tsx';
import { useCurrentUser } from '../../modules/session/SessionProvider.tsx';
import { AllWorkspacesTable } from './AllWorkspacesTable.tsx';
import { CreateUserForm } from './CreateUserForm.tsx';
import { TeamsSection } from './TeamsSection.tsx';
import { UsersTable } from './UsersTable.tsx';

/** `/admin/users`: list, add, promote, disable and enable users, and every workspace (admins only). */
export function AdminUsersPage() {
  useDocumentTitle('Users');
  const me = useCurrentUser();
  const isAdmin = me.role === 'admin';
  const users = useQuery({ ...adminUsersQueryOptions(), enabled: isAdmin });

  return (
    <>
      <PageHeader
        title="Users"
        description="Everyone who can sign in to this server, and what they may do."
      />
      {isAdmin ? <AdminTabs /> : null}
      {!isAdmin || hasCode(users.error, 'forbidden') ? (
        <EmptyState title="Admins only">
          Only admins can manage users. Ask an admin of this server if you need access.
        </EmptyState>
      ) : (
        <div className="space-y-6">
          <CreateUserForm />
          <section aria-labelledby="all-users" className="space-y-3">
            <h2 id="all-users" className="text-base font-semibold text-fg">
              Accounts{users.data ? ` (${users.data.length})` : ''}
            </h2>
            {users.isPending ? (
              <Loading label="Loading users…" />
            ) : users.isError ? (
              <Alert tone="error">{users.error.message}</Alert>
            ) : (
              <UsersTable users={users.data} currentUserId={me.id} />
            )}
          </section>
          <TeamsSection />
          <section aria-labelledby="all-workspaces" className="space-y-3">
            <h2 id="all-workspaces" className="text-base font-semibold text-fg">
              Workspaces
            </h2>
            <AllWorkspacesTable />
          </section>
        </div>
      )}
    </>
  );
}
