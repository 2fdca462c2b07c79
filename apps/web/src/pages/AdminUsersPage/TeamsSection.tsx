import type { Team } from '@studio/protocol';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { createTeam, deleteTeam, setTeamMember, teamsQueryOptions } from '../../api/members.ts';
import { queryKeys } from '../../api/query-keys.ts';
import { Alert } from '../../components/Alert.tsx';
import { Button } from '../../components/Button.tsx';
import { ConfirmDialog } from '../../components/ConfirmDialog.tsx';
import { TextField } from '../../components/Field.tsx';
import { CloseIcon } from '../../components/icons.tsx';
import { Loading } from '../../components/Spinner.tsx';

/** One team: its people (each removable), a field to add someone, and delete. */
function TeamRow({ team, onError }: { team: Team; onError: (message: string | null) => void }) {
  const queryClient = useQueryClient();
  const [email, setEmail] = useState('');
  const [deleting, setDeleting] = useState(false);
  const refresh = () => queryClient.invalidateQueries({ queryKey: queryKeys.teams() });
  const member = useMutation({
    mutationFn: (input: { email: string; add: boolean }) =>
      setTeamMember(team.id, input.email, input.add),
    onSuccess: () => {
      setEmail('');
      onError(null);
      return refresh();
    },
    onError: (failure) => onError(failure.message),
  });
  const remove = useMutation({
    mutationFn: () => deleteTeam(team.id),
    onSuccess: refresh,
    onError: (failure) => onError(failure.message),
  });
  const add = (event: FormEvent) => {
    event.preventDefault();
    if (email.trim()) member.mutate({ email: email.trim(), add: true });
  };

  return (
    <li aria-label={`Team ${team.name}`} className="space-y-3 px-5 py-4">
      <div className="flex items-center gap-3">
        <p className="text-sm font-semibold text-fg">{team.name}</p>
        <span className="text-[12px] text-muted">
          {team.members.length === 1 ? '1 person' : `${team.members.length} people`}
        </span>
        <Button
          size="sm"
          variant="danger"
          className="ml-auto"
          aria-label={`Delete team ${team.name}`}
          onClick={() => setDeleting(true)}
        >
          Delete
        </Button>
      </div>
      {team.members.length > 0 ? (
        <ul className="flex flex-wrap gap-1.5">
          {team.members.map((person) => (
            <li
              key={person.userId}
              className="flex items-center gap-1 rounded-full bg-subtle py-0.5 pr-1 pl-2.5 text-[12px] text-fg"
            >
              {person.name} <span className="text-muted">{person.email}</span>
              <button
                type="button"
                aria-label={`Remove ${person.email} from ${team.name}`}
                onClick={() => member.mutate({ email: person.email, add: false })}
                className="rounded-full p-0.5 text-muted hover:bg-line hover:text-fg"
              >
                <CloseIcon className="size-3" />
              </button>
            </li>
          ))}
        </ul>
      ) : null}
      <form onSubmit={add} className="flex items-end gap-2">
        <TextField
          label={`Add to ${team.name}`}
          type="email"
          value={email}
          placeholder="ada@example.com"
          onChange={(event) => setEmail(event.target.value)}
          fieldClassName="w-72"
        />
        <Button type="submit" size="sm" pending={member.isPending}>
          Add
        </Button>
      </form>
      <ConfirmDialog
        open={deleting}
        title={`Delete team ${team.name}?`}
        description="Its people lose what the team gave them: the workspaces shared with the team close for them."
        confirmLabel="Delete team"
        pending={remove.isPending}
        onConfirm={() => remove.mutate(undefined, { onSettled: () => setDeleting(false) })}
        onClose={() => setDeleting(false)}
      />
    </li>
  );
}

/** Teams: groups of people a workspace can be shared with as one (admins make them). */
export function TeamsSection() {
  const queryClient = useQueryClient();
  const teams = useQuery(teamsQueryOptions());
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const create = useMutation({
    mutationFn: createTeam,
    onSuccess: () => {
      setName('');
      setError(null);
      return queryClient.invalidateQueries({ queryKey: queryKeys.teams() });
    },
    onError: (failure) => setError(failure.message),
  });

  return (
    <section aria-labelledby="teams" className="space-y-3">
      <h2 id="teams" className="text-base font-semibold text-fg">
        Teams
      </h2>
      <p className="text-[13px] text-muted">
        Share a workspace with a team from its Share dialog (type the team’s name): everyone in the
        team gets that role there.
      </p>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          create.mutate(name.trim());
        }}
        className="flex items-end gap-2"
      >
        <TextField
          label="New team"
          value={name}
          placeholder="design"
          onChange={(event) => setName(event.target.value)}
          fieldClassName="w-72"
        />
        <Button type="submit" pending={create.isPending}>
          Create team
        </Button>
      </form>
      {error ? <Alert tone="error">{error}</Alert> : null}
      {teams.isPending ? (
        <Loading label="Loading teams…" />
      ) : teams.isError ? (
        <Alert tone="error">{teams.error.message}</Alert>
      ) : teams.data.length > 0 ? (
        <ul className="divide-y divide-line rounded-lg border border-line bg-surface shadow-xs">
          {teams.data.map((team) => (
            <TeamRow key={team.id} team={team} onError={setError} />
          ))}
        </ul>
      ) : null}
    </section>
  );
}
