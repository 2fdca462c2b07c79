import type { AiProvider, AiSettings } from '@studio/protocol';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../api/http.ts';
import {
  changedRoles,
  createProviderBody,
  describeEffective,
  EMPTY_PROVIDER_FORM,
  modelOptions,
  parseModelList,
  providerEditFor,
  providerErrors,
  rolesDraftFrom,
  ruleFromDraft,
  updateProviderBody,
} from './ai-settings-form.ts';

const PROVIDER: AiProvider = {
  id: 'p1',
  scope: 'user',
  team: null,
  name: 'Ollama',
  kind: 'openai-compatible',
  baseUrl: 'http://localhost:11434/v1',
  hasKey: true,
  keyHint: '…abcd',
  models: ['llama3'],
  createdAt: '2026-01-01T00:00:00.000Z',
};

const NO_ROLES = { chat: null, agent: null, completion: null };
const SETTINGS: AiSettings = {
  organization: { ...NO_ROLES, agent: { providerId: 'org', model: 'gpt-5' } },
  user: { ...NO_ROLES, chat: { providerId: 'p1', model: 'llama3' } },
  effective: {
    chat: {
      providerId: 'p1',
      providerName: 'Ollama',
      kind: 'openai-compatible',
      model: 'llama3',
      scope: 'user',
    },
    agent: {
      providerId: 'org',
      providerName: 'OpenAI',
      kind: 'openai',
      model: 'gpt-5',
      scope: 'organization',
    },
    completion: null,
  },
};

describe('parseModelList', () => {
  it('splits on commas and spaces and drops duplicates', () => {
    expect(parseModelList(' llama3, qwen2.5-coder:7b\n llama3 ,,')).toEqual([
      'llama3',
      'qwen2.5-coder:7b',
    ]);
    expect(parseModelList('   ')).toEqual([]);
  });
});

describe('createProviderBody', () => {
  it('leaves out blank optional fields (Ollama needs no key)', () => {
    expect(
      createProviderBody(
        { ...EMPTY_PROVIDER_FORM, name: ' Ollama ', baseUrl: 'http://localhost:11434/v1' },
        false,
      ),
    ).toEqual({
      scope: 'user',
      kind: 'openai-compatible',
      name: 'Ollama',
      baseUrl: 'http://localhost:11434/v1',
      models: [],
    });
  });

  it('asks for the organisation or a team scope only for admins', () => {
    const form = { ...EMPTY_PROVIDER_FORM, kind: 'openai' as const, owner: 'organization' };
    expect(createProviderBody(form, true).scope).toBe('organization');
    expect(createProviderBody(form, false).scope).toBe('user');
    const forTeam = { ...form, owner: 'team:ml: research' };
    expect(createProviderBody(forTeam, true)).toMatchObject({
      scope: 'team',
      team: 'ml: research',
    });
    expect(createProviderBody(forTeam, false)).not.toHaveProperty('team');
  });
});

describe('updateProviderBody', () => {
  it('sends only what changed', () => {
    expect(updateProviderBody(PROVIDER, providerEditFor(PROVIDER))).toEqual({});
    expect(
      updateProviderBody(PROVIDER, {
        ...providerEditFor(PROVIDER),
        name: 'Local',
        models: 'llama3 qwen',
      }),
    ).toEqual({ name: 'Local', models: ['llama3', 'qwen'] });
  });

  it('replaces, removes or keeps the key, and clears the base URL with null', () => {
    const edit = providerEditFor(PROVIDER);
    expect(updateProviderBody(PROVIDER, { ...edit, apiKey: 'sk-new' })).toEqual({
      apiKey: 'sk-new',
    });
    expect(updateProviderBody(PROVIDER, { ...edit, removeKey: true })).toEqual({ apiKey: null });
    expect(updateProviderBody(PROVIDER, { ...edit, baseUrl: ' ' })).toEqual({ baseUrl: null });
  });
});

describe('providerErrors', () => {
  it('puts bad_request issues under the field their path names', () => {
    const error = new ApiError('bad_request', 'body.baseUrl: must be a URL', 400, [
      { path: 'body.baseUrl', message: 'must be an http:// or https:// URL' },
      { path: 'body.models.2', message: 'too long' },
    ]);
    expect(providerErrors(error)).toEqual({
      fields: { baseUrl: 'must be an http:// or https:// URL', models: 'too long' },
      general: null,
    });
  });

  it('reads the field from the message of a check without detail', () => {
    const error = new ApiError(
      'bad_request',
      'baseUrl: an OpenAI-compatible provider needs it',
      400,
    );
    expect(providerErrors(error).fields).toEqual({
      baseUrl: 'An OpenAI-compatible provider needs it',
    });
  });

  it('shows other failures over the form', () => {
    const error = new ApiError('forbidden', 'only admins change organisation providers', 403);
    expect(providerErrors(error)).toEqual({
      fields: {},
      general: 'Only admins change organisation providers',
    });
    expect(providerErrors(null)).toEqual({ fields: {}, general: null });
  });
});

describe('changedRoles', () => {
  it('sends only the changed roles, null for a cleared one', () => {
    const saved = rolesDraftFrom(SETTINGS, 'user');
    const draft = {
      ...saved,
      chat: { providerId: '', model: '' },
      completion: { providerId: 'p1', model: 'qwen' },
    };
    expect(changedRoles(saved, draft)).toEqual({
      changes: { chat: null, completion: { providerId: 'p1', model: 'qwen' } },
      missingModel: [],
    });
  });

  it('reports a provider chosen without a model', () => {
    const saved = rolesDraftFrom(SETTINGS, 'user');
    const draft = { ...saved, agent: { providerId: 'p1', model: ' ' } };
    expect(changedRoles(saved, draft)).toEqual({ changes: {}, missingModel: ['agent'] });
  });
});

describe('describeEffective', () => {
  it('names the model, the provider and whose choice it is', () => {
    expect(describeEffective('chat', SETTINGS)).toBe('Chat uses llama3 on Ollama (yours).');
    expect(describeEffective('agent', SETTINGS)).toBe(
      'Agent uses gpt-5 on OpenAI (organisation default).',
    );
    expect(describeEffective('completion', SETTINGS)).toBe('Inline completions have no model yet.');
  });
});

describe('modelOptions', () => {
  it('keeps the saved model selectable when the list lacks it', () => {
    expect(modelOptions(['a', 'b'], 'c')).toEqual(['c', 'a', 'b']);
    expect(modelOptions(['a', 'b'], 'a')).toEqual(['a', 'b']);
  });
});

describe('ruleFromDraft', () => {
  it('leaves out a blank pattern and workspace', () => {
    expect(
      ruleFromDraft({ tool: 'run_command', pattern: ' ', decision: 'ask', workspace: '' }),
    ).toEqual({ tool: 'run_command', decision: 'ask' });
    expect(
      ruleFromDraft({
        tool: 'run_command',
        pattern: 'npm test*',
        decision: 'allow',
        workspace: 'demo',
      }),
    ).toEqual({ tool: 'run_command', pattern: 'npm test*', decision: 'allow', workspace: 'demo' });
  });
});
