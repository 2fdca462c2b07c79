import { capText, defineTool, ToolError, type AgentTool } from '@studio/agent';
import { deployMissionBodySchema, type Mission } from '@studio/protocol';
import { z } from 'zod';
import type { MainAgent, Person } from '../ai/assistant.ts';
import { AppError } from '../errors.ts';
import type { TemplateStore } from '../workspaces/templates.ts';
import type { MissionService } from './mission-service.ts';

/** What the main agent is for; the person talks to it on the Mission Control page. */
const SYSTEM = `You are the main agent of Prometheus Studio's Mission Control.
The person gives you a job. You do not do the job yourself: you decide which environment it needs,
deploy it with deploy_environment, and a worker agent then does the job inside it while the person
watches and can talk to the worker directly.

- Call list_templates first unless you already know them. Pick "desktop" for jobs that need a
  browser, a graphical program or a screen (websites, spreadsheets, documents); pick a development
  template for jobs that are only code and a terminal.
- Write the requirement for the worker in full: what to do, where to put the results (a file
  name in the home folder), and what "done" means. Put data the worker needs into files.
- The person approves each deployment. If they deny it, ask what to change.
- After deploying, say in one or two sentences what you deployed and that the worker starts once
  it is ready. Use get_status when asked how it goes, stop_environment when the job is over or the
  person asks.`;

/** A mission in one line for the model. */
function describeMission(mission: Mission): string {
  const reason = mission.statusReason ? ` (${mission.statusReason})` : '';
  const expiry = mission.keep
    ? ', kept'
    : mission.expiresAt
      ? `, stops at ${mission.expiresAt}`
      : '';
  const worker = mission.workerRunId
    ? ', worker running'
    : mission.workerConversationId
      ? ', worker finished'
      : '';
  return `mission ${mission.id}: ${mission.status}${reason}; template ${mission.template}, workspace ${mission.workspace}${worker}${expiry}; requirement: ${mission.requirement.slice(0, 200)}`;
}

/** An AppError the model should read (a missing template, a cap) rather than a crash. */
async function modelVisible<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof AppError) throw new ToolError(error.message);
    throw error;
  }
}

const deployInput = deployMissionBodySchema.omit({ startWorker: true });

/** The main agent's tools, acting for `person`. */
export function mainAgentTools(
  person: Person,
  missions: MissionService,
  templates: TemplateStore,
): AgentTool[] {
  return [
    defineTool({
      name: 'list_templates',
      description:
        'List the environment templates that can be deployed: name, what it offers, whether it has a desktop, its default resources.',
      kind: 'read',
      inputSchema: z.object({}),
      subject: () => 'templates',
      describe: async () => ({ summary: 'list_templates' }),
      async execute() {
        const list = await templates.list(person.id);
        return list
          .map((template) => {
            const unavailable = missions.unavailable(template);
            return (
              `${template.name}${template.desktop ? ' (desktop)' : ''}: ${template.title}. ${template.description} ` +
              `Default resources: ${template.resources.cpus} CPU, ${template.resources.memoryMiB} MiB memory.` +
              (unavailable ? ` Not available here: ${unavailable}` : '')
            );
          })
          .join('\n');
      },
    }),
    defineTool({
      name: 'deploy_environment',
      description:
        'Deploy an environment for a job and start a worker agent on the requirement inside it. ' +
        'Returns the mission id at once; the environment goes queued → building → starting → ready. ' +
        'The person approves the deployment first.',
      kind: 'write',
      inputSchema: deployInput,
      subject: (input) => input.template,
      describe: async (input) => {
        const resources = input.resources
          ? ` with ${[
              input.resources.cpus !== undefined ? `${input.resources.cpus} CPU` : '',
              input.resources.memoryMiB !== undefined ? `${input.resources.memoryMiB} MiB` : '',
            ]
              .filter(Boolean)
              .join(', ')}`
          : '';
        const seeded = [
          input.files.length ? `${input.files.length} file(s)` : '',
          input.repositories.length ? `${input.repositories.length} repositor(y/ies)` : '',
        ].filter(Boolean);
        const desktop = await templates.get(input.template, person.id).then(
          (template) => template.desktop,
          () => false,
        );
        return {
          summary:
            `deploy_environment: "${input.template}"${resources}, stopping after ${input.ttlMinutes} min` +
            `${seeded.length ? `, seeded with ${seeded.join(' and ')}` : ''}. ` +
            `A worker agent starts on: “${input.requirement.slice(0, 300)}”` +
            (desktop
              ? ' It may use the desktop (screenshots, mouse, keyboard) without asking.'
              : ''),
        };
      },
      async execute(input) {
        const mission = await modelVisible(() =>
          missions.deploy(person, { ...input, startWorker: true }),
        );
        return `Deploying ${describeMission(mission)}. The worker starts once it is ready; the person sees it on the Mission Control page.`;
      },
    }),
    defineTool({
      name: 'get_status',
      description:
        'The status of one mission (by id), or of the person’s recent missions when no id is given.',
      kind: 'read',
      inputSchema: z.object({ missionId: z.string().max(100).optional() }),
      subject: (input) => input.missionId ?? 'all',
      describe: async (input) => ({ summary: `get_status: ${input.missionId ?? 'all'}` }),
      async execute(input) {
        if (input.missionId)
          return describeMission(
            await modelVisible(() => missions.get(person.id, input.missionId!)),
          );
        const list = await missions.list(person.id);
        if (list.length === 0) return 'There are no missions yet.';
        return capText(list.slice(0, 20).map(describeMission).join('\n'));
      },
    }),
    defineTool({
      name: 'stop_environment',
      description: 'Stop a mission: its worker stops and its environment is shut down.',
      kind: 'write',
      inputSchema: z.object({ missionId: z.string().max(100) }),
      subject: (input) => input.missionId,
      describe: async (input) => ({ summary: `stop_environment: mission ${input.missionId}` }),
      async execute(input) {
        const mission = await modelVisible(() =>
          missions.stop(person.id, input.missionId, 'Stopped by the main agent.'),
        );
        return `Stopped ${describeMission(mission)}`;
      },
    }),
  ];
}

/** The main agent for the assistant service. */
export function mainAgent(missions: MissionService, templates: TemplateStore): MainAgent {
  return { system: SYSTEM, tools: (person) => mainAgentTools(person, missions, templates) };
}

/** What the worker is told beyond the usual agent prompt. */
export function workerBrief(desktop: boolean): string {
  return [
    'You are the worker agent of a mission: the first message is the job, deployed for you in this environment.',
    'The person may watch, send you messages while you work (read and follow them), pause you, or take over the mouse.',
    desktop
      ? 'This environment has a graphical desktop (a terminal, a browser, a file manager) you see and use with the computer tool: take a screenshot first, then click and type, and take another screenshot to check what happened.'
      : '',
    'When the job is done, say so in a few sentences and name the files that hold the results.',
  ]
    .filter(Boolean)
    .join('\n');
}
