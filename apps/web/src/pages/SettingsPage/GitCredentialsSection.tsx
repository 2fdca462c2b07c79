import type { GitCredential } from '@studio/protocol';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import {
  deleteGitCredential,
  gitCredentialsQueryKey,
  gitCredentialsQueryOptions,
  saveGitCredential,
} from '../../api/git.ts';
import { fieldErrors } from '../../api/http.ts';
import { Alert } from '../../components/Alert.tsx';
import { Button } from '../../components/Button.tsx';
import { Card } from '../../components/Card.tsx';
import { ConfirmRemoval } from '../../components/ConfirmDialog.tsx';
import { TextField } from '../../components/Field.tsx';
import { formatDate, formatDateTime } from '../../components/format-date.ts';
import { Loading } from '../../components/Spinner.tsx';
import { useToast } from '../../components/Toaster.tsx';
import { TableHead } from '../../components/TableHead.tsx';

const EMPTY = { host: '', username: '', token: '' };

/**
 * HTTPS tokens for git hosts. Stored encrypted on the server and handed to git inside your own
 * workspaces only when git asks for that host; never shown again, never written into a workspace.
 */
export function GitCredentialsSection() {
  const toast = useToast();
  const queryClient = useQueryClient();
  const credentials = useQuery(gitCredentialsQueryOptions());
  // The token is deliberately not kept as a draft in the browser's storage.
  const [form, setForm] = useState(EMPTY);
  const [removing, setRemoving] = useState<GitCredential | null>(null);

  const save = useMutation({
    mutationFn: () =>
      saveGitCredential(form.host.trim(), {
        token: form.token,
        ...(form.username.trim() ? { username: form.username.trim() } : {}),
      }),
    onSuccess: (saved) => {
      setForm(EMPTY);
      toast(`Token for ${saved.host} saved.`);
      void queryClient.invalidateQueries({ queryKey: gitCredentialsQueryKey });
    },
  });
  const remove = useMutation({
    mutationFn: (credential: GitCredential) => deleteGitCredential(credential.host),
    onSuccess: (_, credential) => {
      setRemoving(null);
      toast(`Token for ${credential.host} removed.`);
      void queryClient.invalidateQueries({ queryKey: gitCredentialsQueryKey });
    },
  });
  const fields = fieldErrors(save.error);
  const hostError =
    fields.host ?? (save.error?.message.match(/host/i) ? save.error.message : undefined);

  return (
    <Card
      id="git-credentials"
      title="Git credentials"
      description="A personal access token per git host (GitHub, GitLab, your own server). Git in your workspaces uses it to clone, pull and push over HTTPS."
    >
      <form
        className="grid grid-cols-[minmax(0,1fr)_minmax(0,0.8fr)] items-start gap-3"
        onSubmit={(event) => {
          event.preventDefault();
          save.mutate();
        }}
      >
        <TextField
          label="Host"
          name="git-host"
          required
          placeholder="github.com"
          autoComplete="off"
          spellCheck={false}
          value={form.host}
          onChange={(event) => setForm({ ...form, host: event.target.value })}
          error={hostError}
        />
        <TextField
          label="User name"
          name="git-username"
          placeholder="optional"
          autoComplete="off"
          spellCheck={false}
          value={form.username}
          onChange={(event) => setForm({ ...form, username: event.target.value })}
          error={fields.username}
        />
        <TextField
          label="Token"
          name="git-token"
          type="password"
          required
          autoComplete="new-password"
          value={form.token}
          onChange={(event) => setForm({ ...form, token: event.target.value })}
          error={fields.token}
          fieldClassName="col-span-2"
          hint="Saving replaces any token you stored for this host."
        />
        <div className="col-span-2 flex justify-end">
          <Button type="submit" variant="primary" pending={save.isPending}>
            Save token
          </Button>
        </div>
      </form>
      {save.error && !hostError && Object.keys(fields).length === 0 ? (
        <Alert tone="error" className="mt-3">
          {save.error.message}
        </Alert>
      ) : null}

      <div className="mt-6">
        {credentials.isPending ? (
          <Loading label="Loading git credentials…" />
        ) : credentials.isError ? (
          <Alert tone="error">{credentials.error.message}</Alert>
        ) : credentials.data.length === 0 ? (
          <p className="rounded-md border border-dashed border-line-strong px-4 py-6 text-center text-sm text-muted">
            No git tokens yet. Public repositories clone without one.
          </p>
        ) : (
          <div className="overflow-x-auto rounded-md border border-line">
            <table className="w-full text-left text-sm">
              <caption className="sr-only">Your git credentials</caption>
              <TableHead columns={['Host', 'User name', 'Saved']} compact />
              <tbody className="divide-y divide-line">
                {credentials.data.map((credential) => (
                  <tr key={credential.host}>
                    <td className="px-4 py-2.5 font-mono text-[13px] text-fg">{credential.host}</td>
                    <td className="px-4 py-2.5 text-muted">{credential.username}</td>
                    <td
                      className="px-4 py-2.5 text-muted"
                      title={formatDateTime(credential.createdAt)}
                    >
                      {formatDate(credential.createdAt)}
                    </td>
                    <td className="px-4 py-2 text-right">
                      <Button
                        size="sm"
                        variant="danger"
                        aria-label={`Remove the token for ${credential.host}`}
                        onClick={() => setRemoving(credential)}
                      >
                        Remove
                      </Button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
      <ConfirmRemoval
        item={removing}
        mutation={remove}
        title={(host) => `Remove the token for ${host}?`}
        description="Git in your workspaces can no longer push to or pull private repositories from this host until you add a token again."
        confirmLabel="Remove token"
        onClose={() => setRemoving(null)}
      />
    </Card>
  );
}
