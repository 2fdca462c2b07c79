import { aRole, roleAllows, type Workspace, type WorkspaceMember } from '@studio/protocol';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import {
  membersQueryOptions,
  removeMember,
  removeWorkspaceTeam,
  setMember,
  setWorkspaceTeam,
  workspaceTeamsQueryOptions,
} from '../../api/members.ts';
import { queryKeys } from '../../api/query-keys.ts';
import { workspaceRef } from '../../api/workspaces.ts';
import { Alert } from '../../components/Alert.tsx';
import { Button } from '../../components/Button.tsx';
import { Dialog } from '../../components/Dialog.tsx';
import { SelectField, TextField } from '../../components/Field.tsx';
import { Loading } from '../../components/Spinner.tsx';

type MemberRole = Exclude<WorkspaceMember['role'], 'owner'>;

const ROLE_HELP: Record<MemberRole, string> = {
  viewer: 'sees files, terminals and previews',
  editor: 'also edits files, types in terminals, runs agents, starts and stops',
  admin: 'also manages who it is shared with, and can delete it',
};

/** The roles a member can have, as a select's options. */
function RoleOptions() {
  return (
    <>
      <option value="viewer">Viewer</option>
      <option value="editor">Editor</option>
      <option value="admin">Admin</option>
    </>
  );
}

const PALETTE = ['bg-sky-600', 'bg-emerald-600', 'bg-violet-600', 'bg-amber-600', 'bg-rose-600'];

/** A person's initials in a circle, coloured by their email so it stays the same everywhere. */
export function Avatar({ member, size = 'size-7' }: { member: WorkspaceMember; size?: string }) {
  const initials =
    member.name
      .split(/\s+/)
      .filter(Boolean)
      .slice(0, 2)
      .map((part) => part[0]!.toUpperCase())
      .join('') || member.email[0]!.toUpperCase();
  const hash = [...member.email].reduce((sum, char) => sum + char.charCodeAt(0), 0);
  return (
    <span
      title={`${member.name} (${member.email}) · ${member.role}`}
      className={`inline-flex ${size} shrink-0 items-center justify-center rounded-full text-[11px] font-semibold text-white ring-2 ring-surface ${PALETTE[hash % PALETTE.length]}`}
    >
      {initials}
    </span>
  );
}

/**
 * Who a workspace is shared with, and their roles. Everyone on it sees the list; its owner and
 * admins add people by email, change roles and remove them.
 */
export function MembersDialog({
  workspace,
  onClose,
}: {
  workspace: Workspace;
  onClose: () => void;
}) {
  const ref = workspaceRef(workspace);
  const queryClient = useQueryClient();
  const members = useQuery(membersQueryOptions(ref));
  const manage = roleAllows(workspace.role, 'admin');
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<MemberRole>('editor');
  const [error, setError] = useState<string | null>(null);
  const teams = useQuery(workspaceTeamsQueryOptions(ref));
  const refresh = () =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: queryKeys.workspaceMembers(ref) }),
      queryClient.invalidateQueries({ queryKey: queryKeys.workspaceTeams(ref) }),
    ]);

  // Who to share with: a person by their email, or a team by its name.
  const change = useMutation({
    mutationFn: async (input: { email: string; role: MemberRole }) => {
      if (input.email.includes('@')) await setMember(ref, input.email, input.role);
      else await setWorkspaceTeam(ref, input.email, input.role);
    },
    onSuccess: () => {
      setError(null);
      setEmail('');
      return refresh();
    },
    onError: (failure) => setError(failure.message),
  });
  const removeTeam = useMutation({
    mutationFn: (team: string) => removeWorkspaceTeam(ref, team),
    onSuccess: refresh,
    onError: (failure) => setError(failure.message),
  });
  const remove = useMutation({
    mutationFn: (member: WorkspaceMember) => removeMember(ref, member.email),
    onSuccess: refresh,
    onError: (failure) => setError(failure.message),
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (email.trim() === '') {
      setError('Enter the email a person signs in with, or a team’s name.');
      return;
    }
    change.mutate({ email: email.trim(), role });
  };

  return (
    <Dialog
      open
      onClose={onClose}
      title={`Share ${workspace.name}`}
      description={`A viewer ${ROLE_HELP.viewer}; an editor ${ROLE_HELP.editor}; an admin ${ROLE_HELP.admin}.`}
    >
      <div className="space-y-5 pb-6">
        {members.isPending ? (
          <Loading label="Loading members…" />
        ) : members.isError ? (
          <Alert tone="error">{members.error.message}</Alert>
        ) : (
          <ul aria-label="Members" className="divide-y divide-line rounded-md border border-line">
            {members.data.map((member) => (
              <li key={member.userId} className="flex items-center gap-3 px-3 py-2">
                <Avatar member={member} />
                <div className="min-w-0 flex-1">
                  <p className="truncate text-sm font-medium text-fg">{member.name}</p>
                  <p className="truncate text-[12px] text-muted">{member.email}</p>
                </div>
                {manage && member.role !== 'owner' ? (
                  <>
                    <select
                      aria-label={`Role of ${member.email}`}
                      value={member.role}
                      onChange={(event) =>
                        change.mutate({
                          email: member.email,
                          role: event.target.value as MemberRole,
                        })
                      }
                      className="h-8 rounded-md border border-line-strong bg-surface px-2 text-[13px] text-fg"
                    >
                      <RoleOptions />
                    </select>
                    <Button
                      size="sm"
                      variant="danger"
                      aria-label={`Remove ${member.email}`}
                      pending={remove.isPending && remove.variables?.userId === member.userId}
                      onClick={() => remove.mutate(member)}
                    >
                      Remove
                    </Button>
                  </>
                ) : (
                  <span className="text-[13px] text-muted capitalize">{member.role}</span>
                )}
              </li>
            ))}
          </ul>
        )}
        {teams.data && teams.data.length > 0 ? (
          <ul aria-label="Teams" className="divide-y divide-line rounded-md border border-line">
            {teams.data.map((team) => (
              <li key={team.teamId} className="flex items-center gap-3 px-3 py-2">
                <span className="inline-flex size-7 items-center justify-center rounded-md bg-subtle text-[11px] font-semibold text-muted">
                  {team.name.slice(0, 2).toUpperCase()}
                </span>
                <p className="min-w-0 flex-1 truncate text-sm font-medium text-fg">
                  Team {team.name}
                </p>
                {manage ? (
                  <>
                    <select
                      aria-label={`Role of team ${team.name}`}
                      value={team.role}
                      onChange={(event) =>
                        change.mutate({ email: team.name, role: event.target.value as MemberRole })
                      }
                      className="h-8 rounded-md border border-line-strong bg-surface px-2 text-[13px] text-fg"
                    >
                      <RoleOptions />
                    </select>
                    <Button
                      size="sm"
                      variant="danger"
                      aria-label={`Remove team ${team.name}`}
                      pending={removeTeam.isPending && removeTeam.variables === team.teamId}
                      onClick={() => removeTeam.mutate(team.teamId)}
                    >
                      Remove
                    </Button>
                  </>
                ) : (
                  <span className="text-[13px] text-muted capitalize">{team.role}</span>
                )}
              </li>
            ))}
          </ul>
        ) : null}
        {error ? <Alert tone="error">{error}</Alert> : null}
        {manage ? (
          <form onSubmit={submit} className="flex items-end gap-2">
            <TextField
              label="Email or team"
              value={email}
              placeholder="ada@example.com or design"
              onChange={(event) => setEmail(event.target.value)}
              fieldClassName="min-w-0 flex-1"
            />
            <SelectField
              label="Role"
              value={role}
              onChange={(event) => setRole(event.target.value as MemberRole)}
              fieldClassName="w-28"
            >
              <RoleOptions />
            </SelectField>
            <Button type="submit" variant="primary" pending={change.isPending}>
              Share
            </Button>
          </form>
        ) : null}
        {manage ? (
          <p className="text-[12px] text-muted">
            Editors and admins run commands in this workspace, so git there can use the owner’s git
            credentials (Settings → Git credentials) for its pushes and pulls.
          </p>
        ) : (
          <p className="text-[13px] text-muted">
            You are {aRole(workspace.role)} here; its owner and admins decide who it is shared with.
          </p>
        )}
      </div>
    </Dialog>
  );
}
