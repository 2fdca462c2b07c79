import type { ReactNode } from 'react';
import { Card } from '../../components/Card.tsx';
import { useCurrentUser } from '../../modules/session/SessionProvider.tsx';
import { AiMcpPanel } from './AiMcpPanel.tsx';
import { AiModelRoles } from './AiModelRoles.tsx';
import { AiPolicyPanel } from './AiPolicyPanel.tsx';
import { AiProvidersPanel } from './AiProvidersPanel.tsx';

function Part({
  id,
  title,
  description,
  children,
}: {
  id: string;
  title: string;
  description: string;
  children: ReactNode;
}) {
  return (
    <section
      aria-labelledby={id}
      className="space-y-3 border-t border-line pt-5 first:border-0 first:pt-0"
    >
      <div className="space-y-0.5">
        <h3 id={id} className="text-sm font-semibold text-fg">
          {title}
        </h3>
        <p className="text-[13px] text-muted">{description}</p>
      </div>
      {children}
    </section>
  );
}

/**
 * The assistant: model providers (keys stored encrypted, shown only as `…abcd`), which model
 * serves chat, the agent and inline completions, what the agent may do without asking, and the
 * MCP servers whose tools it also gets.
 */
export function AiSection() {
  const isAdmin = useCurrentUser().role === 'admin';
  return (
    <Card
      id="ai"
      title="AI"
      description="The assistant in your workspaces: where its models come from and what it may do."
    >
      <div className="space-y-6">
        <Part
          id="ai-providers"
          title="Providers"
          description="A vendor’s API with your key, or your own OpenAI-compatible server such as Ollama."
        >
          <AiProvidersPanel isAdmin={isAdmin} />
        </Part>
        <Part
          id="ai-models"
          title="Models"
          description="Which model answers chat, runs the agent and writes inline completions."
        >
          <AiModelRoles isAdmin={isAdmin} />
        </Part>
        <Part
          id="ai-permissions"
          title="Agent permissions"
          description="What the agent does without asking. Rules for a workspace beat global ones, a longer pattern beats a shorter one."
        >
          <AiPolicyPanel />
        </Part>
        <Part
          id="ai-mcp"
          title="MCP servers"
          description="Their tools join the agent’s, under the same permissions (each asks unless it says it only reads)."
        >
          <AiMcpPanel isAdmin={isAdmin} />
        </Part>
      </div>
    </Card>
  );
}
