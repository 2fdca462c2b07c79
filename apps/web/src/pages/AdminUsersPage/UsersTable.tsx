import type { Role, User } from '@studio/protocol';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { updateUser } from '../../api/admin-users.ts';
import { hasCode } from '../../api/http.ts';
import { queryKeys } from '../../api/query-keys.ts';
import { Badge } from '../../components/Badge.tsx';
import { Button } from '../../components/Button.tsx';
import { ConfirmDialog } from '../../components/ConfirmDialog.tsx';
import { InlineSelect } from '../../components/Field.tsx';
import { formatDate, formatDateTime } from '../../components/format-date.ts';
import { useToast } from '../../components/Toaster.tsx';
import { TableHead } from '../../components/TableHead.tsx';

function errorText(error: unknown): string {
  if (hasCode(error, 'forbidden')) return 'You are not allowed to change this user.';
  return error instanceof Error ? error.message : 'The change failed.';
}

/** Every user with role, status and the admin's actions; the signed-in admin cannot lock themselves out. */
export function UsersTable({ users, currentUserId }: { users: User[]; currentUserId: string }) {
  const queryClient = useQueryClient();
  const toast = useToast();
  const [confirming, setConfirming] = useState<User | null>(null);

  const replaceUser = (updated: User) =>
    queryClient.setQueryData<User[]>(queryKeys.adminUsers(), (list) =>
      list?.map((user) => (user.id === updated.id ? updated : user)),
    );

  const changeRole = useMutation({
    mutationFn: ({ user, role }: { user: User; role: Role }) => updateUser(user.id, { role }),
    onSuccess: (updated) => {
      replaceUser(updated);
      toast(`${updated.name} is now ${updated.role === 'admin' ? 'an admin' : 'a member'}.`);
    },
    onError: (error) => toast(errorText(error), 'error'),
  });

  const setDisabled = useMutation({
    mutationFn: ({ user, disabled }: { user: User; disabled: boolean }) =>
      updateUser(user.id, { disabled }),
    onSuccess: (updated) => {
      replaceUser(updated);
      setConfirming(null);
      toast(
        updated.disabled
          ? `${updated.name} is disabled and was signed out everywhere.`
          : `${updated.name} can sign in again.`,
      );
    },
  });

  const sorted = [...users].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  const disabling = confirming ? !confirming.disabled : true;

  return (
    <>
      <div className="overflow-x-auto rounded-lg border border-line bg-surface shadow-xs">
        <table className="w-full text-left text-sm">
          <caption className="sr-only">Users of this server</caption>
          <TableHead columns={['User', 'Role', 'Status', 'Added']} />
          <tbody className="divide-y divide-line">
            {sorted.map((user) => {
              const isMe = user.id === currentUserId;
              const rolePending = changeRole.isPending && changeRole.variables.user.id === user.id;
              return (
                <tr key={user.id} className={user.disabled ? 'bg-subtle/40' : undefined}>
                  <td className="px-5 py-3">
                    <div className="flex items-center gap-2">
                      <span className={`font-medium ${user.disabled ? 'text-muted' : 'text-fg'}`}>
                        {user.name}
                      </span>
                      {isMe ? <Badge>You</Badge> : null}
                    </div>
                    <div className="text-[13px] text-muted">{user.email}</div>
                  </td>
                  <td className="px-5 py-3">
                    <InlineSelect
                      aria-label={`Role of ${user.name}`}
                      value={user.role}
                      disabled={isMe || rolePending}
                      title={isMe ? 'You cannot change your own role' : undefined}
                      onChange={(event) =>
                        changeRole.mutate({ user, role: event.target.value as Role })
                      }
                    >
                      <option value="member">Member</option>
                      <option value="admin">Admin</option>
                    </InlineSelect>
                  </td>
                  <td className="px-5 py-3">
                    {user.disabled ? (
                      <Badge tone="danger">Disabled</Badge>
                    ) : (
                      <Badge tone="success">Active</Badge>
                    )}
                  </td>
                  <td className="px-5 py-3 text-muted" title={formatDateTime(user.createdAt)}>
                    {formatDate(user.createdAt)}
                  </td>
                  <td className="px-5 py-3 text-right">
                    {isMe ? null : user.disabled ? (
                      <Button size="sm" onClick={() => setConfirming(user)}>
                        Enable
                      </Button>
                    ) : (
                      <Button size="sm" variant="danger" onClick={() => setConfirming(user)}>
                        Disable
                      </Button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>

      <ConfirmDialog
        open={confirming !== null}
        destructive={disabling}
        title={
          disabling ? `Disable ${confirming?.name ?? ''}?` : `Enable ${confirming?.name ?? ''}?`
        }
        description={
          disabling
            ? 'They are signed out everywhere at once, their API tokens are revoked, their assistant runs and workspaces stop, and they cannot sign in until an admin enables them again.'
            : 'They can sign in again with their existing password.'
        }
        confirmLabel={disabling ? 'Disable user' : 'Enable user'}
        pending={setDisabled.isPending}
        error={setDisabled.error ? errorText(setDisabled.error) : null}
        onConfirm={() => {
          if (confirming) setDisabled.mutate({ user: confirming, disabled: disabling });
        }}
        onClose={() => {
          setConfirming(null);
          setDisabled.reset();
        }}
      />
    </>
  );
}
