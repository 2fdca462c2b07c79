import type { AdminCreatedUser, Role, User } from '@studio/protocol';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { createUser } from '../../api/admin-users.ts';
import { fieldErrors, hasCode } from '../../api/http.ts';
import { queryKeys } from '../../api/query-keys.ts';
import { Alert } from '../../components/Alert.tsx';
import { Button } from '../../components/Button.tsx';
import { Card } from '../../components/Card.tsx';
import { CopyField } from '../../components/CopyField.tsx';
import { SelectField, TextField } from '../../components/Field.tsx';
import { useToast } from '../../components/Toaster.tsx';
import { useDraft } from '../../modules/drafts/use-draft.ts';
import { useCurrentUser } from '../../modules/session/SessionProvider.tsx';

interface NewUserDraft {
  name: string;
  email: string;
  role: Role;
}

const EMPTY: NewUserDraft = { name: '', email: '', role: 'member' };

function InvitePanel({ created, onDone }: { created: AdminCreatedUser; onDone: () => void }) {
  if (!created.inviteUrl) return null;
  return (
    <div className="mb-5 space-y-3 rounded-lg border border-success/30 bg-success-soft p-4">
      <div>
        <p className="text-sm font-medium text-fg">
          {created.user.name} was added — send them their invite link
        </p>
        <p className="text-[13px] text-muted">
          With this link {created.user.email} chooses a password and signs in. Anyone with the link
          can use it, so share it privately.
        </p>
      </div>
      <CopyField label="Invite link" value={created.inviteUrl} copyLabel="Copy link" />
      <div className="flex justify-end">
        <Button size="sm" onClick={onDone}>
          Done
        </Button>
      </div>
    </div>
  );
}

/** Add a user with a password, or without one to get an invite link to hand over. */
export function CreateUserForm() {
  const me = useCurrentUser();
  const toast = useToast();
  const queryClient = useQueryClient();
  const [draft, setDraft, clearDraft] = useDraft<NewUserDraft>(`${me.id}.new-user`, EMPTY);
  const [password, setPassword] = useState('');
  const [created, setCreated] = useState<AdminCreatedUser | null>(null);

  const create = useMutation({
    mutationFn: createUser,
    onSuccess: (result) => {
      clearDraft(EMPTY);
      setPassword('');
      queryClient.setQueryData<User[]>(queryKeys.adminUsers(), (list) =>
        list ? [...list.filter((user) => user.id !== result.user.id), result.user] : list,
      );
      void queryClient.invalidateQueries({ queryKey: queryKeys.adminUsers() });
      setCreated(result.inviteUrl ? result : null);
      if (!result.inviteUrl)
        toast(`${result.user.name} can now sign in with the password you chose.`);
    },
  });

  const fields = fieldErrors(create.error);
  const formError = hasCode(create.error, 'conflict')
    ? null
    : create.error && Object.keys(fields).length === 0
      ? create.error.message
      : null;
  const emailError = hasCode(create.error, 'conflict')
    ? 'A user with this email already exists.'
    : fields.email;

  return (
    <form
      onSubmit={(event) => {
        event.preventDefault();
        create.mutate({
          name: draft.name.trim(),
          email: draft.email.trim(),
          role: draft.role,
          password: password === '' ? undefined : password,
        });
      }}
    >
      <Card
        title="Add a user"
        description="Leave the password empty to get an invite link; the person then chooses their own password."
        footer={
          <Button type="submit" variant="primary" pending={create.isPending}>
            Create user
          </Button>
        }
      >
        {created ? <InvitePanel created={created} onDone={() => setCreated(null)} /> : null}
        {formError ? (
          <Alert tone="error" className="mb-4">
            {formError}
          </Alert>
        ) : null}
        <div className="grid grid-cols-2 gap-4 xl:grid-cols-[1fr_1fr_9rem_1fr]">
          <TextField
            label="Name"
            name="name"
            required
            maxLength={100}
            autoComplete="off"
            value={draft.name}
            onChange={(event) => setDraft({ ...draft, name: event.target.value })}
            error={fields.name}
          />
          <TextField
            label="Email"
            type="email"
            name="email"
            required
            autoComplete="off"
            value={draft.email}
            onChange={(event) => setDraft({ ...draft, email: event.target.value })}
            error={emailError}
          />
          <SelectField
            label="Role"
            value={draft.role}
            onChange={(event) => setDraft({ ...draft, role: event.target.value as Role })}
            error={fields.role}
          >
            <option value="member">Member</option>
            <option value="admin">Admin</option>
          </SelectField>
          <TextField
            label="Password (optional)"
            type="password"
            name="new-user-password"
            autoComplete="new-password"
            minLength={10}
            maxLength={128}
            value={password}
            onChange={(event) => setPassword(event.target.value)}
            hint="Leave empty to invite."
            error={fields.password}
          />
        </div>
      </Card>
    </form>
  );
}
