import type { ApiToken, CreatedToken, TokenScope } from '@studio/protocol';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { fieldErrors } from '../../api/http.ts';
import { queryKeys } from '../../api/query-keys.ts';
import { createToken, revokeToken, tokensQueryOptions } from '../../api/tokens.ts';
import { workspacesQueryOptions } from '../../api/workspaces.ts';
import { Alert } from '../../components/Alert.tsx';
import { Badge } from '../../components/Badge.tsx';
import { Button } from '../../components/Button.tsx';
import { Card } from '../../components/Card.tsx';
import { ConfirmDialog } from '../../components/ConfirmDialog.tsx';
import { CopyField } from '../../components/CopyField.tsx';
import { SelectField, TextField } from '../../components/Field.tsx';
import { formatDate, formatDateTime, formatRelative } from '../../components/format-date.ts';
import { Loading } from '../../components/Spinner.tsx';
import { useToast } from '../../components/Toaster.tsx';
import { TableHead } from '../../components/TableHead.tsx';
import { useDraft } from '../../modules/drafts/use-draft.ts';
import { useCurrentUser } from '../../modules/session/SessionProvider.tsx';

const EXPIRY_OPTIONS = [
  { value: '30', label: '30 days' },
  { value: '90', label: '90 days' },
  { value: '365', label: '1 year' },
  { value: 'never', label: 'Never' },
];

const SCOPE_LABELS: Record<TokenScope, string> = {
  full: 'Full access',
  read: 'Read-only',
  workspace: 'One workspace',
  metrics: 'Metrics only',
};

interface TokenDraft {
  name: string;
  expiry: string;
  /** Older drafts have none: full access. */
  scope?: TokenScope;
  workspace?: string;
}

function scopeLabel(token: ApiToken): string {
  return token.scope === 'workspace' && token.workspace
    ? `Workspace ${token.workspace.name}`
    : SCOPE_LABELS[token.scope];
}

function isExpired(token: ApiToken, now: number): boolean {
  return token.expiresAt !== null && new Date(token.expiresAt).getTime() <= now;
}

function NewTokenPanel({ created, onDone }: { created: CreatedToken; onDone: () => void }) {
  return (
    <div className="mb-5 space-y-3 rounded-lg border border-success/30 bg-success-soft p-4">
      <div>
        <p className="text-sm font-medium text-fg">Token “{created.token.name}” created</p>
        <p className="text-[13px] text-muted">
          Copy it now — it will not be shown again. Send it as{' '}
          <code className="font-mono">Authorization: Bearer …</code>.
        </p>
      </div>
      <CopyField label="New token" value={created.secret} copyLabel="Copy token" />
      <div className="flex justify-end">
        <Button size="sm" onClick={onDone}>
          Done
        </Button>
      </div>
    </div>
  );
}

/** Create (secret shown once), list and revoke API tokens. */
export function TokensSection() {
  const user = useCurrentUser();
  const toast = useToast();
  const queryClient = useQueryClient();
  const tokens = useQuery(tokensQueryOptions());
  const workspaces = useQuery(workspacesQueryOptions());
  const [draft, setDraft, clearDraft] = useDraft<TokenDraft>(`${user.id}.new-token`, {
    name: '',
    expiry: '90',
  });
  const scope = draft.scope ?? 'full';
  const [created, setCreated] = useState<CreatedToken | null>(null);
  const [revoking, setRevoking] = useState<ApiToken | null>(null);
  const [now] = useState(() => Date.now());

  const create = useMutation({
    mutationFn: createToken,
    onSuccess: (result) => {
      setCreated(result);
      clearDraft({ name: '', expiry: draft.expiry, scope });
      queryClient.setQueryData<ApiToken[]>(queryKeys.tokens(), (list) =>
        list ? [result.token, ...list.filter((token) => token.id !== result.token.id)] : list,
      );
      void queryClient.invalidateQueries({ queryKey: queryKeys.tokens() });
    },
  });

  const revoke = useMutation({
    mutationFn: (token: ApiToken) => revokeToken(token.id),
    onSuccess: (_, token) => {
      setRevoking(null);
      if (created?.token.id === token.id) setCreated(null);
      queryClient.setQueryData<ApiToken[]>(queryKeys.tokens(), (list) =>
        list?.filter((item) => item.id !== token.id),
      );
      toast(`Token “${token.name}” revoked.`);
    },
  });

  const fields = fieldErrors(create.error);

  return (
    <Card
      id="api-tokens"
      title="API tokens"
      description="Tokens let the studio CLI and scripts act as you. Treat them like passwords."
    >
      {created ? <NewTokenPanel created={created} onDone={() => setCreated(null)} /> : null}

      <form
        className="flex flex-wrap items-start gap-3"
        onSubmit={(event) => {
          event.preventDefault();
          create.mutate({
            name: draft.name.trim(),
            expiresInDays: draft.expiry === 'never' ? undefined : Number(draft.expiry),
            scope,
            ...(scope === 'workspace' ? { workspace: draft.workspace ?? '' } : {}),
          });
        }}
      >
        <TextField
          label="Token name"
          name="token-name"
          placeholder="e.g. laptop CLI"
          required
          maxLength={100}
          autoComplete="off"
          value={draft.name}
          onChange={(event) => setDraft({ ...draft, name: event.target.value })}
          error={fields.name}
          fieldClassName="min-w-56 flex-1"
        />
        <SelectField
          label="Expires"
          value={draft.expiry}
          onChange={(event) => setDraft({ ...draft, expiry: event.target.value })}
          error={fields.expiresInDays}
          fieldClassName="w-36"
        >
          {EXPIRY_OPTIONS.map((option) => (
            <option key={option.value} value={option.value}>
              {option.label}
            </option>
          ))}
        </SelectField>
        <SelectField
          label="Access"
          value={scope}
          onChange={(event) => setDraft({ ...draft, scope: event.target.value as TokenScope })}
          error={fields.scope}
          fieldClassName="w-40"
        >
          {(Object.keys(SCOPE_LABELS) as TokenScope[])
            .filter((value) => value !== 'metrics' || user.role === 'admin')
            .map((value) => (
              <option key={value} value={value}>
                {SCOPE_LABELS[value]}
              </option>
            ))}
        </SelectField>
        {scope === 'workspace' ? (
          <SelectField
            label="Workspace"
            required
            value={draft.workspace ?? ''}
            onChange={(event) => setDraft({ ...draft, workspace: event.target.value })}
            error={fields.workspace}
            fieldClassName="w-44"
          >
            <option value="" disabled>
              Choose…
            </option>
            {(workspaces.data ?? [])
              .filter((workspace) => workspace.role === 'owner')
              .map((workspace) => (
                <option key={workspace.name} value={workspace.name}>
                  {workspace.name}
                </option>
              ))}
          </SelectField>
        ) : null}
        <Button type="submit" variant="primary" pending={create.isPending} className="mt-[26px]">
          Create token
        </Button>
      </form>
      {create.error && Object.keys(fields).length === 0 ? (
        <Alert tone="error" className="mt-3">
          {create.error.message}
        </Alert>
      ) : null}

      <div className="mt-6">
        {tokens.isPending ? (
          <Loading label="Loading tokens…" />
        ) : tokens.isError ? (
          <Alert tone="error">{tokens.error.message}</Alert>
        ) : tokens.data.length === 0 ? (
          <p className="rounded-md border border-dashed border-line-strong px-4 py-6 text-center text-sm text-muted">
            You have no API tokens.
          </p>
        ) : (
          <div className="overflow-x-auto rounded-md border border-line">
            <table className="w-full text-left text-sm">
              <caption className="sr-only">Your API tokens</caption>
              <TableHead
                columns={['Name', 'Token', 'Access', 'Created', 'Last used', 'Expires']}
                compact
              />
              <tbody className="divide-y divide-line">
                {tokens.data.map((token) => (
                  <tr key={token.id}>
                    <td className="px-4 py-2.5 font-medium text-fg">{token.name}</td>
                    <td className="px-4 py-2.5 font-mono text-[13px] text-muted">
                      {token.prefix}…
                    </td>
                    <td className="px-4 py-2.5 text-muted">{scopeLabel(token)}</td>
                    <td className="px-4 py-2.5 text-muted" title={formatDateTime(token.createdAt)}>
                      {formatDate(token.createdAt)}
                    </td>
                    <td
                      className="px-4 py-2.5 text-muted"
                      title={token.lastUsedAt ? formatDateTime(token.lastUsedAt) : undefined}
                    >
                      {token.lastUsedAt ? formatRelative(token.lastUsedAt, now) : 'Never'}
                    </td>
                    <td className="px-4 py-2.5 text-muted">
                      {token.expiresAt === null ? (
                        'Never'
                      ) : isExpired(token, now) ? (
                        <Badge tone="danger">Expired</Badge>
                      ) : (
                        <span title={formatDateTime(token.expiresAt)}>
                          {formatDate(token.expiresAt)}
                        </span>
                      )}
                    </td>
                    <td className="px-4 py-2 text-right">
                      <Button size="sm" variant="danger" onClick={() => setRevoking(token)}>
                        Revoke
                      </Button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>

      <ConfirmDialog
        open={revoking !== null}
        title={`Revoke “${revoking?.name ?? ''}”?`}
        description="Anything using this token stops working at once. This cannot be undone."
        confirmLabel="Revoke token"
        pending={revoke.isPending}
        error={revoke.error?.message}
        onConfirm={() => {
          if (revoking) revoke.mutate(revoking);
        }}
        onClose={() => {
          setRevoking(null);
          revoke.reset();
        }}
      />
    </Card>
  );
}
