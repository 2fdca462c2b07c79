// The pure parts of Settings → AI: labels, form values to request bodies, and error placement.
import type {
  AiAssignment,
  AiProvider,
  AiProviderKind,
  AiProviderScope,
  AiRole,
  AiScope,
  AiSettings,
  CreateAiProviderBody,
  PolicyDecision,
  PolicyRule,
  UpdateAiProviderBody,
} from '@studio/protocol';
import { hasCode } from '../../api/http.ts';

/** How each provider kind is named in the UI. */
export const KIND_LABELS: Record<AiProviderKind, string> = {
  openai: 'OpenAI',
  anthropic: 'Anthropic',
  google: 'Google',
  'openai-compatible': 'OpenAI-compatible',
};

/** How each role is named in the UI; `select` prefixes the accessible names of its selects. */
export const ROLE_LABELS: Record<AiRole, { label: string; select: string }> = {
  chat: { label: 'Chat', select: 'Chat' },
  agent: { label: 'Agent', select: 'Agent' },
  completion: { label: 'Inline completions', select: 'Completion' },
};

/** "Organisation", "Team core" or "Yours". */
export function scopeLabel(scope: AiProviderScope, team: string | null = null): string {
  if (scope === 'team') return `Team ${team ?? ''}`.trim();
  return scope === 'organization' ? 'Organisation' : 'Yours';
}

/** Model ids typed as one line: separated by commas and/or white space, duplicates dropped. */
export function parseModelList(text: string): string[] {
  return [...new Set(text.split(/[\s,]+/).filter(Boolean))];
}

/** What the add-provider form holds. */
export interface ProviderForm {
  kind: AiProviderKind;
  name: string;
  baseUrl: string;
  apiKey: string;
  models: string;
  /** Who uses it (admins choose): `user`, `organization`, or `team:<name>`. */
  owner: string;
}

/** An empty add-provider form. */
export const EMPTY_PROVIDER_FORM: ProviderForm = {
  kind: 'openai-compatible',
  name: '',
  baseUrl: '',
  apiKey: '',
  models: '',
  owner: 'user',
};

/** The `POST /api/ai/providers` body: blank optional fields left out, models split. */
export function createProviderBody(form: ProviderForm, isAdmin: boolean): CreateAiProviderBody {
  const baseUrl = form.baseUrl.trim();
  const apiKey = form.apiKey.trim();
  const team = form.owner.startsWith('team:') ? form.owner.slice('team:'.length) : null;
  return {
    ...(!isAdmin
      ? { scope: 'user' as const }
      : team !== null
        ? { scope: 'team' as const, team }
        : { scope: form.owner === 'organization' ? ('organization' as const) : ('user' as const) }),
    kind: form.kind,
    name: form.name.trim(),
    ...(baseUrl ? { baseUrl } : {}),
    ...(apiKey ? { apiKey } : {}),
    models: parseModelList(form.models),
  };
}

/** What the edit-provider dialog holds. */
export interface ProviderEdit {
  name: string;
  baseUrl: string;
  /** A replacement key; blank keeps the stored one. */
  apiKey: string;
  removeKey: boolean;
  models: string;
}

/** The edit form for `provider`, filled with what it has now. */
export function providerEditFor(provider: AiProvider): ProviderEdit {
  return {
    name: provider.name,
    baseUrl: provider.baseUrl ?? '',
    apiKey: '',
    removeKey: false,
    models: provider.models.join(', '),
  };
}

/** The `PATCH` body: only what changed (`baseUrl: null` clears it, `apiKey: null` removes the key). */
export function updateProviderBody(provider: AiProvider, edit: ProviderEdit): UpdateAiProviderBody {
  const body: UpdateAiProviderBody = {};
  const name = edit.name.trim();
  if (name !== provider.name) body.name = name;
  const baseUrl = edit.baseUrl.trim();
  if (baseUrl !== (provider.baseUrl ?? '')) body.baseUrl = baseUrl || null;
  const apiKey = edit.apiKey.trim();
  if (apiKey) body.apiKey = apiKey;
  else if (edit.removeKey && provider.hasKey) body.apiKey = null;
  const models = parseModelList(edit.models);
  if (models.join('\n') !== provider.models.join('\n')) body.models = models;
  return body;
}

const PROVIDER_FIELDS = ['kind', 'name', 'baseUrl', 'apiKey', 'models', 'scope', 'team'] as const;
/** A field of the provider forms that a server error can point at. */
export type ProviderField = (typeof PROVIDER_FIELDS)[number];

/**
 * Where to show a failed save: a `bad_request` issue under the field its path names (`models.2`
 * belongs to "Models"), anything else (403, an unknown field) as one message over the form.
 */
export function providerErrors(error: unknown): {
  fields: Partial<Record<ProviderField, string>>;
  general: string | null;
} {
  if (!error) return { fields: {}, general: null };
  const fields: Partial<Record<ProviderField, string>> = {};
  const place = (segments: string[], message: string) => {
    const lower = segments.map((segment) => segment.trim().toLowerCase());
    const field = PROVIDER_FIELDS.find((name) => lower.includes(name.toLowerCase()));
    if (field && !fields[field]) fields[field] = message;
    return field !== undefined;
  };
  if (hasCode(error, 'bad_request')) {
    const issues = Array.isArray(error.detail) ? (error.detail as unknown[]) : [];
    for (const issue of issues) {
      if (typeof issue !== 'object' || issue === null) continue;
      const { path, message } = issue as { path?: unknown; message?: unknown };
      if (typeof message !== 'string') continue;
      place(Array.isArray(path) ? path.map(String) : String(path ?? '').split(/[./]/), message);
    }
    // A check made by the route itself names the field in its message: "baseUrl: must be …".
    const named = issues.length === 0 ? /^([\w.]+):\s*(.+)$/s.exec(error.message) : null;
    if (named?.[1] && named[2]) {
      const text = named[2];
      place(named[1].split('.'), text.charAt(0).toUpperCase() + text.slice(1));
    }
  }
  if (Object.keys(fields).length > 0) return { fields, general: null };
  return { fields, general: error instanceof Error ? error.message : 'The change failed.' };
}

/** One role's choice in the model form: blank provider means "no model". */
export interface RoleDraft {
  providerId: string;
  model: string;
}

/** The model form of one scope. */
export type RolesDraft = Record<AiRole, RoleDraft>;

/** The model form of `scope`, filled from the saved settings. */
export function rolesDraftFrom(settings: AiSettings, scope: AiScope): RolesDraft {
  const assignments = settings[scope];
  const draft = (assignment: AiAssignment | null): RoleDraft => ({
    providerId: assignment?.providerId ?? '',
    model: assignment?.model ?? '',
  });
  return {
    chat: draft(assignments.chat),
    agent: draft(assignments.agent),
    completion: draft(assignments.completion),
  };
}

/**
 * The `PUT /api/ai/settings` roles that changed at one scope (absent roles are kept by the
 * server), or the roles still missing a model.
 */
export function changedRoles(
  saved: RolesDraft,
  draft: RolesDraft,
): { changes: Partial<Record<AiRole, AiAssignment | null>>; missingModel: AiRole[] } {
  const changes: Partial<Record<AiRole, AiAssignment | null>> = {};
  const missingModel: AiRole[] = [];
  for (const role of Object.keys(draft) as AiRole[]) {
    const providerId = draft[role].providerId;
    const model = draft[role].model.trim();
    if (providerId && !model) {
      missingModel.push(role);
      continue;
    }
    if (providerId === saved[role].providerId && model === saved[role].model) continue;
    changes[role] = providerId ? { providerId, model } : null;
  }
  return { changes, missingModel };
}

/** "Chat uses llama3 on Ollama (yours)", or that the role has no model yet. */
export function describeEffective(role: AiRole, settings: AiSettings): string {
  const label = ROLE_LABELS[role].label;
  const plural = role === 'completion';
  const effective = settings.effective[role];
  if (!effective) return `${label} ${plural ? 'have' : 'has'} no model yet.`;
  const whose = effective.scope === 'user' ? 'yours' : 'organisation default';
  return `${label} ${plural ? 'use' : 'uses'} ${effective.model} on ${effective.providerName} (${whose}).`;
}

/** The options of a model select: the listed models, plus the saved one if the list lacks it. */
export function modelOptions(listed: readonly string[], current: string): string[] {
  return current && !listed.includes(current) ? [current, ...listed] : [...listed];
}

/** The tools an agent can call, as they appear in rules and run events. */
export const AGENT_TOOLS = [
  'list_files',
  'read_file',
  'search',
  'write_file',
  'edit_file',
  'run_command',
  'git_status',
  'git_diff',
  'git_commit',
  'fetch_url',
] as const;

/** One row of the rules editor; blank pattern and workspace mean "any". */
export interface RuleDraft {
  tool: string;
  pattern: string;
  decision: PolicyDecision;
  workspace: string;
}

/** The editor row for a saved rule. */
export function ruleDraftFrom(rule: PolicyRule): RuleDraft {
  return {
    tool: rule.tool,
    pattern: rule.pattern ?? '',
    decision: rule.decision,
    workspace: rule.workspace ?? '',
  };
}

/** The rule to save for an editor row: blank pattern and workspace left out. */
export function ruleFromDraft(draft: RuleDraft): PolicyRule {
  const pattern = draft.pattern.trim();
  const workspace = draft.workspace.trim();
  return {
    tool: draft.tool.trim() || '*',
    decision: draft.decision,
    ...(pattern ? { pattern } : {}),
    ...(workspace ? { workspace } : {}),
  };
}
