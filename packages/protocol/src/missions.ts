import { z } from 'zod';
import { gitUrlSchema, workspaceResourcesBodySchema } from './workspaces.ts';

/**
 * Where a mission is: its environment waits its turn, its image builds, it starts, it is ready
 * (the worker runs in it), or it failed or was stopped (`statusReason` says why).
 */
export const MISSION_STATUSES = [
  'queued',
  'building',
  'starting',
  'ready',
  'failed',
  'stopped',
] as const;
export const missionStatusSchema = z.enum(MISSION_STATUSES);
export type MissionStatus = z.infer<typeof missionStatusSchema>;

/** A file placed in the environment's home folder before the worker starts. */
export const missionFileSchema = z.strictObject({
  path: z
    .string()
    .min(1)
    .max(1024)
    .refine((path) => !path.split('/').includes('..'), 'a path may not contain ..'),
  content: z.string().max(1024 * 1024),
});

/** `POST /api/missions`: deploy an environment and hand the requirement to a worker agent in it. */
export const deployMissionBodySchema = z.strictObject({
  /** What the worker should do, in the person's words. */
  requirement: z.string().trim().min(1).max(20_000),
  /** A template name (`GET /api/templates`); `desktop` gives the worker a screen it can see and use. */
  template: z.string().min(1).max(63).default('desktop'),
  /** Instead of the template's; capped at what the server has. */
  resources: workspaceResourcesBodySchema.optional(),
  files: z.array(missionFileSchema).max(50).default([]),
  /** Cloned into the home folder before the worker starts. */
  repositories: z.array(gitUrlSchema).max(10).default([]),
  /** Stop the environment this long after it is ready, unless kept. */
  ttlMinutes: z
    .number()
    .int()
    .min(5)
    .max(7 * 24 * 60)
    .default(60),
  /** Start the worker on the requirement once ready (false: only deploy). */
  startWorker: z.boolean().default(true),
});
export type DeployMissionBody = z.input<typeof deployMissionBodySchema>;

export const missionSchema = z.object({
  id: z.string(),
  requirement: z.string(),
  template: z.string(),
  /** The template shows a desktop: connect a VNC viewer to `connect.desktop`. */
  desktop: z.boolean(),
  status: missionStatusSchema,
  /** Why it failed or stopped, or what it is doing now (e.g. "building studio/desktop:1"). */
  statusReason: z.string().nullable(),
  /** The environment's workspace name (IDE at `/w/:name`). */
  workspace: z.string(),
  /** The worker's conversation in that workspace, once it started. */
  workerConversationId: z.string().nullable(),
  /** The worker's run while it works. */
  workerRunId: z.string().nullable(),
  /**
   * How the worker is doing: `working`, or how its last run ended (`done`, `stopped`, `failed`),
   * with why (a failed model, a cap reached); null before it started.
   */
  worker: z
    .object({
      state: z.enum(['working', 'done', 'stopped', 'failed']),
      reason: z.string().nullable(),
    })
    .nullable(),
  /** When the environment stops unless kept; null while deploying or when kept. */
  expiresAt: z.string().nullable(),
  keep: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Mission = z.infer<typeof missionSchema>;

export const missionListSchema = z.object({ missions: z.array(missionSchema) });

/** `PATCH /api/missions/:id`: keep the environment past its time-to-live, or give it more time. */
export const updateMissionBodySchema = z.strictObject({
  keep: z.boolean().optional(),
  /** A new time-to-live counted from now. */
  ttlMinutes: z
    .number()
    .int()
    .min(5)
    .max(7 * 24 * 60)
    .optional(),
});
export type UpdateMissionBody = z.infer<typeof updateMissionBodySchema>;

/** `GET /api/missions/:id/connect`: where a program or the page reaches a ready mission. */
export const missionConnectionSchema = z.object({
  workspace: z.string(),
  /** The IDE page of the environment. */
  ide: z.string(),
  /** WebSocket carrying the desktop's VNC (RFB), with the session or an API token; null without a desktop. */
  desktop: z.string().nullable(),
  worker: z.object({
    conversationId: z.string().nullable(),
    runId: z.string().nullable(),
    /** Server-Sent Events of the worker's run (see `GET /api/ai/runs/:id/events`). */
    events: z.string().nullable(),
  }),
});
export type MissionConnection = z.infer<typeof missionConnectionSchema>;

/** `POST /api/ai/runs/:id/messages`: a message for a running agent, read at its next step. */
export const runMessageBodySchema = z.strictObject({
  text: z.string().trim().min(1).max(20_000),
});
export type RunMessageBody = z.infer<typeof runMessageBodySchema>;
