import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import {
  BUILTIN_TOOLS,
  ToolError,
  decide,
  redactSecrets,
  redactValue,
  type AgentTool,
  type ToolContext,
  type ToolDaemon,
} from '@studio/agent';
import type { schema } from '@studio/db';
import type { PolicyDecision, PolicyRule } from '@studio/protocol';
import type { AuditLog } from '../audit-log.ts';
import { exactPattern } from './policy-store.ts';

type WorkspaceRow = typeof schema.workspaces.$inferSelect;

/** The built-in tools an outside MCP client may call; fetching URLs stays with the agent. */
export const WORKSPACE_MCP_TOOLS: readonly AgentTool[] = BUILTIN_TOOLS.filter(
  (tool) => tool.name !== 'fetch_url',
);

export interface WorkspaceMcpOptions {
  person: { id: string; name: string; email: string };
  /** The API token the client used, for the audit log. */
  tokenId?: string;
  workspace: WorkspaceRow;
  /** The person's permission rules, read for this request. */
  rules: readonly PolicyRule[];
  /** The workspace's daemon, connected only when a tool actually runs. */
  connect(): Promise<ToolDaemon>;
  audit: AuditLog;
  /** Values to redact from outputs and the audit log (the server's secret). */
  secrets: string[];
}

/**
 * One workspace as an MCP server: the agent's built-in tools, run against the workspace's daemon
 * under the person's permission policy. Nobody sits at an approval card for an outside client, so
 * a call the policy would ask about is refused with the rule that would allow it.
 */
export function workspaceMcpServer(options: WorkspaceMcpOptions): McpServer {
  const { person, workspace } = options;
  const server = new McpServer(
    { name: `prometheus-studio-${workspace.name}`, version: '0.1.0' },
    {
      instructions: `Tools act inside the workspace "${workspace.name}" under its owner's agent permission policy.`,
    },
  );
  let daemon: Promise<ToolDaemon> | null = null;
  const redact = (text: string) => redactSecrets(text, options.secrets);

  for (const tool of WORKSPACE_MCP_TOOLS) {
    server.registerTool(
      tool.name,
      {
        description: tool.description,
        inputSchema: tool.inputSchema,
        annotations: {
          readOnlyHint: tool.kind === 'read',
          destructiveHint: tool.kind !== 'read',
          openWorldHint: false,
        },
      },
      async (input: unknown, extra): Promise<CallToolResult> => {
        const started = performance.now();
        const subject = tool.subject(input);
        const decision = decide(options.rules, {
          tool: tool.name,
          kind: tool.kind,
          subject,
          workspace: workspace.name,
        });
        const record = (
          outcome: 'success' | 'failure' | 'denied',
          extraData: Record<string, unknown>,
        ) =>
          options.audit.record({
            actorId: person.id,
            action: `agent.tool.${tool.name}`,
            targetType: 'workspace',
            targetId: workspace.name,
            workspaceId: workspace.id,
            outcome,
            data: redactValue(
              {
                via: 'mcp',
                ...(options.tokenId ? { tokenId: options.tokenId } : {}),
                input,
                decision,
                decidedBy: 'policy',
                ...extraData,
                durationMs: Math.round(performance.now() - started),
              },
              options.secrets,
            ),
          });

        if (decision !== 'allow') {
          const reason = refusal(tool.name, subject, decision, workspace.name);
          await record('denied', { reason });
          return errorResult(reason);
        }
        try {
          daemon ??= options.connect();
          const context: ToolContext = {
            daemon: await daemon,
            identity: { name: person.name, email: person.email },
            signal: extra.signal,
            onOutput: () => {},
            fetchUrl: () => Promise.reject(new ToolError('fetch_url is not offered over MCP')),
          };
          const output = redact(await tool.execute(input, context));
          await record('success', {});
          return { content: [{ type: 'text', text: output }] };
        } catch (error) {
          daemon = null;
          const message = redact(error instanceof Error ? error.message : String(error));
          await record('failure', { error: message });
          return errorResult(message);
        }
      },
    );
  }
  return server;
}

function errorResult(text: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text }] };
}

/** Why a call did not run, and for `ask` the exact rule that would let it. */
function refusal(
  tool: string,
  subject: string,
  decision: PolicyDecision,
  workspace: string,
): string {
  if (decision === 'deny')
    return `Denied: the permission policy does not allow ${tool} here (${subject}).`;
  const pattern = exactPattern(subject);
  const rule = JSON.stringify({
    tool,
    ...(pattern ? { pattern } : {}),
    decision: 'allow',
    workspace,
  });
  return (
    `Not run: ${tool} (${subject}) needs the person's approval, and an MCP client cannot ask for it. ` +
    `To allow it, add a rule in Settings → AI → Agent permissions: ${rule}.`
  );
}
