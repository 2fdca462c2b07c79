import {
  describeQuotaLeft,
  type CreateWorkspaceBody,
  type ListedTemplate,
  type Workspace,
} from '@studio/protocol';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useState } from 'react';
import { fieldErrors, hasCode } from '../../api/http.ts';
import { myQuotaQueryOptions } from '../../api/quotas.ts';
import {
  createWorkspace,
  templatesQueryOptions,
  workspacesQueryOptions,
} from '../../api/workspaces.ts';
import { Alert } from '../../components/Alert.tsx';
import { Button } from '../../components/Button.tsx';
import { Dialog } from '../../components/Dialog.tsx';
import { SelectField, TextField } from '../../components/Field.tsx';
import { useToast } from '../../components/Toaster.tsx';
import { useDraft } from '../drafts/use-draft.ts';
import { useCurrentUser } from '../session/SessionProvider.tsx';
import { addWorkspaceIfMissing, clearWorkspaceProgress } from './workspace-events.ts';
import { WorkspaceProgressLog } from './WorkspaceProgressLog.tsx';
import { isTransitioning, WorkspaceStatusBadge } from './WorkspaceStatusBadge.tsx';

interface NewWorkspaceDraft {
  name: string;
  /** Empty until the person picks one: then the server's `base` (or the first template) applies. */
  template: string;
  repoUrl: string;
  /** Empty means the template's own value. */
  cpus?: string;
  memoryGiB?: string;
  diskGiB?: string;
}

const EMPTY: NewWorkspaceDraft = { name: '', template: '', repoUrl: '' };

/** The resources typed in the form, as the API wants them; blank fields keep the template's. */
function pickedResources(draft: NewWorkspaceDraft): CreateWorkspaceBody['resources'] {
  const number = (text: string | undefined) =>
    text === undefined || text.trim() === '' ? undefined : Number(text);
  const cpus = number(draft.cpus);
  const memoryGiB = number(draft.memoryGiB);
  const diskGiB = number(draft.diskGiB);
  const picked = {
    ...(cpus !== undefined && { cpus }),
    ...(memoryGiB !== undefined && { memoryMiB: Math.round(memoryGiB * 1024) }),
    ...(diskGiB !== undefined && { diskMiB: Math.round(diskGiB * 1024) }),
  };
  return Object.keys(picked).length > 0 ? picked : undefined;
}
const DEFAULT_TEMPLATE = 'base';

/** Server messages are lower-case fragments ("must be 1–40 …"); shown as sentences. */
function sentence(text: string | undefined): string | undefined {
  return text ? text.charAt(0).toUpperCase() + text.slice(1) : undefined;
}

function describeTemplate(template: ListedTemplate | undefined): string | undefined {
  if (!template) return undefined;
  const { cpus, memoryMiB } = template.resources;
  const memory = memoryMiB % 1024 === 0 ? `${memoryMiB / 1024} GiB` : `${memoryMiB} MiB`;
  const limits = `${cpus} ${cpus === 1 ? 'CPU' : 'CPUs'}, ${memory} memory`;
  const tools = template.tools.map((tool) => `${tool.name} ${tool.version}`).join(', ');
  const described = [template.description, tools && `Has ${tools}.`, `(${limits})`]
    .filter(Boolean)
    .join(' ');
  return template.team ? `${described} — the ${template.team} team’s template` : described;
}

function CreateForm({
  formId,
  draft,
  setDraft,
  error,
  onSubmit,
}: {
  formId: string;
  draft: NewWorkspaceDraft;
  setDraft: (draft: NewWorkspaceDraft) => void;
  error: Error | null;
  onSubmit: (body: CreateWorkspaceBody) => void;
}) {
  const templates = useQuery(templatesQueryOptions());
  const quota = useQuery(myQuotaQueryOptions());
  const left = quota.data ? describeQuotaLeft(quota.data.left) : null;
  const list = templates.data ?? [];
  const templateName =
    draft.template ||
    (list.some((template) => template.name === DEFAULT_TEMPLATE)
      ? DEFAULT_TEMPLATE
      : (list[0]?.name ?? DEFAULT_TEMPLATE));
  const selected = list.find((template) => template.name === templateName);
  // A field's error is about what was sent: it goes once the person changes that field.
  const [edits, setEdits] = useState<{
    error: Error | null;
    fields: ReadonlySet<keyof NewWorkspaceDraft>;
  }>({ error: null, fields: new Set() });
  const edited = edits.error === error ? edits.fields : new Set<keyof NewWorkspaceDraft>();
  const edit = (change: Partial<NewWorkspaceDraft>) => {
    const fields = Object.keys(change) as (keyof NewWorkspaceDraft)[];
    setEdits({ error, fields: new Set([...edited, ...fields]) });
    setDraft({ ...draft, ...change });
  };

  const fields = fieldErrors(error);
  const nameError = hasCode(error, 'already_exists') ? error.message : sentence(fields.name);
  const templateError = hasCode(error, 'template_not_found')
    ? error.message
    : sentence(fields.template);
  const repoError = sentence(fields.repoUrl);
  // "resources.cpus: this server has 2 CPU cores…" from the server, or a schema issue per field.
  const resourceError = (key: 'cpus' | 'memoryMiB' | 'diskMiB') =>
    sentence(fields[key]) ??
    (error?.message.startsWith(`resources.${key}:`)
      ? sentence(error.message.slice(`resources.${key}:`.length).trim())
      : undefined);
  const resourceErrors = {
    cpus: resourceError('cpus'),
    memory: resourceError('memoryMiB'),
    disk: resourceError('diskMiB'),
  };
  const formError =
    error &&
    !nameError &&
    !templateError &&
    !repoError &&
    !Object.values(resourceErrors).some(Boolean)
      ? error.message
      : undefined;
  /** A field's error, until the person changes that field. */
  const unlessEdited = (field: keyof NewWorkspaceDraft, message: string | undefined) =>
    edited.has(field) ? undefined : message;
  const defaults = selected?.resources;

  return (
    <form
      id={formId}
      className="space-y-4"
      onSubmit={(event) => {
        event.preventDefault();
        const repoUrl = draft.repoUrl.trim();
        const resources = pickedResources(draft);
        onSubmit({
          name: draft.name.trim(),
          template: templateName,
          ...(repoUrl ? { repoUrl } : {}),
          ...(resources ? { resources } : {}),
        });
      }}
    >
      {formError ? <Alert tone="error">{formError}</Alert> : null}
      {left ? (
        <p
          className="rounded-md bg-subtle px-3 py-2 text-[13px] text-muted"
          aria-label="Quota left"
        >
          Your quota leaves <span className="font-medium text-fg">{left}</span>.
        </p>
      ) : null}
      <TextField
        label="Name"
        name="workspace-name"
        required
        maxLength={40}
        autoComplete="off"
        spellCheck={false}
        data-autofocus
        placeholder="e.g. my-app"
        value={draft.name}
        onChange={(event) => edit({ name: event.target.value })}
        hint="Lowercase letters, digits and hyphens; used in links and on the command line."
        error={unlessEdited('name', nameError)}
      />
      <SelectField
        label="Template"
        value={templateName}
        disabled={templates.isPending}
        onChange={(event) => edit({ template: event.target.value })}
        hint={templates.isPending ? 'Loading templates…' : describeTemplate(selected)}
        error={unlessEdited('template', templateError) ?? templates.error?.message}
      >
        {templates.isPending ? <option value={templateName}>Loading templates…</option> : null}
        {list.map((template) => (
          <option key={template.name} value={template.name}>
            {template.team ? `${template.title} · ${template.team}` : template.title}
          </option>
        ))}
      </SelectField>
      <TextField
        label="Git repository URL"
        name="workspace-repo-url"
        inputMode="url"
        autoComplete="off"
        spellCheck={false}
        placeholder="https://github.com/you/project.git"
        value={draft.repoUrl}
        onChange={(event) => edit({ repoUrl: event.target.value })}
        hint="Optional. Cloned into the workspace as it starts; a .devcontainer/devcontainer.json in it becomes the workspace’s image on Docker. Private repositories use your token for that host (Settings → Git credentials)."
        error={unlessEdited('repoUrl', repoError)}
      />
      <fieldset>
        <legend className="text-sm font-medium text-fg">Resources</legend>
        <p className="mb-2 text-[13px] text-muted">Leave blank to use the template’s.</p>
        <div className="grid grid-cols-3 gap-3">
          <TextField
            label="CPUs"
            name="workspace-cpus"
            inputMode="decimal"
            placeholder={defaults ? String(defaults.cpus) : ''}
            value={draft.cpus ?? ''}
            onChange={(event) => edit({ cpus: event.target.value })}
            error={unlessEdited('cpus', resourceErrors.cpus)}
          />
          <TextField
            label="Memory (GiB)"
            name="workspace-memory"
            inputMode="decimal"
            placeholder={defaults ? String(defaults.memoryMiB / 1024) : ''}
            value={draft.memoryGiB ?? ''}
            onChange={(event) => edit({ memoryGiB: event.target.value })}
            error={unlessEdited('memoryGiB', resourceErrors.memory)}
          />
          <TextField
            label="Disk (GiB)"
            name="workspace-disk"
            inputMode="decimal"
            placeholder={defaults?.diskMiB ? String(defaults.diskMiB / 1024) : 'no limit'}
            value={draft.diskGiB ?? ''}
            onChange={(event) => edit({ diskGiB: event.target.value })}
            error={unlessEdited('diskGiB', resourceErrors.disk)}
          />
        </div>
      </fieldset>
    </form>
  );
}

function CreationProgress({ created }: { created: Workspace }) {
  const { data: current } = useQuery({
    ...workspacesQueryOptions(),
    select: (list) => list.find((workspace) => workspace.id === created.id),
  });
  const workspace = current ?? created;
  const active = isTransitioning(workspace.status);

  return (
    <div className="space-y-3">
      <p className="flex items-center gap-2 text-sm text-fg">
        <span className="font-medium">{workspace.name}</span>
        <WorkspaceStatusBadge status={workspace.status} />
      </p>
      <WorkspaceProgressLog name={workspace.name} active={active} />
      {workspace.status === 'error' ? (
        <Alert tone="error" title={`Could not create ${workspace.name}`}>
          {workspace.statusReason ?? 'The server gave no reason; its log has the details.'}
        </Alert>
      ) : null}
    </div>
  );
}

/**
 * Create a workspace: name, template and an optional repository. After the server accepts it the
 * dialog follows the creation step by step and closes once the workspace runs. Render it only
 * while it is open, so each opening starts from the form.
 */
export function NewWorkspaceDialog({ onClose }: { onClose: () => void }) {
  const user = useCurrentUser();
  const toast = useToast();
  const queryClient = useQueryClient();
  const formId = useId();
  const [draft, setDraft, clearDraft] = useDraft<NewWorkspaceDraft>(
    `${user.id}.new-workspace`,
    EMPTY,
  );
  const [created, setCreated] = useState<Workspace | null>(null);

  const create = useMutation({
    mutationFn: createWorkspace,
    // Progress for this name may arrive before the answer does; start from an empty log.
    onMutate: (body) => clearWorkspaceProgress(queryClient, body.name),
    onSuccess: (workspace) => {
      clearDraft(EMPTY);
      addWorkspaceIfMissing(queryClient, workspace);
      setCreated(workspace);
    },
  });

  const close = () => {
    if (!create.isPending) onClose();
  };

  const { data: status } = useQuery({
    ...workspacesQueryOptions(),
    enabled: created !== null,
    select: (list) => list.find((workspace) => workspace.id === created?.id)?.status,
  });

  useEffect(() => {
    if (!created || status !== 'running') return;
    toast(`Workspace ${created.name} is running.`);
    onClose();
  }, [created, status, toast, onClose]);

  return (
    <Dialog
      open
      onClose={close}
      title={created ? `Creating ${created.name}` : 'New workspace'}
      description={
        created
          ? 'Following each step as the server reports it. Closing this does not stop it.'
          : 'An isolated Linux environment with an editor, terminals and AI agents, made from a template.'
      }
      footer={
        created ? (
          <Button onClick={close}>Close</Button>
        ) : (
          <>
            <Button onClick={close} disabled={create.isPending}>
              Cancel
            </Button>
            <Button type="submit" form={formId} variant="primary" pending={create.isPending}>
              Create workspace
            </Button>
          </>
        )
      }
    >
      {created ? (
        <CreationProgress created={created} />
      ) : (
        <CreateForm
          formId={formId}
          draft={draft}
          setDraft={setDraft}
          error={create.error}
          onSubmit={(body) => create.mutate(body)}
        />
      )}
    </Dialog>
  );
}
