import { z } from 'zod';
import { capText, defineTool } from './tool.ts';

export const fetchUrl = defineTool({
  name: 'fetch_url',
  description:
    'Fetch a public web page or file over HTTP(S) and return its text (first 1 MiB). Private, ' +
    'loopback and cloud-metadata addresses are refused.',
  kind: 'network',
  inputSchema: z.object({ url: z.url({ protocol: /^https?$/ }) }),
  subject: (input) => input.url,
  describe: async (input) => ({ summary: `fetch_url: ${input.url}`, url: input.url }),
  async execute(input, context) {
    const page = await context.fetchUrl(input.url, context.signal);
    const head = `${page.status} ${page.url}${page.contentType ? ` (${page.contentType})` : ''}`;
    return capText(`${head}\n\n${page.body}${page.truncated ? '\n[truncated]' : ''}`);
  },
});
