import {
  AI_ROLES,
  type AiProvider,
  type AiRole,
  type AiScope,
  type AiSettings,
} from '@studio/protocol';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import {
  aiModelsQueryOptions,
  aiProvidersQueryOptions,
  aiSettingsQueryOptions,
  saveAiSettings,
} from '../../api/ai-settings.ts';
import { queryKeys } from '../../api/query-keys.ts';
import { Alert } from '../../components/Alert.tsx';
import { Button } from '../../components/Button.tsx';
import { InlineSelect } from '../../components/Field.tsx';
import { Loading } from '../../components/Spinner.tsx';
import { useToast } from '../../components/Toaster.tsx';
import {
  changedRoles,
  describeEffective,
  modelOptions,
  ROLE_LABELS,
  rolesDraftFrom,
  type RoleDraft,
  type RolesDraft,
} from './ai-settings-form.ts';

type RoleChanges = ReturnType<typeof changedRoles>['changes'];

// The model select's last option: switch to a text input for a model the list does not have.
const TYPE_MODEL = '\u0000type';

/** Accessible names of a cell's controls; the organisation's never contain "Chat provider" etc. */
function controlNames(role: AiRole, scope: AiScope) {
  const { label, select } = ROLE_LABELS[role];
  if (scope === 'user') {
    return {
      provider: `${select} provider`,
      model: `${select} model`,
      typed: `Custom model for ${label.toLowerCase()}`,
    };
  }
  return {
    provider: `Organisation provider for ${label.toLowerCase()}`,
    model: `Organisation model for ${label.toLowerCase()}`,
    typed: `Organisation custom model for ${label.toLowerCase()}`,
  };
}

/** The model select of one role, filled from the provider's `/models`; a model can be typed too. */
function ModelPicker({
  providerId,
  value,
  names,
  onChange,
}: {
  providerId: string;
  value: string;
  names: ReturnType<typeof controlNames>;
  onChange: (model: string) => void;
}) {
  const models = useQuery({ ...aiModelsQueryOptions(providerId), enabled: providerId !== '' });
  const [typing, setTyping] = useState(false);
  const listed = models.data?.models ?? [];
  const options = modelOptions(listed, typing ? '' : value);

  return (
    <div className="space-y-1">
      <InlineSelect
        aria-label={names.model}
        className="w-56"
        disabled={!providerId}
        value={typing ? TYPE_MODEL : value}
        onChange={(event) => {
          const next = event.target.value;
          setTyping(next === TYPE_MODEL);
          onChange(next === TYPE_MODEL ? value : next);
        }}
      >
        <option value="">{providerId ? 'Choose a model' : '—'}</option>
        {options.map((model) => (
          <option key={model} value={model}>
            {model}
          </option>
        ))}
        {providerId ? <option value={TYPE_MODEL}>Type a model id…</option> : null}
      </InlineSelect>
      {typing ? (
        <input
          aria-label={names.typed}
          className="block h-8 w-56 rounded-md border border-line-strong bg-surface px-3 font-mono text-[13px] text-fg shadow-xs"
          placeholder="model id"
          autoComplete="off"
          spellCheck={false}
          value={value}
          onChange={(event) => onChange(event.target.value)}
        />
      ) : null}
      {providerId ? (
        <p className="text-xs text-muted">
          {models.isPending
            ? 'Loading models…'
            : models.isError
              ? 'Could not list models; type one.'
              : models.data.source === 'endpoint'
                ? 'From the endpoint'
                : 'Configured'}
        </p>
      ) : null}
      {models.data?.error ? <p className="text-xs text-danger">{models.data.error}</p> : null}
    </div>
  );
}

/** One role at one scope: a provider select and a model select. */
function RoleCell({
  role,
  scope,
  draft,
  providers,
  onChange,
}: {
  role: AiRole;
  scope: AiScope;
  draft: RoleDraft;
  providers: AiProvider[];
  onChange: (draft: RoleDraft) => void;
}) {
  const names = controlNames(role, scope);
  // The organisation's defaults can only use the organisation's providers.
  const choices = scope === 'organization' ? providers.filter((p) => p.scope === scope) : providers;
  const known = draft.providerId === '' || choices.some((p) => p.id === draft.providerId);

  return (
    <td className="space-y-1.5 px-4 py-2.5 align-top">
      <InlineSelect
        aria-label={names.provider}
        className="w-56"
        value={draft.providerId}
        onChange={(event) => onChange({ providerId: event.target.value, model: '' })}
      >
        <option value="">{scope === 'user' ? 'Organisation default' : 'No model'}</option>
        {known ? null : <option value={draft.providerId}>A deleted provider</option>}
        {choices.map((provider) => (
          <option key={provider.id} value={provider.id}>
            {provider.name} ({providerOwner(provider)})
          </option>
        ))}
      </InlineSelect>
      <ModelPicker
        // A new provider starts with its own list, not the previous one's typed state.
        key={draft.providerId}
        providerId={draft.providerId}
        value={draft.model}
        names={names}
        onChange={(model) => onChange({ ...draft, model })}
      />
    </td>
  );
}

function RolesForm({
  settings,
  providers,
  isAdmin,
}: {
  settings: AiSettings;
  providers: AiProvider[];
  isAdmin: boolean;
}) {
  const toast = useToast();
  const queryClient = useQueryClient();
  const [mine, setMine] = useState<RolesDraft>(() => rolesDraftFrom(settings, 'user'));
  const [org, setOrg] = useState<RolesDraft>(() => rolesDraftFrom(settings, 'organization'));
  const [missing, setMissing] = useState<string | null>(null);

  const save = useMutation({
    mutationFn: async (changes: { user: RoleChanges; organization: RoleChanges }) => {
      let saved: AiSettings | null = null;
      if (Object.keys(changes.organization).length > 0) {
        saved = await saveAiSettings({ scope: 'organization', ...changes.organization });
      }
      // Always one PUT, so "Save models" with nothing changed still answers fresh settings.
      if (Object.keys(changes.user).length > 0 || saved === null) {
        saved = await saveAiSettings({ scope: 'user', ...changes.user });
      }
      return saved;
    },
    onSuccess: (saved) => {
      queryClient.setQueryData(queryKeys.aiSettings(), saved);
      toast('Models saved.');
    },
  });

  const submit = () => {
    const user = changedRoles(rolesDraftFrom(settings, 'user'), mine);
    const organization = isAdmin
      ? changedRoles(rolesDraftFrom(settings, 'organization'), org)
      : { changes: {}, missingModel: [] };
    const roles = [...new Set([...user.missingModel, ...organization.missingModel])];
    if (roles.length > 0) {
      setMissing(`Choose a model for ${roles.map((r) => ROLE_LABELS[r].label).join(', ')}.`);
      return;
    }
    setMissing(null);
    save.mutate({ user: user.changes, organization: organization.changes });
  };

  return (
    <form
      className="space-y-3"
      onSubmit={(event) => {
        event.preventDefault();
        submit();
      }}
    >
      <div className="overflow-x-auto rounded-md border border-line">
        <table className="w-full text-left text-sm">
          <caption className="sr-only">Which model serves each role</caption>
          <thead className="bg-subtle text-[12px] tracking-wide text-muted uppercase">
            <tr>
              <th scope="col" className="px-4 py-2 font-medium">
                Role
              </th>
              <th scope="col" className="px-4 py-2 font-medium">
                Yours
              </th>
              {isAdmin ? (
                <th scope="col" className="px-4 py-2 font-medium">
                  Organisation default
                </th>
              ) : null}
            </tr>
          </thead>
          <tbody className="divide-y divide-line">
            {AI_ROLES.map((role) => (
              <tr key={role}>
                <th scope="row" className="px-4 py-3 align-top font-medium text-fg">
                  {ROLE_LABELS[role].label}
                </th>
                <RoleCell
                  role={role}
                  scope="user"
                  draft={mine[role]}
                  providers={providers}
                  onChange={(draft) => setMine({ ...mine, [role]: draft })}
                />
                {isAdmin ? (
                  <RoleCell
                    role={role}
                    scope="organization"
                    draft={org[role]}
                    providers={providers}
                    onChange={(draft) => setOrg({ ...org, [role]: draft })}
                  />
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <ul className="space-y-0.5 text-[13px] text-muted" aria-label="Models in use">
        {AI_ROLES.map((role) => (
          <li key={role}>{describeEffective(role, settings)}</li>
        ))}
      </ul>
      {missing ? <Alert tone="error">{missing}</Alert> : null}
      {save.error ? <Alert tone="error">{save.error.message}</Alert> : null}
      <div className="flex items-center justify-between gap-3">
        <p className="text-[13px] text-muted">
          Yours wins over the organisation default, role by role.
        </p>
        <Button type="submit" variant="primary" pending={save.isPending}>
          Save models
        </Button>
      </div>
    </form>
  );
}

/** Which model serves chat, the agent and inline completions: yours, and (admins) the default. */
export function AiModelRoles({ isAdmin }: { isAdmin: boolean }) {
  const settings = useQuery(aiSettingsQueryOptions());
  const providers = useQuery(aiProvidersQueryOptions());
  if (settings.isPending || providers.isPending) return <Loading label="Loading AI models…" />;
  if (settings.isError) return <Alert tone="error">{settings.error.message}</Alert>;
  if (providers.isError) return <Alert tone="error">{providers.error.message}</Alert>;
  return (
    <RolesForm
      // Saved settings (from here or elsewhere) restart the form from what the server holds.
      key={JSON.stringify([settings.data.user, settings.data.organization])}
      settings={settings.data}
      providers={providers.data}
      isAdmin={isAdmin}
    />
  );
}

/** Whose a provider is, after its name in a select: "organisation", "team core" or "yours". */
function providerOwner(provider: AiProvider): string {
  if (provider.scope === 'team') return `team ${provider.team ?? ''}`.trim();
  return provider.scope === 'organization' ? 'organisation' : 'yours';
}
