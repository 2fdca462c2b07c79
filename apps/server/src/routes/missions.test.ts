import { schema } from '@studio/db';
import { missionSchema, type Mission, type RunEvent } from '@studio/protocol';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { followRun } from '../../../../test/run-events.ts';
import {
  startScriptedLlm,
  type RecordedRequest,
  type ScriptedLlm,
  type ScriptedTurn,
} from '../../../../test/scripted-llm.ts';
import {
  injectAs,
  signedInUser,
  startTestServer,
  useScriptedProvider,
  type InjectArgs,
  type TestServer,
} from '../testing.ts';

// Missions on the local driver with the `base` template: the REST resources, the main agent's
// tools through a scripted model, steering a running agent, and the time-to-live.
let server: TestServer;
let llm: ScriptedLlm;
let alice: { id: string; cookie: string };
let bob: { id: string; cookie: string };
const api = (...args: InjectArgs) => injectAs(server, ...args);

beforeAll(async () => {
  llm = await startScriptedLlm();
  server = await startTestServer({ STUDIO_MISSION_SWEEP_SECONDS: '1' });
  // An admin: her provider is the scripted server on this machine's loopback.
  alice = await signedInUser(server, { email: 'alice@example.com', role: 'admin' });
  bob = await signedInUser(server, { email: 'bob@example.com' });
  await useScriptedProvider(server, alice, llm.openaiBaseUrl);
}, 90_000);

beforeEach(() => llm.reset());

afterAll(async () => {
  await server?.close();
  await llm?.close();
}, 60_000);

async function mission(id: string): Promise<Mission> {
  const response = await api(alice, 'GET', `/api/missions/${id}`);
  expect(response.statusCode, response.body).toBe(200);
  return missionSchema.parse(response.json());
}

/** Polls until the mission leaves the deploying states; returns every status seen on the way. */
async function untilSettled(id: string): Promise<{ mission: Mission; seen: string[] }> {
  const seen: string[] = [];
  for (let i = 0; i < 600; i++) {
    const current = await mission(id);
    if (seen.at(-1) !== current.status) seen.push(current.status);
    if (!['queued', 'building', 'starting'].includes(current.status))
      return { mission: current, seen };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`mission ${id} never settled`);
}

async function readHome(workspace: string, path: string): Promise<string> {
  const row = await server.services.workspaces.get(alice.id, workspace);
  const daemon = await server.services.workspaces.connect(row);
  return (await daemon.call('files.read', { path })).content;
}

describe('the missions API', () => {
  it('deploys an environment with files, tells how to reach it, keeps it, and stops it', async () => {
    const deployed = await api(alice, 'POST', '/api/missions', {
      requirement: 'Sum the numbers in data/in.txt',
      template: 'base',
      files: [{ path: 'data/in.txt', content: '40\n2\n' }],
      startWorker: false,
    });
    expect(deployed.statusCode, deployed.body).toBe(202);
    const started = missionSchema.parse(deployed.json());
    expect(started).toMatchObject({ status: 'queued', template: 'base', desktop: false });
    expect(started.workspace).toMatch(/^mission-[0-9a-f]{6}$/);

    const early = await api(alice, 'GET', `/api/missions/${started.id}/connect`);
    if (early.statusCode !== 200) expect(early.json()).toMatchObject({ code: 'conflict' });

    const { mission: ready, seen } = await untilSettled(started.id);
    expect(ready.status, ready.statusReason ?? '').toBe('ready');
    expect(seen.at(-1)).toBe('ready');
    expect(ready.expiresAt).not.toBeNull();
    expect(await readHome(ready.workspace, 'data/in.txt')).toBe('40\n2\n');

    const connect = await api(alice, 'GET', `/api/missions/${started.id}/connect`);
    expect(connect.json()).toEqual({
      workspace: ready.workspace,
      ide: `/w/${ready.workspace}`,
      desktop: null,
      worker: { conversationId: null, runId: null, events: null },
    });
    const listed = await api(alice, 'GET', '/api/missions');
    expect(listed.json().missions.map((item: Mission) => item.id)).toContain(started.id);

    // Someone else's mission does not exist for them.
    expect((await api(bob, 'GET', `/api/missions/${started.id}`)).statusCode).toBe(404);
    expect((await api(bob, 'POST', `/api/missions/${started.id}/stop`)).statusCode).toBe(404);

    const kept = await api(alice, 'PATCH', `/api/missions/${started.id}`, { keep: true });
    expect(kept.json()).toMatchObject({ keep: true, expiresAt: null });

    const stopped = await api(alice, 'POST', `/api/missions/${started.id}/stop`);
    expect(stopped.json()).toMatchObject({ status: 'stopped', statusReason: 'Stopped by you.' });
    expect((await api(alice, 'GET', `/api/missions/${started.id}/connect`)).statusCode).toBe(409);

    const removed = await api(alice, 'DELETE', `/api/missions/${started.id}`);
    expect(removed.statusCode).toBe(204);
    expect((await api(alice, 'GET', `/api/missions/${started.id}`)).statusCode).toBe(404);

    // Deploy, stop and remove are in the audit log, with what was deployed.
    const audit = await api(alice, 'GET', '/api/audit?action=mission');
    const actions = (
      audit.json().events as Array<{
        action: string;
        targetId: string;
        data: Record<string, unknown>;
      }>
    ).filter((event) => event.targetId === started.id);
    expect(actions.map((event) => event.action).sort()).toEqual([
      'mission.deploy',
      'mission.remove',
      'mission.stop',
    ]);
    expect(actions.find((event) => event.action === 'mission.deploy')!.data).toMatchObject({
      template: 'base',
      files: ['data/in.txt'],
    });
  }, 60_000);

  it('refuses bad input, naming what was wrong', async () => {
    const unknown = await api(alice, 'POST', '/api/missions', {
      requirement: 'x',
      template: 'nope',
    });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().message).toMatch(/no template "nope".*base/);

    const empty = await api(alice, 'POST', '/api/missions', { requirement: '  ' });
    expect(empty.statusCode).toBe(400);
    expect(empty.json().message).toMatch(/requirement/);

    const escape = await api(alice, 'POST', '/api/missions', {
      requirement: 'x',
      files: [{ path: '../../etc/passwd', content: '' }],
    });
    expect(escape.statusCode).toBe(400);
    expect(escape.json().message).toMatch(/\.\./);
    // The local driver this server runs gives no desktops.
    const desktop = await api(alice, 'POST', '/api/missions', { requirement: 'x' });
    expect(desktop.statusCode).toBe(400);
    expect(desktop.json().message).toMatch(
      /the local driver this server runs workspaces on cannot give; use the Docker or Kubernetes driver/,
    );

    // Nothing half-made is left behind.
    expect((await api(alice, 'GET', '/api/missions')).json().missions).toHaveLength(0);
  });

  it('stops an environment once its time-to-live runs out', async () => {
    const deployed = await api(alice, 'POST', '/api/missions', {
      requirement: 'wait',
      template: 'base',
      startWorker: false,
    });
    const { id } = deployed.json() as Mission;
    expect((await untilSettled(id)).mission.status).toBe('ready');
    // Five minutes is the shortest time-to-live; move its end into the past instead of waiting.
    await server.services.database.db
      .update(schema.missions)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(schema.missions.id, id));
    let current = await mission(id);
    for (let i = 0; i < 100 && current.status === 'ready'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      current = await mission(id);
    }
    expect(current).toMatchObject({ status: 'stopped' });
    expect(current.statusReason).toMatch(/time-to-live of 60 min ran out/);
    await api(alice, 'DELETE', `/api/missions/${id}`);
  }, 60_000);
});

/** The system prompt of a recorded OpenAI request. */
function systemOf(request: RecordedRequest): string {
  return String(request.body.messages?.[0]?.content ?? '');
}

describe('the main agent', () => {
  it('deploys an environment once the person approves, and the worker starts on the requirement', async () => {
    const main: ScriptedTurn[] = [
      { toolCalls: [{ name: 'list_templates', input: {} }] },
      {
        toolCalls: [
          {
            name: 'deploy_environment',
            input: { template: 'base', requirement: 'Write hello to hi.txt', ttlMinutes: 30 },
          },
        ],
      },
      { text: 'I deployed a base environment; the worker starts once it is ready.' },
    ];
    const worker: ScriptedTurn[] = [{ text: 'On it: the job is clear.' }];
    llm.respond((request) => {
      const turns = systemOf(request).includes('main agent of Prometheus Studio') ? main : worker;
      return turns.shift() ?? { text: 'nothing more' };
    });

    const conversation = await api(alice, 'POST', '/api/ai/conversations', {});
    expect(conversation.statusCode).toBe(201);
    const conversationId = conversation.json().id as string;
    const sent = await api(alice, 'POST', `/api/ai/conversations/${conversationId}/messages`, {
      text: 'Please write hello into a file',
    });
    expect(sent.statusCode, sent.body).toBe(202);
    const runId = sent.json().runId as string;
    const approvals: Extract<RunEvent, { type: 'approval' }>[] = [];
    const events = await followRun({
      origin: server.origin,
      cookie: alice.cookie,
      runId,
      answer: async (event) => {
        approvals.push(event);
        await api(alice, 'POST', `/api/ai/runs/${runId}/approvals/${event.callId}`, {
          decision: 'approve',
        });
      },
    });
    expect(events.at(-1)).toMatchObject({ type: 'end', code: 'done' });
    // Listing templates needs no approval; deploying does, and the card says what and for how long.
    expect(approvals.map((event) => event.tool)).toEqual(['deploy_environment']);
    expect(approvals[0]!.detail.summary).toMatch(/"base".*30 min.*Write hello to hi\.txt/);
    const listed = events.find(
      (event) => event.type === 'tool-result' && event.status === 'done',
    ) as Extract<RunEvent, { type: 'tool-result' }>;
    expect(listed.output).toMatch(/^base: /m);
    expect(listed.output).toMatch(/^desktop \(desktop\): /m);

    const [deployedMission] = (await api(alice, 'GET', '/api/missions')).json()
      .missions as Mission[];
    expect(deployedMission!.requirement).toBe('Write hello to hi.txt');
    // The conversation stays on Mission Control: no workspace lists it.
    const mainList = await api(alice, 'GET', '/api/ai/conversations');
    expect(mainList.json().conversations.map((item: { id: string }) => item.id)).toContain(
      conversationId,
    );

    const { mission: ready } = await untilSettled(deployedMission!.id);
    expect(ready.status, ready.statusReason ?? '').toBe('ready');
    let withWorker = ready;
    for (let i = 0; i < 100 && !withWorker.workerConversationId; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      withWorker = await mission(ready.id);
    }
    const detail = async () =>
      (
        await api(
          alice,
          'GET',
          `/api/workspaces/${ready.workspace}/ai/conversations/${withWorker.workerConversationId}`,
        )
      ).json();
    let transcript = await detail();
    for (let i = 0; i < 100 && transcript.messages.length < 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      transcript = await detail();
    }
    expect(transcript.messages[0]).toMatchObject({
      role: 'user',
      parts: [{ type: 'text', text: 'Write hello to hi.txt' }],
    });
    expect(transcript.messages[1].parts[0].text).toBe('On it: the job is clear.');
    const workerRequest = llm.requests.find((request) =>
      systemOf(request).includes('worker agent of a mission'),
    );
    expect(workerRequest).toBeDefined();
    await api(alice, 'DELETE', `/api/missions/${ready.id}`);
  }, 90_000);
});

describe('steering a running agent', () => {
  it('pauses before the next step, delivers a message sent meanwhile, and resumes', async () => {
    const deployed = await api(alice, 'POST', '/api/missions', {
      requirement: 'List the files',
      template: 'base',
      startWorker: false,
    });
    const { mission: ready } = await untilSettled((deployed.json() as Mission).id);
    const conversation = await api(
      alice,
      'POST',
      `/api/workspaces/${ready.workspace}/ai/conversations`,
      {},
    );
    const conversationId = conversation.json().id as string;

    let releaseFirst = () => {};
    const firstHeld = new Promise<void>((resolve) => (releaseFirst = resolve));
    let requestsSeen = 0;
    llm.respond(async () => {
      requestsSeen++;
      if (requestsSeen === 1) {
        await firstHeld;
        return { toolCalls: [{ name: 'list_files', input: { path: '.' } }] };
      }
      return { text: 'Done, and I read your note.' };
    });
    const sent = await api(
      alice,
      'POST',
      `/api/workspaces/${ready.workspace}/ai/conversations/${conversationId}/messages`,
      { text: 'List the files', mode: 'agent' },
    );
    const runId = sent.json().runId as string;
    const following = followRun({ origin: server.origin, cookie: alice.cookie, runId });

    // Paused while the first step runs: the model's tool call still runs, the next step waits.
    expect((await api(alice, 'POST', `/api/ai/runs/${runId}/pause`)).statusCode).toBe(204);
    const note = await api(alice, 'POST', `/api/ai/runs/${runId}/messages`, {
      text: 'Also count them',
    });
    expect(note.statusCode).toBe(202);
    releaseFirst();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(requestsSeen).toBe(1);

    expect((await api(alice, 'POST', `/api/ai/runs/${runId}/resume`)).statusCode).toBe(204);
    const events = await following;
    expect(events.at(-1)).toMatchObject({ type: 'end', code: 'done' });
    // Every page following the run learns it was paused and resumed.
    expect(events.filter((event) => event.type === 'paused').map((event) => event.paused)).toEqual([
      true,
      false,
    ]);
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'user-note', text: 'Also count them' }),
    );
    expect(llm.requests.at(-1)!.userTexts).toContain('Also count them');

    // A run that ended takes no more messages, and says so.
    const late = await api(alice, 'POST', `/api/ai/runs/${runId}/messages`, { text: 'more' });
    expect(late.statusCode).toBe(409);
    await api(alice, 'DELETE', `/api/missions/${ready.id}`);
  }, 60_000);
});

describe('a worker whose model fails', () => {
  it('leaves the environment ready and says the worker failed, and why', async () => {
    llm.script({ error: { status: 401, message: 'Incorrect API key provided' } });
    const created = await api(alice, 'POST', '/api/missions', {
      requirement: 'Summarise the README',
      template: 'base',
    });
    expect(created.statusCode, created.body).toBe(202);
    const { mission: ready } = await untilSettled(created.json().id);
    expect(ready.status).toBe('ready');
    let current = ready;
    for (let i = 0; i < 200 && current.worker?.state !== 'failed'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      current = await mission(ready.id);
    }
    expect(current.worker).toMatchObject({ state: 'failed' });
    expect(current.worker?.reason).toMatch(/key|auth|401/i);
    await api(alice, 'DELETE', `/api/missions/${ready.id}`);
  }, 60_000);
});
