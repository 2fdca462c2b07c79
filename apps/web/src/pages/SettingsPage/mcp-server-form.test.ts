import { describe, expect, it } from 'vitest';
import { ApiError } from '../../api/http.ts';
import {
  createMcpServerBody,
  EMPTY_MCP_SERVER_FORM,
  mcpServerErrors,
  parseArgs,
  parseHeaders,
} from './mcp-server-form.ts';

describe('the add-server form', () => {
  it('takes one argument per line, spaces kept', () => {
    expect(parseArgs('-y\n\n@scope/server\r\n/home/me/My Files\n')).toEqual([
      '-y',
      '@scope/server',
      '/home/me/My Files',
    ]);
  });

  it('reads Name: value lines, and names the lines that are not headers', () => {
    expect(parseHeaders('Authorization: Bearer a:b\n\nX-Team:  core ')).toEqual({
      headers: { Authorization: 'Bearer a:b', 'X-Team': 'core' },
    });
    expect(parseHeaders('Authorization Bearer x\n: y').error).toMatch(/^Line 1, 2:/);
  });

  it('sends only the fields of the chosen transport', () => {
    const form = {
      ...EMPTY_MCP_SERVER_FORM,
      name: ' docs ',
      command: 'npx ',
      args: '-y\nserver',
      url: 'https://x.example/mcp',
      headers: 'A: 1',
    };
    expect(createMcpServerBody(form)).toEqual({
      body: { name: 'docs', transport: 'stdio', command: 'npx', args: ['-y', 'server'] },
    });
    expect(createMcpServerBody({ ...form, transport: 'http', headers: '' })).toEqual({
      body: { name: 'docs', transport: 'http', url: 'https://x.example/mcp' },
    });
    expect(createMcpServerBody({ ...form, transport: 'http', headers: 'nope' })).toMatchObject({
      errors: { fields: { headers: expect.stringMatching(/^Line 1/) } },
    });
  });

  it("names the team for a team's server, and nothing for one's own", () => {
    const form = { ...EMPTY_MCP_SERVER_FORM, name: 'docs', command: 'npx', team: 'ml' };
    expect(createMcpServerBody(form)).toMatchObject({ body: { team: 'ml' } });
    expect(createMcpServerBody({ ...form, team: '' })).not.toHaveProperty('body.team');
  });
});

describe('mcpServerErrors', () => {
  it('puts each issue under its field, headers by their first segment', () => {
    const error = new ApiError('bad_request', 'body.name: bad', 400, [
      { path: 'body.name', message: 'use lowercase letters' },
      { path: 'body.headers.X.Dotted', message: 'not a valid HTTP header name' },
    ]);
    expect(mcpServerErrors(error)).toEqual({
      fields: { name: 'Use lowercase letters', headers: 'Not a valid HTTP header name' },
      general: null,
    });
  });

  it('shows a taken name under Name and anything else over the form', () => {
    expect(
      mcpServerErrors(new ApiError('conflict', 'you already have one named docs', 409)).fields,
    ).toEqual({ name: 'You already have one named docs' });
    expect(mcpServerErrors(new ApiError('forbidden', 'no', 403))).toEqual({
      fields: {},
      general: 'No',
    });
  });
});
