import { AI_PROVIDER_KINDS, type AiProvider, type AiProviderKind } from '@studio/protocol';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import {
  aiProvidersQueryOptions,
  createAiProvider,
  deleteAiProvider,
  updateAiProvider,
} from '../../api/ai-settings.ts';
import { teamsQueryOptions } from '../../api/members.ts';
import { queryKeys } from '../../api/query-keys.ts';
import { Alert } from '../../components/Alert.tsx';
import { Badge } from '../../components/Badge.tsx';
import { Button } from '../../components/Button.tsx';
import { ConfirmRemoval } from '../../components/ConfirmDialog.tsx';
import { Dialog } from '../../components/Dialog.tsx';
import { SelectField, TextField } from '../../components/Field.tsx';
import { Loading } from '../../components/Spinner.tsx';
import { TableHead } from '../../components/TableHead.tsx';
import { useToast } from '../../components/Toaster.tsx';
import {
  createProviderBody,
  EMPTY_PROVIDER_FORM,
  KIND_LABELS,
  providerEditFor,
  providerErrors,
  scopeLabel,
  updateProviderBody,
  type ProviderEdit,
} from './ai-settings-form.ts';

const BASE_URL_PLACEHOLDER = 'http://localhost:11434/v1';

/** A checkbox with its label beside it. */
function Checkbox({
  label,
  checked,
  onChange,
}: {
  label: string;
  checked: boolean;
  onChange: (checked: boolean) => void;
}) {
  return (
    <label className="flex items-center gap-2 text-[13px] text-fg">
      <input
        type="checkbox"
        className="size-4 accent-accent"
        checked={checked}
        onChange={(event) => onChange(event.target.checked)}
      />
      {label}
    </label>
  );
}

function invalidateAi(queryClient: ReturnType<typeof useQueryClient>) {
  // Settings name providers, and a provider's model list depends on its URL and key.
  return queryClient.invalidateQueries({ queryKey: ['ai'] });
}

/** The add-provider form; the key stays in memory only, never in a stored draft. */
function AddProviderForm({ isAdmin }: { isAdmin: boolean }) {
  const toast = useToast();
  const queryClient = useQueryClient();
  const [form, setForm] = useState(EMPTY_PROVIDER_FORM);
  const teams = useQuery({ ...teamsQueryOptions(), enabled: isAdmin });
  const create = useMutation({
    mutationFn: () => createAiProvider(createProviderBody(form, isAdmin)),
    onSuccess: (provider) => {
      setForm({ ...EMPTY_PROVIDER_FORM, kind: form.kind });
      toast(`Provider ${provider.name} added.`);
      void invalidateAi(queryClient);
    },
  });
  const { fields, general } = providerErrors(create.error);
  const compatible = form.kind === 'openai-compatible';

  const baseUrl = (
    <TextField
      label="Base URL"
      name="ai-base-url"
      type="url"
      required={compatible}
      placeholder={compatible ? BASE_URL_PLACEHOLDER : 'optional: the vendor’s API'}
      autoComplete="off"
      spellCheck={false}
      value={form.baseUrl}
      onChange={(event) => setForm({ ...form, baseUrl: event.target.value })}
      error={fields.baseUrl}
      hint={compatible ? 'Ollama, vLLM, LM Studio or any OpenAI-compatible server.' : undefined}
      fieldClassName="col-span-2"
    />
  );

  return (
    <form
      aria-label="Add an AI provider"
      className="grid grid-cols-2 items-start gap-3"
      onSubmit={(event) => {
        event.preventDefault();
        create.mutate();
      }}
    >
      <SelectField
        label="Kind"
        value={form.kind}
        onChange={(event) => setForm({ ...form, kind: event.target.value as AiProviderKind })}
        error={fields.kind}
      >
        {AI_PROVIDER_KINDS.map((kind) => (
          <option key={kind} value={kind}>
            {KIND_LABELS[kind]}
          </option>
        ))}
      </SelectField>
      <TextField
        label="Name"
        name="ai-provider-name"
        required
        maxLength={80}
        placeholder={compatible ? 'e.g. Ollama' : `e.g. ${KIND_LABELS[form.kind]}`}
        autoComplete="off"
        value={form.name}
        onChange={(event) => setForm({ ...form, name: event.target.value })}
        error={fields.name}
      />
      {compatible ? baseUrl : null}
      <TextField
        label="API key"
        name="ai-api-key"
        type="password"
        autoComplete="new-password"
        placeholder={compatible ? 'optional' : undefined}
        value={form.apiKey}
        onChange={(event) => setForm({ ...form, apiKey: event.target.value })}
        error={fields.apiKey}
        hint={compatible ? 'Optional: Ollama needs none.' : 'Stored encrypted; never shown again.'}
      />
      <TextField
        label="Models"
        name="ai-models"
        placeholder="optional, e.g. llama3, qwen2.5-coder"
        autoComplete="off"
        spellCheck={false}
        value={form.models}
        onChange={(event) => setForm({ ...form, models: event.target.value })}
        error={fields.models}
        hint="Separated by commas or spaces; added to the endpoint’s own list."
      />
      {compatible ? null : baseUrl}
      <div className="col-span-2 flex items-center justify-between gap-3">
        {isAdmin ? (
          <SelectField
            label="Who uses it"
            value={form.owner}
            onChange={(event) => setForm({ ...form, owner: event.target.value })}
            error={fields.scope ?? fields.team}
          >
            <option value="user">Only you</option>
            <option value="organization">Everyone (the organisation)</option>
            {(teams.data ?? []).map((team) => (
              <option key={team.id} value={`team:${team.name}`}>
                Team {team.name}
              </option>
            ))}
          </SelectField>
        ) : (
          <span />
        )}
        <Button type="submit" variant="primary" pending={create.isPending}>
          Add provider
        </Button>
      </div>
      {general ? (
        <Alert tone="error" className="col-span-2">
          {general}
        </Alert>
      ) : null}
    </form>
  );
}

/** Edit a provider's name, URL, key and models. */
function EditProviderDialog({
  provider,
  onClose,
}: {
  provider: AiProvider | null;
  onClose: () => void;
}) {
  return (
    <Dialog
      open={provider !== null}
      onClose={onClose}
      title={`Edit ${provider?.name ?? 'provider'}`}
      description="Leave the key blank to keep the one stored."
    >
      {provider ? <EditProviderForm provider={provider} onDone={onClose} /> : null}
    </Dialog>
  );
}

function EditProviderForm({ provider, onDone }: { provider: AiProvider; onDone: () => void }) {
  const toast = useToast();
  const queryClient = useQueryClient();
  const [edit, setEdit] = useState<ProviderEdit>(() => providerEditFor(provider));
  const update = useMutation({
    mutationFn: () => updateAiProvider(provider.id, updateProviderBody(provider, edit)),
    onSuccess: (saved) => {
      toast(`Provider ${saved.name} saved.`);
      void invalidateAi(queryClient);
      onDone();
    },
  });
  const { fields, general } = providerErrors(update.error);

  return (
    <form
      className="grid gap-3 pb-6"
      onSubmit={(event) => {
        event.preventDefault();
        update.mutate();
      }}
    >
      <TextField
        label="Name"
        required
        maxLength={80}
        autoComplete="off"
        value={edit.name}
        onChange={(event) => setEdit({ ...edit, name: event.target.value })}
        error={fields.name}
      />
      <TextField
        label="Base URL"
        type="url"
        required={provider.kind === 'openai-compatible'}
        placeholder={provider.kind === 'openai-compatible' ? BASE_URL_PLACEHOLDER : 'optional'}
        autoComplete="off"
        spellCheck={false}
        value={edit.baseUrl}
        onChange={(event) => setEdit({ ...edit, baseUrl: event.target.value })}
        error={fields.baseUrl}
      />
      <TextField
        label="New API key"
        type="password"
        autoComplete="new-password"
        placeholder={provider.keyHint ? `keep ${provider.keyHint}` : 'no key stored'}
        disabled={edit.removeKey}
        value={edit.apiKey}
        onChange={(event) => setEdit({ ...edit, apiKey: event.target.value })}
        error={fields.apiKey}
      />
      {provider.hasKey ? (
        <Checkbox
          label="Remove the stored key"
          checked={edit.removeKey}
          onChange={(removeKey) => setEdit({ ...edit, removeKey, apiKey: '' })}
        />
      ) : null}
      <TextField
        label="Models"
        autoComplete="off"
        spellCheck={false}
        value={edit.models}
        onChange={(event) => setEdit({ ...edit, models: event.target.value })}
        error={fields.models}
        hint="Separated by commas or spaces."
      />
      {general ? <Alert tone="error">{general}</Alert> : null}
      <div className="flex justify-end gap-2 pt-3">
        <Button onClick={onDone} disabled={update.isPending}>
          Cancel
        </Button>
        <Button type="submit" variant="primary" pending={update.isPending}>
          Save provider
        </Button>
      </div>
    </form>
  );
}

/** Providers: add one, list them (yours and the organisation's), edit and delete. */
export function AiProvidersPanel({ isAdmin }: { isAdmin: boolean }) {
  const toast = useToast();
  const queryClient = useQueryClient();
  const providers = useQuery(aiProvidersQueryOptions());
  const [editing, setEditing] = useState<AiProvider | null>(null);
  const [removing, setRemoving] = useState<AiProvider | null>(null);
  const remove = useMutation({
    mutationFn: (provider: AiProvider) => deleteAiProvider(provider.id),
    onSuccess: (_, provider) => {
      setRemoving(null);
      toast(`Provider ${provider.name} deleted.`);
      queryClient.setQueryData<AiProvider[]>(queryKeys.aiProviders(), (list) =>
        list?.filter((item) => item.id !== provider.id),
      );
      void invalidateAi(queryClient);
    },
  });

  return (
    <div className="space-y-5">
      <AddProviderForm isAdmin={isAdmin} />
      {providers.isPending ? (
        <Loading label="Loading AI providers…" />
      ) : providers.isError ? (
        <Alert tone="error">{providers.error.message}</Alert>
      ) : providers.data.length === 0 ? (
        <p className="rounded-md border border-dashed border-line-strong px-4 py-6 text-center text-sm text-muted">
          No AI providers yet. Add one above — a local Ollama needs only its base URL.
        </p>
      ) : (
        <div className="overflow-x-auto rounded-md border border-line">
          <table className="w-full text-left text-sm">
            <caption className="sr-only">AI providers</caption>
            <TableHead columns={['Name', 'Kind', 'Base URL', 'Key', 'Scope']} compact />
            <tbody className="divide-y divide-line">
              {providers.data.map((provider) => {
                const editable = provider.scope === 'user' || isAdmin;
                return (
                  <tr key={provider.id}>
                    <td className="px-4 py-2.5 font-medium text-fg">{provider.name}</td>
                    <td className="px-4 py-2.5 text-muted">{KIND_LABELS[provider.kind]}</td>
                    <td className="max-w-72 px-4 py-2.5 font-mono text-[13px] break-all text-muted">
                      {provider.baseUrl ?? '—'}
                    </td>
                    <td className="px-4 py-2.5 font-mono text-[13px] text-muted">
                      {provider.hasKey ? (provider.keyHint ?? 'stored') : 'no key'}
                    </td>
                    <td className="px-4 py-2.5">
                      <Badge tone={provider.scope === 'user' ? 'neutral' : 'accent'}>
                        {scopeLabel(provider.scope, provider.team)}
                      </Badge>
                    </td>
                    <td className="px-4 py-2 text-right whitespace-nowrap">
                      {editable ? (
                        <div className="flex justify-end gap-2">
                          <Button
                            size="sm"
                            aria-label={`Edit ${provider.name}`}
                            onClick={() => setEditing(provider)}
                          >
                            Edit
                          </Button>
                          <Button
                            size="sm"
                            variant="danger"
                            aria-label={`Delete ${provider.name}`}
                            onClick={() => setRemoving(provider)}
                          >
                            Delete
                          </Button>
                        </div>
                      ) : null}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <EditProviderDialog provider={editing} onClose={() => setEditing(null)} />
      <ConfirmRemoval
        item={removing}
        mutation={remove}
        title={(provider) => `Delete ${provider.name}?`}
        description={(provider) =>
          provider.scope === 'organization'
            ? 'Its stored key is erased. Everyone whose chat, agent or completions use it needs another model.'
            : provider.scope === 'team'
              ? `Its stored key is erased. People of team ${provider.team ?? ''} whose roles use it need another model.`
              : 'Its stored key is erased. Roles that use it need another model.'
        }
        confirmLabel="Delete provider"
        onClose={() => setRemoving(null)}
      />
    </div>
  );
}
