import type { TemplateImageStatus, WarmPoolState } from '@studio/protocol';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { lazy, Suspense, useRef, useState, type FormEvent } from 'react';
import { queryKeys } from '../../api/query-keys.ts';
import {
  buildDockerfileTemplate,
  imagesQueryOptions,
  saveWorkspaceAsTemplate,
  setWarmPool,
  warmPoolsQueryOptions,
} from '../../api/templates.ts';
import { adminWorkspacesQueryOptions } from '../../api/admin-users.ts';
import { SelectField, TextField } from '../../components/Field.tsx';
import { templatesQueryOptions } from '../../api/workspaces.ts';
import { Alert } from '../../components/Alert.tsx';
import { Badge, type BadgeTone } from '../../components/Badge.tsx';
import { Button } from '../../components/Button.tsx';
import { EmptyState } from '../../components/EmptyState.tsx';
import { PageHeader } from '../../components/PageHeader.tsx';
import { Loading, Spinner } from '../../components/Spinner.tsx';
import { TableHead } from '../../components/TableHead.tsx';
import { useToast } from '../../components/Toaster.tsx';
import { useDocumentTitle } from '../../components/use-document-title.ts';
import { AdminTabs } from '../../modules/layout/AdminTabs.tsx';
import { useCurrentUser } from '../../modules/session/SessionProvider.tsx';

// Monaco comes with the Dockerfile form only.
const MonacoField = lazy(() => import('../../modules/ide/editor/MonacoField.tsx'));

/** Admin → Templates: what workspaces are made from, and how many of each wait warm. */
export function AdminTemplatesPage() {
  useDocumentTitle('Templates');
  const isAdmin = useCurrentUser().role === 'admin';
  const templates = useQuery({ ...templatesQueryOptions(), enabled: isAdmin });
  const pools = useQuery({ ...warmPoolsQueryOptions(), enabled: isAdmin });
  const images = useQuery({ ...imagesQueryOptions(), enabled: isAdmin });

  if (!isAdmin)
    return (
      <>
        <PageHeader title="Templates" />
        <EmptyState title="Admins only">Only admins manage templates.</EmptyState>
      </>
    );
  const poolOf = (name: string) => pools.data?.find((pool) => pool.template === name);
  const imageOf = (name: string) => images.data?.find((image) => image.template === name);
  return (
    <>
      <PageHeader
        title="Templates"
        description="What workspaces are made from. An image whose recipe changed is built again in the background (Docker); a missing one is built at its first create. A warm pool keeps that many workspaces of a template started and waiting: a create takes one and is ready at once, and the pool fills again."
      />
      <AdminTabs />
      {templates.isPending ? (
        <Loading label="Loading templates…" />
      ) : templates.isError ? (
        <Alert tone="error">{templates.error.message}</Alert>
      ) : (
        <div className="overflow-x-auto rounded-lg border border-line bg-surface shadow-xs">
          <table className="w-full text-left text-sm">
            <caption className="sr-only">Templates</caption>
            <TableHead columns={['Template', 'Image', 'Warm pool', 'Waiting now']} />
            <tbody className="divide-y divide-line">
              {templates.data.map((template) => (
                <tr key={template.name} aria-label={template.name}>
                  <td className="px-5 py-3">
                    <div className="font-medium text-fg">{template.title}</div>
                    <div className="font-mono text-[12px] text-muted">
                      {template.name}
                      {template.team ? ` · team ${template.team}` : ''}
                    </div>
                  </td>
                  <td className="px-5 py-3">
                    <div className="font-mono text-[13px] text-muted">{template.image.ref}</div>
                    <ImageState image={imageOf(template.name)} />
                  </td>
                  <td className="px-5 py-3">
                    <WarmPoolForm template={template.name} size={template.warmPool} />
                  </td>
                  <td className="px-5 py-3 whitespace-nowrap">
                    <PoolState pool={poolOf(template.name)} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <FromDockerfile />
      <SaveAsTemplate />
    </>
  );
}

const STARTER_DOCKERFILE = `FROM studio/base:1

USER root
RUN apt-get update \\
 && apt-get install -y --no-install-recommends jq \\
 && rm -rf /var/lib/apt/lists/*
USER 1000:1000
`;

/**
 * A new template from a Dockerfile written here: built on the server, its output shown as it
 * comes, then listed for everyone.
 */
function FromDockerfile() {
  const toast = useToast();
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [title, setTitle] = useState('');
  const [dockerfile, setDockerfile] = useState(STARTER_DOCKERFILE);
  const [startCommands, setStartCommands] = useState('');
  const [log, setLog] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);
  const logRef = useRef<HTMLPreElement>(null);
  const build = useMutation({
    mutationFn: async () => {
      let failed: string | null = null;
      let built: string | null = null;
      await buildDockerfileTemplate(
        {
          name,
          title,
          dockerfile,
          startCommands: startCommands
            .split('\n')
            .map((line) => line.trim())
            .filter(Boolean),
        },
        (event) => {
          if (event.type === 'log') {
            setLog((lines) => [...lines.slice(-499), event.line]);
            requestAnimationFrame(() =>
              logRef.current?.scrollTo({ top: logRef.current.scrollHeight }),
            );
          } else if (event.type === 'done') built = event.template.name;
          else failed = event.message;
        },
      );
      if (failed || !built) throw new Error(failed ?? 'The build ended without a template.');
      return built;
    },
    onSuccess: (built) => {
      toast(`Template ${built} built: it is in the list above and in New workspace.`);
      setName('');
      setTitle('');
      void queryClient.invalidateQueries({ queryKey: queryKeys.templates() });
    },
    onError: (failure) => setError(failure.message),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setLog([]);
    build.mutate();
  };
  return (
    <section aria-labelledby="from-dockerfile" className="mt-10 max-w-3xl">
      <h2 id="from-dockerfile" className="text-base font-semibold text-fg">
        New template from a Dockerfile
      </h2>
      <p className="mt-1 text-sm text-muted">
        Built on this server (Docker) from an image it has, such as <code>studio/base:1</code>; its
        RUN steps reach what a workspace reaches. Workspaces run as uid 1000 with their home at{' '}
        <code>/home/user</code>, so end as <code>USER 1000:1000</code>.
      </p>
      <form onSubmit={submit} className="mt-4 grid gap-4 sm:grid-cols-2">
        <TemplateNaming
          name={name}
          title={title}
          onName={setName}
          onTitle={setTitle}
          example={['data-tools', 'Data tools']}
        />
        <div className="flex flex-col gap-1.5 sm:col-span-2">
          <span className="text-[13px] font-medium text-fg">Dockerfile</span>
          <Suspense fallback={<Loading label="Loading the editor…" />}>
            <MonacoField
              initial={STARTER_DOCKERFILE}
              onChange={setDockerfile}
              language="dockerfile"
              label="Dockerfile"
            />
          </Suspense>
        </div>
        <label className="flex flex-col gap-1.5 sm:col-span-2">
          <span className="text-[13px] font-medium text-fg">Start commands</span>
          <textarea
            value={startCommands}
            onChange={(event) => setStartCommands(event.target.value)}
            rows={2}
            placeholder="One per line, run in the background each time a workspace starts"
            className="rounded-md border border-line-strong bg-surface px-3 py-2 font-mono text-[13px] text-fg"
          />
        </label>
        <div className="sm:col-span-2">
          <Button type="submit" variant="primary" pending={build.isPending}>
            {build.isPending ? 'Building…' : 'Build template'}
          </Button>
        </div>
      </form>
      {log.length > 0 ? (
        <pre
          ref={logRef}
          role="log"
          aria-label="Build log"
          className="mt-3 max-h-72 overflow-auto rounded-md border border-line bg-subtle p-3 font-mono text-[12px] leading-5 text-fg"
        >
          {log.join('\n')}
        </pre>
      ) : null}
      <FormError error={error} />
    </section>
  );
}

/**
 * A new template from a workspace as it is now: new workspaces of it start with its files (the
 * image is the workspace's, its home the starter project).
 */
function SaveAsTemplate() {
  const toast = useToast();
  const queryClient = useQueryClient();
  const workspaces = useQuery(adminWorkspacesQueryOptions());
  const [workspaceId, setWorkspaceId] = useState('');
  const [name, setName] = useState('');
  const [title, setTitle] = useState('');
  const [error, setError] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: () => saveWorkspaceAsTemplate(workspaceId, { name, title }),
    onSuccess: (saved) => {
      toast(`Template ${saved.name} saved: new workspaces of it start with those files.`);
      setName('');
      setTitle('');
      void queryClient.invalidateQueries({ queryKey: queryKeys.templates() });
    },
    onError: (failure) => setError(failure.message),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    save.mutate();
  };
  const list = workspaces.data ?? [];
  return (
    <section aria-labelledby="save-as-template" className="mt-10 max-w-2xl">
      <h2 id="save-as-template" className="text-base font-semibold text-fg">
        Save a workspace as a template
      </h2>
      <p className="mt-1 text-sm text-muted">
        Its template and image, with its home as it is now: new workspaces start with those files.
        Docker only; secrets in the home go with it, so pick a workspace meant to be shared.
      </p>
      <form onSubmit={submit} className="mt-4 grid gap-4 sm:grid-cols-3">
        <SelectField
          label="Workspace"
          value={workspaceId}
          onChange={(event) => setWorkspaceId(event.target.value)}
          required
        >
          <option value="">Pick one…</option>
          {list.map((item) => (
            <option key={item.id} value={item.id}>
              {item.name} ({item.owner.email}, {item.template})
            </option>
          ))}
        </SelectField>
        <TemplateNaming
          name={name}
          title={title}
          onName={setName}
          onTitle={setTitle}
          example={['team-python', 'Team Python']}
        />
        <div className="sm:col-span-3">
          <Button type="submit" variant="primary" pending={save.isPending}>
            {save.isPending ? 'Saving…' : 'Save as template'}
          </Button>
        </div>
      </form>
      <FormError error={error} />
    </section>
  );
}

/** A new template's name and title, as both forms ask for them. */
function TemplateNaming({
  name,
  title,
  onName,
  onTitle,
  example,
}: {
  name: string;
  title: string;
  onName: (name: string) => void;
  onTitle: (title: string) => void;
  example: [name: string, title: string];
}) {
  return (
    <>
      <TextField
        label="Template name"
        value={name}
        onChange={(event) => onName(event.target.value)}
        placeholder={example[0]}
        required
      />
      <TextField
        label="Title"
        value={title}
        onChange={(event) => onTitle(event.target.value)}
        placeholder={example[1]}
        required
      />
    </>
  );
}

function FormError({ error }: { error: string | null }) {
  return error ? (
    <div className="mt-3">
      <Alert tone="error">{error}</Alert>
    </div>
  ) : null;
}

/** The pool's size, changed in place. */
function WarmPoolForm({ template, size }: { template: string; size: number }) {
  const toast = useToast();
  const queryClient = useQueryClient();
  const [typed, setTyped] = useState(String(size));
  const [error, setError] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: (value: number) => setWarmPool(template, value),
    onSuccess: (saved) => {
      toast(`${template} keeps ${saved.warmPool} warm.`);
      void queryClient.invalidateQueries({ queryKey: queryKeys.templates() });
      void queryClient.invalidateQueries({ queryKey: queryKeys.adminWarmPools() });
    },
    onError: (failure) => setError(failure.message),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const value = Number(typed.trim());
    if (!/^\d+$/.test(typed.trim()) || value > 50) {
      setError(`“${typed.trim()}” is not a pool size: use a whole number from 0 to 50.`);
      return;
    }
    setError(null);
    save.mutate(value);
  };
  return (
    <form onSubmit={submit} className="flex flex-col gap-1">
      <div className="flex items-center gap-2">
        <input
          value={typed}
          onChange={(event) => setTyped(event.target.value)}
          aria-label={`Warm pool of ${template}`}
          inputMode="numeric"
          aria-invalid={error ? true : undefined}
          className="h-8 w-16 rounded-md border border-line-strong bg-surface px-2 font-mono text-[13px] text-fg"
        />
        <Button type="submit" size="sm" pending={save.isPending} disabled={typed === String(size)}>
          Save
        </Button>
      </div>
      {error ? (
        <p role="alert" className="text-[12px] text-danger">
          {error}
        </p>
      ) : null}
    </form>
  );
}

function PoolState({ pool }: { pool: WarmPoolState | undefined }) {
  if (!pool || (pool.size === 0 && pool.ready + pool.warming === 0))
    return <span className="text-muted">—</span>;
  const filling = pool.warming > 0 || pool.ready < pool.size;
  return (
    <span className="flex items-center gap-2" aria-label={`${pool.ready} of ${pool.size} ready`}>
      {filling ? <Spinner className="size-3.5 text-accent" /> : null}
      <Badge tone={pool.ready >= pool.size ? 'success' : 'warning'}>
        {pool.ready} of {pool.size} ready
      </Badge>
      {pool.warming > 0 ? <span className="text-muted">{pool.warming} starting</span> : null}
    </span>
  );
}

const IMAGE_STATES: Record<TemplateImageStatus['state'], { label: string; tone: BadgeTone }> = {
  ready: { label: 'built', tone: 'success' },
  missing: { label: 'built at first create', tone: 'neutral' },
  outdated: { label: 'recipe changed', tone: 'warning' },
  building: { label: 'building again', tone: 'accent' },
  failed: { label: 'rebuild failed', tone: 'danger' },
};

/** Whether the image is built from its recipe as it is now, and a background build's progress. */
function ImageState({ image }: { image: TemplateImageStatus | undefined }) {
  if (!image) return null;
  const { label, tone } = IMAGE_STATES[image.state];
  return (
    <div className="mt-1 flex max-w-md items-start gap-2" aria-label={`image ${label}`}>
      {image.state === 'building' ? <Spinner className="mt-0.5 size-3.5 text-accent" /> : null}
      <span className="shrink-0 whitespace-nowrap">
        <Badge tone={tone}>{label}</Badge>
      </span>
      {image.detail ? (
        <span className="min-w-0 truncate text-xs text-muted" title={image.detail}>
          {image.detail}
        </span>
      ) : null}
    </div>
  );
}
