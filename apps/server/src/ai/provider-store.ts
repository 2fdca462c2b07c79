import { randomUUID } from 'node:crypto';
import type { ProviderConfig } from '@studio/agent';
import { refuseServerNetwork } from '../net/server-network.ts';
import { schema, type Database } from '@studio/db';
import type { createAiProviderBodySchema } from '@studio/protocol';
import {
  AI_ROLES,
  type AiProvider,
  type AiRole,
  type AiScope,
  type AiSettings,
  type UpdateAiProviderBody,
  type UpdateAiSettingsBody,
} from '@studio/protocol';
import { and, asc, eq, inArray, isNotNull, isNull, or } from 'drizzle-orm';
import type { z } from 'zod';
import { Sealer } from '../crypto/sealer.ts';
import { AppError } from '../errors.ts';
import { teamNamed, teamNameOf } from '../workspaces/teams.ts';

const { aiProviders, aiModelRoles, teamMembers, teams } = schema;
type ProviderRow = typeof aiProviders.$inferSelect;
/** Who is asking: their id and whether they may edit the organisation's settings. */
export interface Caller {
  id: string;
  admin: boolean;
}
/** The model serving a role, ready to call: the key in clear, in memory only. */
export interface ResolvedModel {
  provider: ProviderConfig & { id: string; name: string };
  model: string;
  scope: AiScope;
}

const ORG = '*';

/**
 * Model providers and which model serves chat, agent and completion. Keys are sealed at rest
 * (AES-256-GCM, a key derived from the server's secret, bound to the provider's id) and never
 * leave this class except to call the provider.
 */
export class AiProviderStore {
  private readonly sealer: Sealer;

  constructor(
    private readonly db: Database,
    serverSecret: string,
  ) {
    this.sealer = new Sealer(serverSecret, 'ai-provider-keys/v1');
  }

  /** The caller's own providers, the organisation's, and their teams' (every team's, to an admin). */
  async list(caller: Caller): Promise<AiProvider[]> {
    const rows = await this.db
      .select({ provider: aiProviders, team: teams.name })
      .from(aiProviders)
      .leftJoin(teams, eq(teams.id, aiProviders.teamId))
      .where(this.visibleTo(caller, caller.admin))
      .orderBy(asc(aiProviders.createdAt));
    return rows.map(({ provider, team }) => view(provider, team));
  }

  /**
   * Providers the caller may use: their own, the organisation's, their teams' — or, for an admin
   * managing them (`managing`), every team's.
   */
  private visibleTo(caller: Caller, managing = false) {
    const ownedByNobody = isNull(aiProviders.ownerId);
    return or(
      eq(aiProviders.ownerId, caller.id),
      and(ownedByNobody, isNull(aiProviders.teamId)),
      and(
        ownedByNobody,
        managing
          ? isNotNull(aiProviders.teamId)
          : inArray(
              aiProviders.teamId,
              this.db
                .select({ id: teamMembers.teamId })
                .from(teamMembers)
                .where(eq(teamMembers.userId, caller.id)),
            ),
      ),
    );
  }

  async create(
    caller: Caller,
    body: z.output<typeof createAiProviderBodySchema>,
  ): Promise<AiProvider> {
    if (body.scope === 'organization' && !caller.admin)
      throw new AppError('forbidden', 'only admins add providers for the whole organisation');
    if (body.scope === 'team' && !caller.admin)
      throw new AppError('forbidden', 'only admins add providers for a team');
    const team = body.team === undefined ? null : await teamNamed(this.db, body.team);
    if (body.baseUrl) await refuseServerNetwork(caller, body.baseUrl, 'baseUrl');
    const id = randomUUID();
    const [row] = await this.db
      .insert(aiProviders)
      .values({
        id,
        ownerId: body.scope === 'user' ? caller.id : null,
        teamId: team?.id ?? null,
        name: body.name,
        kind: body.kind,
        baseUrl: body.baseUrl ?? null,
        ...this.sealedKey(id, body.apiKey ?? null),
        models: body.models,
      })
      .returning();
    return view(row!, team?.name ?? null);
  }

  async update(caller: Caller, id: string, body: UpdateAiProviderBody): Promise<AiProvider> {
    const row = await this.editable(caller, id);
    if (body.baseUrl === null && row.kind === 'openai-compatible')
      throw new AppError(
        'bad_request',
        'baseUrl: an OpenAI-compatible provider needs its base URL',
      );
    const [updated] = await this.db
      .update(aiProviders)
      .set({
        ...(body.name !== undefined ? { name: body.name } : {}),
        ...(body.baseUrl !== undefined ? { baseUrl: body.baseUrl } : {}),
        ...(body.apiKey !== undefined ? this.sealedKey(id, body.apiKey) : {}),
        ...(body.models !== undefined ? { models: body.models } : {}),
      })
      .where(eq(aiProviders.id, id))
      .returning();
    return view(updated!, await teamNameOf(this.db, updated!.teamId));
  }

  async remove(caller: Caller, id: string): Promise<void> {
    await this.editable(caller, id);
    await this.db.delete(aiProviders).where(eq(aiProviders.id, id));
  }

  /** A provider the caller may use, with its key opened and the models listed by hand. */
  async resolve(
    caller: Caller,
    id: string,
  ): Promise<ResolvedModel['provider'] & { models: string[] }> {
    // An admin checking a team's provider sees its models too.
    const row = await this.visible(caller, id, caller.admin);
    await this.guardRow(caller, row);
    return { ...this.config(row), models: row.models };
  }

  async settings(caller: Caller): Promise<AiSettings> {
    const rows = await this.db
      .select({
        scope: aiModelRoles.scope,
        role: aiModelRoles.role,
        providerId: aiModelRoles.providerId,
        model: aiModelRoles.model,
        providerName: aiProviders.name,
        kind: aiProviders.kind,
      })
      .from(aiModelRoles)
      .innerJoin(aiProviders, eq(aiProviders.id, aiModelRoles.providerId))
      .where(and(inArray(aiModelRoles.scope, [ORG, caller.id]), this.visibleTo(caller)));
    const pick = (scope: string, role: AiRole) =>
      rows.find((row) => row.scope === scope && row.role === role) ?? null;
    const assignments = (scope: string) =>
      Object.fromEntries(
        AI_ROLES.map((role) => {
          const row = pick(scope, role);
          return [role, row ? { providerId: row.providerId, model: row.model } : null];
        }),
      ) as AiSettings['user'];
    const effective = Object.fromEntries(
      AI_ROLES.map((role) => {
        const mine = pick(caller.id, role);
        const row = mine ?? pick(ORG, role);
        return [
          role,
          row
            ? {
                providerId: row.providerId,
                providerName: row.providerName,
                kind: row.kind,
                model: row.model,
                scope: mine ? 'user' : 'organization',
              }
            : null,
        ];
      }),
    ) as AiSettings['effective'];
    return { organization: assignments(ORG), user: assignments(caller.id), effective };
  }

  async updateSettings(caller: Caller, body: UpdateAiSettingsBody): Promise<AiSettings> {
    const scope = body.scope ?? 'user';
    if (scope === 'organization' && !caller.admin)
      throw new AppError('forbidden', 'only admins set the organisation’s models');
    const key = scope === 'organization' ? ORG : caller.id;
    for (const role of AI_ROLES) {
      const assignment = body[role];
      if (assignment === undefined) continue;
      if (assignment === null) {
        await this.db
          .delete(aiModelRoles)
          .where(and(eq(aiModelRoles.scope, key), eq(aiModelRoles.role, role)));
        continue;
      }
      const provider = await this.visible(
        caller,
        assignment.providerId,
        scope === 'organization' && caller.admin,
      );
      // The organisation's default cannot point at one person's or one team's provider (and key).
      if (scope === 'organization' && (provider.ownerId !== null || provider.teamId !== null))
        throw new AppError('bad_request', `${role}.providerId: pick an organisation provider`);
      await this.db
        .insert(aiModelRoles)
        .values({ scope: key, role, providerId: provider.id, model: assignment.model })
        .onConflictDoUpdate({
          target: [aiModelRoles.scope, aiModelRoles.role],
          set: { providerId: provider.id, model: assignment.model },
        });
    }
    return this.settings(caller);
  }

  /** The model serving `role` for the caller (their choice, else the organisation's); `null` when none. */
  async modelFor(caller: Caller, role: AiRole): Promise<ResolvedModel | null> {
    const rows = await this.db
      .select()
      .from(aiModelRoles)
      .innerJoin(aiProviders, eq(aiProviders.id, aiModelRoles.providerId))
      .where(
        and(
          inArray(aiModelRoles.scope, [ORG, caller.id]),
          eq(aiModelRoles.role, role),
          // A team's provider stops serving a person who left the team.
          this.visibleTo(caller),
        ),
      );
    const chosen =
      rows.find((row) => row.ai_model_roles.scope === caller.id) ??
      rows.find((row) => row.ai_model_roles.scope === ORG);
    if (!chosen) return null;
    await this.guardRow(caller, chosen.ai_providers);
    return {
      provider: this.config(chosen.ai_providers),
      model: chosen.ai_model_roles.model,
      scope: chosen.ai_model_roles.scope === ORG ? 'organization' : 'user',
    };
  }

  /** Checked again before each use, since a name can resolve elsewhere later. */
  private async guardRow(caller: Caller, row: ProviderRow): Promise<void> {
    if (row.ownerId === null || !row.baseUrl) return;
    await refuseServerNetwork(caller, row.baseUrl, 'baseUrl');
  }

  private config(row: ProviderRow): ResolvedModel['provider'] {
    return {
      id: row.id,
      name: row.name,
      kind: row.kind,
      baseUrl: row.baseUrl,
      apiKey: row.secret ? this.sealer.open(row.secret, row.id) : null,
    };
  }

  private sealedKey(id: string, apiKey: string | null) {
    return apiKey === null
      ? { secret: null, keyHint: null }
      : { secret: this.sealer.seal(apiKey, id), keyHint: `…${apiKey.slice(-4)}` };
  }

  private async visible(caller: Caller, id: string, managing = false): Promise<ProviderRow> {
    const [row] = await this.db
      .select()
      .from(aiProviders)
      .where(and(eq(aiProviders.id, id), this.visibleTo(caller, managing)));
    if (!row) throw new AppError('not_found', `no provider ${id}`);
    return row;
  }

  private async editable(caller: Caller, id: string): Promise<ProviderRow> {
    const row = await this.visible(caller, id, caller.admin);
    if (row.ownerId === null && !caller.admin)
      throw new AppError(
        'forbidden',
        row.teamId === null
          ? 'only admins change the organisation’s providers'
          : 'only admins change a team’s providers',
      );
    return row;
  }
}

function view(row: ProviderRow, team: string | null): AiProvider {
  return {
    id: row.id,
    scope: row.ownerId !== null ? 'user' : row.teamId !== null ? 'team' : 'organization',
    team,
    name: row.name,
    kind: row.kind,
    baseUrl: row.baseUrl,
    hasKey: row.secret !== null,
    keyHint: row.keyHint,
    models: row.models,
    createdAt: row.createdAt.toISOString(),
  };
}
