// A VoltAgent agent with one tool, served on port 3141 with a page to ask it (public/index.html).
import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { createOpenAI } from '@ai-sdk/openai';
import { Agent, VoltAgent, createTool } from '@voltagent/core';
import { createPinoLogger } from '@voltagent/logger';
import { honoServer } from '@voltagent/server-hono';
import { z } from 'zod';

const port = Number(process.env.PORT || 3141);

/**
 * The model's settings: `.env` (read at each use, so filling it in needs no restart), then the
 * environment. `||`, not `??`: an empty line in .env means "not set".
 */
function settings() {
  let file: Record<string, string | undefined> = {};
  try {
    file = parseEnv(readFileSync(new URL('../.env', import.meta.url), 'utf8'));
  } catch {
    // No .env yet.
  }
  const read = (key: string) => file[key] || process.env[key] || undefined;
  return {
    apiKey: read('OPENAI_API_KEY'),
    baseURL: read('OPENAI_BASE_URL'),
    model: read('OPENAI_MODEL') ?? 'gpt-4o-mini',
  };
}

/** Counts the words in a text: the agent calls it when asked. */
const wordCount = createTool({
  name: 'word_count',
  description: 'Count the words in a piece of text.',
  parameters: z.object({ text: z.string().describe('The text whose words to count') }),
  execute: async ({ text }) => ({ words: text.split(/\s+/).filter(Boolean).length }),
});

const assistant = new Agent({
  id: 'assistant',
  name: 'Assistant',
  instructions: 'You are a helpful assistant. Use the word_count tool to count words.',
  // Chat Completions (`/chat/completions`), which every OpenAI-compatible server speaks.
  model: () => {
    const { apiKey, baseURL, model } = settings();
    return createOpenAI({ apiKey, baseURL }).chat(model);
  },
  tools: [wordCount],
});

/** The page, read at each request so edits show at once. */
function page(): string {
  const { apiKey, baseURL, model } = settings();
  const setupHint = apiKey
    ? ''
    : '<p class="warn">OPENAI_API_KEY is not set: copy <code>.env.example</code> to <code>.env</code> and fill it in.</p>';
  return readFileSync(new URL('../public/index.html', import.meta.url), 'utf8')
    .replace('<!--SETUP-->', setupHint)
    .replace('<!--MODEL-->', `${model} at ${baseURL ?? 'https://api.openai.com/v1'}`);
}

new VoltAgent({
  agents: { assistant },
  logger: createPinoLogger({ name: 'voltagent-starter', level: 'info' }),
  server: honoServer({
    port,
    // The whole app, so the page replaces VoltAgent's own landing page at "/".
    configureFullApp: ({ app, routes, middlewares }) => {
      middlewares.cors();
      middlewares.auth();
      app.get('/', (context) => context.html(page()));
      // Not "updates": its handlers run `npm install` in the project for anyone who asks.
      for (const [name, register] of Object.entries(routes)) if (name !== 'updates') register();
    },
  }),
});
