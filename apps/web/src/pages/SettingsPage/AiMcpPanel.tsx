import type { McpServer, McpTransport } from '@studio/protocol';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useState, type ComponentProps } from 'react';
import {
  createMcpServer,
  deleteMcpServer,
  mcpServersQueryOptions,
  mcpToolsQueryOptions,
  updateMcpServer,
} from '../../api/mcp.ts';
import { teamsQueryOptions } from '../../api/members.ts';
import { queryKeys } from '../../api/query-keys.ts';
import { workspacesQueryOptions } from '../../api/workspaces.ts';
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
  createMcpServerBody,
  EMPTY_MCP_SERVER_FORM,
  mcpServerErrors,
  type McpServerErrors,
} from './mcp-server-form.ts';

const TRANSPORT_LABELS: Record<McpTransport, string> = {
  stdio: 'Program (stdio)',
  http: 'HTTP',
};

/** A labelled multi-line input, styled like `TextField`, with a hint or an error under it. */
function TextAreaField({
  label,
  hint,
  error,
  fieldClassName = '',
  ...props
}: Omit<ComponentProps<'textarea'>, 'id' | 'className'> & {
  label: string;
  hint?: string;
  error?: string;
  fieldClassName?: string;
}) {
  const id = useId();
  const note = error ? `${id}-error` : hint ? `${id}-hint` : undefined;
  return (
    <div className={`flex flex-col gap-1.5 ${fieldClassName}`}>
      <label htmlFor={id} className="text-[13px] font-medium text-fg">
        {label}
      </label>
      <textarea
        id={id}
        rows={3}
        aria-invalid={error ? true : undefined}
        aria-describedby={note}
        className={`block w-full resize-y rounded-md border bg-surface px-3 py-2 font-mono text-[13px] text-fg shadow-xs placeholder:font-sans placeholder:text-muted/70 focus:outline-none focus-visible:outline-2 focus-visible:outline-offset-0 focus-visible:outline-accent ${
          error ? 'border-danger' : 'border-line-strong'
        }`}
        {...props}
      />
      {error || hint ? (
        <p id={note} className={`text-[13px] ${error ? 'text-danger' : 'text-muted'}`}>
          {error ?? hint}
        </p>
      ) : null}
    </div>
  );
}

/** The add-server form; header values stay in memory only, never in a stored draft. */
function AddMcpServerForm({ isAdmin }: { isAdmin: boolean }) {
  const toast = useToast();
  const queryClient = useQueryClient();
  const [form, setForm] = useState(EMPTY_MCP_SERVER_FORM);
  const [local, setLocal] = useState<McpServerErrors | null>(null);
  const teams = useQuery({ ...teamsQueryOptions(), enabled: isAdmin });
  const create = useMutation({
    mutationFn: createMcpServer,
    onSuccess: (server) => {
      setForm({ ...EMPTY_MCP_SERVER_FORM, transport: form.transport });
      toast(`MCP server ${server.name} added.`);
      queryClient.setQueryData<McpServer[]>(queryKeys.mcpServers(), (list) =>
        list ? [...list, server] : list,
      );
      void queryClient.invalidateQueries({ queryKey: queryKeys.mcpServers() });
    },
  });
  const { fields, general } = local ?? mcpServerErrors(create.error);
  const stdio = form.transport === 'stdio';
  const change = (patch: Partial<typeof form>) => {
    setForm({ ...form, ...patch });
    setLocal(null);
  };

  return (
    <form
      aria-label="Add an MCP server"
      className="grid grid-cols-2 items-start gap-3"
      onSubmit={(event) => {
        event.preventDefault();
        const result = createMcpServerBody(form);
        if ('errors' in result) {
          create.reset();
          setLocal(result.errors);
          return;
        }
        setLocal(null);
        create.mutate(result.body);
      }}
    >
      <TextField
        label="Server name"
        name="mcp-server-name"
        required
        maxLength={40}
        placeholder="e.g. github"
        autoComplete="off"
        spellCheck={false}
        value={form.name}
        onChange={(event) => change({ name: event.target.value })}
        error={fields.name}
        hint="Lowercase letters, digits and “-”; the agent sees its tools as mcp__name__tool."
      />
      <SelectField
        label="Transport"
        value={form.transport}
        onChange={(event) => change({ transport: event.target.value as McpTransport })}
        error={fields.transport}
        hint={
          stdio
            ? 'A program run inside the workspace the agent works in.'
            : 'A server reached over Streamable HTTP.'
        }
      >
        {(['stdio', 'http'] as const).map((transport) => (
          <option key={transport} value={transport}>
            {TRANSPORT_LABELS[transport]}
          </option>
        ))}
      </SelectField>
      {stdio ? (
        <>
          <TextField
            label="Command"
            name="mcp-command"
            required
            placeholder="e.g. npx"
            autoComplete="off"
            spellCheck={false}
            value={form.command}
            onChange={(event) => change({ command: event.target.value })}
            error={fields.command}
            hint="The program only; its arguments go in the next box."
          />
          <TextAreaField
            label="Arguments"
            name="mcp-args"
            placeholder={'-y\n@modelcontextprotocol/server-memory'}
            spellCheck={false}
            value={form.args}
            onChange={(event) => change({ args: event.target.value })}
            error={fields.args}
            hint="One argument per line, spaces and all: nothing is split or unquoted."
          />
        </>
      ) : (
        <>
          <TextField
            label="URL"
            name="mcp-url"
            type="url"
            required
            placeholder="https://mcp.example.com/mcp"
            autoComplete="off"
            spellCheck={false}
            value={form.url}
            onChange={(event) => change({ url: event.target.value })}
            error={fields.url}
          />
          <TextAreaField
            label="Headers"
            name="mcp-headers"
            placeholder="Authorization: Bearer …"
            autoComplete="off"
            spellCheck={false}
            value={form.headers}
            onChange={(event) => change({ headers: event.target.value })}
            error={fields.headers}
            hint="Name: value, one per line. Stored encrypted; only the names are shown again."
          />
        </>
      )}
      <div className="col-span-2 flex items-end justify-between gap-3">
        {isAdmin ? (
          <SelectField
            label="Who uses it"
            value={form.team}
            onChange={(event) => change({ team: event.target.value })}
            error={fields.team}
          >
            <option value="">Only you</option>
            {(teams.data ?? []).map((team) => (
              <option key={team.id} value={team.name}>
                Team {team.name}
              </option>
            ))}
          </SelectField>
        ) : (
          <span />
        )}
        <Button type="submit" variant="primary" pending={create.isPending}>
          Add MCP server
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

/** The tools a server offers, asked for on demand: it starts the server to list them. */
function McpToolsDialog({ server, onClose }: { server: McpServer | null; onClose: () => void }) {
  return (
    <Dialog
      open={server !== null}
      onClose={onClose}
      title={`Tools of ${server?.name ?? 'the MCP server'}`}
      description={
        server?.transport === 'stdio'
          ? 'The program runs inside a workspace: choose a running one to start it in.'
          : 'What the server offers the agent right now.'
      }
      footer={<Button onClick={onClose}>Close</Button>}
    >
      {server ? <McpTools server={server} /> : null}
    </Dialog>
  );
}

function McpTools({ server }: { server: McpServer }) {
  const stdio = server.transport === 'stdio';
  const workspaces = useQuery({ ...workspacesQueryOptions(), enabled: stdio });
  const running = (workspaces.data ?? []).filter((workspace) => workspace.status === 'running');
  const [choice, setChoice] = useState('');
  const chosen = choice || running[0]?.name || '';
  // An http server is asked at once; a stdio one only once a workspace is confirmed.
  const [asked, setAsked] = useState<string | null>(stdio ? null : '');
  const tools = useQuery({
    ...mcpToolsQueryOptions(server.id, asked || null),
    enabled: asked !== null,
  });

  return (
    <div className="space-y-3">
      {stdio ? (
        workspaces.isPending ? (
          <Loading label="Loading workspaces…" />
        ) : workspaces.isError ? (
          <Alert tone="error">{workspaces.error.message}</Alert>
        ) : (workspaces.data ?? []).length === 0 ? (
          <Alert tone="info">Create a workspace first: the program runs inside one.</Alert>
        ) : (
          <form
            className="flex items-end gap-2"
            onSubmit={(event) => {
              event.preventDefault();
              if (chosen) setAsked(chosen);
            }}
          >
            <SelectField
              label="Workspace"
              value={chosen}
              onChange={(event) => setChoice(event.target.value)}
              fieldClassName="min-w-0 flex-1"
            >
              {(workspaces.data ?? [])
                .filter((workspace) => workspace.role === 'owner')
                .map((workspace) => (
                  <option
                    key={workspace.name}
                    value={workspace.name}
                    disabled={workspace.status !== 'running'}
                  >
                    {workspace.status === 'running'
                      ? workspace.name
                      : `${workspace.name} (${workspace.status})`}
                  </option>
                ))}
            </SelectField>
            <Button type="submit" disabled={!chosen} pending={tools.isFetching}>
              List tools
            </Button>
          </form>
        )
      ) : null}
      {stdio && workspaces.data && workspaces.data.length > 0 && running.length === 0 ? (
        <p className="text-[13px] text-muted">No workspace is running: start one first.</p>
      ) : null}
      {asked === null ? null : tools.isPending ? (
        <Loading label={`Asking ${server.name} for its tools…`} />
      ) : tools.isError ? (
        <Alert tone="error">{tools.error.message}</Alert>
      ) : tools.data.error ? (
        <Alert tone="error">{tools.data.error}</Alert>
      ) : tools.data.tools.length === 0 ? (
        <p className="text-[13px] text-muted">The server answered but offers no tools.</p>
      ) : (
        <ul
          aria-label={`Tools of ${server.name}`}
          className="max-h-80 divide-y divide-line overflow-y-auto rounded-md border border-line"
        >
          {tools.data.tools.map((tool) => (
            <li key={tool.name} className="space-y-1 px-3 py-2">
              <div className="flex items-center gap-2">
                <span className="font-mono text-[13px] font-medium text-fg">{tool.name}</span>
                {tool.readOnly ? <Badge tone="success">read-only</Badge> : null}
              </div>
              <div className="font-mono text-[12px] text-muted">{tool.agentName}</div>
              {tool.description ? (
                <p className="line-clamp-3 text-[13px] text-muted">{tool.description}</p>
              ) : null}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** Where a server is: the program and its arguments, or the URL. */
function endpointOf(server: McpServer): string {
  if (server.transport === 'http') return server.url ?? '';
  // Arguments with spaces are quoted so the line reads as the one argument it is.
  const args = server.args.map((arg) => (/[\s"']/.test(arg) ? JSON.stringify(arg) : arg));
  return [server.command ?? '', ...args].join(' ');
}

/** MCP servers: add one, list them, switch them on and off, see their tools, delete them. */
export function AiMcpPanel({ isAdmin }: { isAdmin: boolean }) {
  const toast = useToast();
  const queryClient = useQueryClient();
  const servers = useQuery(mcpServersQueryOptions());
  const [showing, setShowing] = useState<McpServer | null>(null);
  const [removing, setRemoving] = useState<McpServer | null>(null);
  const replace = (server: McpServer) =>
    queryClient.setQueryData<McpServer[]>(queryKeys.mcpServers(), (list) =>
      list?.map((item) => (item.id === server.id ? server : item)),
    );
  const toggle = useMutation({
    mutationFn: (server: McpServer) => updateMcpServer(server.id, { enabled: !server.enabled }),
    onSuccess: (saved) => {
      replace(saved);
      toast(`MCP server ${saved.name} ${saved.enabled ? 'on' : 'off'}.`);
    },
    onError: (error) => toast(`Could not change the server: ${error.message}`, 'error'),
  });
  const remove = useMutation({
    mutationFn: (server: McpServer) => deleteMcpServer(server.id),
    onSuccess: (_, server) => {
      setRemoving(null);
      toast(`MCP server ${server.name} deleted.`);
      queryClient.setQueryData<McpServer[]>(queryKeys.mcpServers(), (list) =>
        list?.filter((item) => item.id !== server.id),
      );
      queryClient.removeQueries({ queryKey: queryKeys.mcpToolsOf(server.id) });
    },
  });
  const origin = typeof window === 'undefined' ? '' : window.location.origin;

  return (
    <div className="space-y-5">
      <AddMcpServerForm isAdmin={isAdmin} />
      {servers.isPending ? (
        <Loading label="Loading MCP servers…" />
      ) : servers.isError ? (
        <Alert tone="error">{servers.error.message}</Alert>
      ) : servers.data.length === 0 ? (
        <p className="rounded-md border border-dashed border-line-strong px-4 py-6 text-center text-sm text-muted">
          No MCP servers yet. Add one above: a program such as{' '}
          <code className="font-mono">npx -y @modelcontextprotocol/server-memory</code>, or a URL.
        </p>
      ) : (
        <div className="overflow-x-auto rounded-md border border-line">
          <table className="w-full text-left text-sm">
            <caption className="sr-only">MCP servers</caption>
            <TableHead columns={['Name', 'Transport', 'Command or URL', 'On']} compact />
            <tbody className="divide-y divide-line">
              {servers.data.map((server) => (
                <tr key={server.id}>
                  <td className="px-4 py-2.5 font-mono text-[13px] font-medium whitespace-nowrap text-fg">
                    {server.name}
                    {server.team !== null ? (
                      <span className="ml-2 font-sans">
                        <Badge tone="accent">Team {server.team}</Badge>
                      </span>
                    ) : null}
                  </td>
                  <td className="px-4 py-2.5 whitespace-nowrap text-muted">
                    {server.transport === 'http' ? 'HTTP' : 'stdio'}
                  </td>
                  <td className="max-w-64 px-4 py-2.5 font-mono text-[13px] text-muted">
                    <div className="truncate" title={endpointOf(server)}>
                      {endpointOf(server)}
                    </div>
                    {server.headerNames.length > 0 ? (
                      <div className="truncate font-sans text-[12px]">
                        Headers: {server.headerNames.join(', ')}
                      </div>
                    ) : null}
                  </td>
                  <td className="px-4 py-2.5">
                    <input
                      type="checkbox"
                      role="switch"
                      aria-label={`Use ${server.name}`}
                      title={server.enabled ? 'On: the agent gets its tools' : 'Off'}
                      className="size-4 accent-accent"
                      checked={server.enabled}
                      disabled={
                        (server.team !== null && !isAdmin) ||
                        (toggle.isPending && toggle.variables?.id === server.id)
                      }
                      onChange={() => toggle.mutate(server)}
                    />
                  </td>
                  <td className="px-4 py-2 text-right whitespace-nowrap">
                    <div className="flex justify-end gap-2">
                      <Button
                        size="sm"
                        aria-label={`Show tools of ${server.name}`}
                        onClick={() => setShowing(server)}
                      >
                        Show tools
                      </Button>
                      <Button
                        size="sm"
                        variant="danger"
                        aria-label={`Delete ${server.name}`}
                        disabled={server.team !== null && !isAdmin}
                        title={
                          server.team !== null && !isAdmin
                            ? 'A team’s server: admins change it'
                            : undefined
                        }
                        onClick={() => setRemoving(server)}
                      >
                        Delete
                      </Button>
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <p className="text-[13px] text-muted">
        Outside agents (Claude Code, Cursor, any MCP client) can work in a workspace at{' '}
        <code className="font-mono text-fg">{origin}/api/workspaces/&lt;name&gt;/mcp</code> with an
        API token (
        <a href="#api-tokens" className="font-medium text-accent underline">
          Settings → API tokens
        </a>
        ).
      </p>
      <McpToolsDialog server={showing} onClose={() => setShowing(null)} />
      <ConfirmRemoval
        item={removing}
        mutation={remove}
        title={(server) => `Delete ${server.name}?`}
        description="The agent no longer gets its tools; its stored headers are erased."
        confirmLabel="Delete MCP server"
        onClose={() => setRemoving(null)}
      />
    </div>
  );
}
