import { describe, expect, it } from 'vitest';
import {
  normalizeServerUrl,
  resolveConfigDir,
  resolveConnection,
  resolveServerEnv,
} from './options.ts';

const saved = { url: 'http://file.example:3000', token: 'file-token' };

describe('resolveConnection', () => {
  it('uses the credentials file when nothing overrides it', () => {
    expect(resolveConnection({}, {}, saved)).toEqual({
      url: 'http://file.example:3000',
      token: 'file-token',
      tokenSource: 'file',
    });
  });

  it('prefers the flag over the environment over the file for the URL', () => {
    const env = { STUDIO_URL: 'http://env.example', STUDIO_TOKEN: 't' };
    expect(resolveConnection({ url: 'http://flag.example/' }, env, saved).url).toBe(
      'http://flag.example',
    );
    expect(resolveConnection({}, env, saved).url).toBe('http://env.example');
  });

  it('prefers STUDIO_TOKEN over the saved token', () => {
    const connection = resolveConnection({}, { STUDIO_TOKEN: 'env-token' }, saved);
    expect(connection).toMatchObject({ token: 'env-token', tokenSource: 'env' });
  });

  it('treats empty environment variables as unset', () => {
    const connection = resolveConnection({}, { STUDIO_URL: '', STUDIO_TOKEN: '' }, saved);
    expect(connection).toMatchObject({ url: saved.url, token: 'file-token' });
  });

  it('never sends the saved token to a different server', () => {
    expect(() => resolveConnection({ url: 'http://other.example' }, {}, saved)).toThrow(
      /not logged in to http:\/\/other\.example/,
    );
  });

  it('matches the saved URL regardless of a trailing slash', () => {
    expect(resolveConnection({ url: 'http://file.example:3000/' }, {}, saved).token).toBe(
      'file-token',
    );
  });

  it('says how to log in when there is nothing to go on', () => {
    expect(() => resolveConnection({}, {}, null)).toThrow(/not logged in; run `studio login URL`/);
  });
});

describe('resolveServerEnv', () => {
  it('prefers flags over the environment', () => {
    const env = { PORT: '4000', HOST: '0.0.0.0', STUDIO_DATA_DIR: '/env/data' };
    expect(
      resolveServerEnv({ port: '5000', host: '127.0.0.1', dataDir: '/flag/data' }, env),
    ).toEqual({ PORT: '5000', HOST: '127.0.0.1', STUDIO_DATA_DIR: '/flag/data' });
    expect(resolveServerEnv({}, env)).toEqual(env);
  });

  it('leaves unset options to the server', () => {
    expect(resolveServerEnv({}, {})).toEqual({});
  });

  it('rejects a port that is not a port, naming where it came from', () => {
    expect(() => resolveServerEnv({ port: '70000' }, {})).toThrow(/--port must be a port number/);
    expect(() => resolveServerEnv({}, { PORT: 'http' })).toThrow(/PORT must be a port number/);
  });
});

describe('resolveConfigDir', () => {
  it('prefers STUDIO_CONFIG_DIR, then XDG_CONFIG_HOME, then ~/.config', () => {
    const env = { STUDIO_CONFIG_DIR: '/c', XDG_CONFIG_HOME: '/x', HOME: '/home/u' };
    expect(resolveConfigDir(env)).toBe('/c');
    expect(resolveConfigDir({ ...env, STUDIO_CONFIG_DIR: undefined })).toBe('/x/prometheus-studio');
    expect(resolveConfigDir({ HOME: '/home/u' })).toBe('/home/u/.config/prometheus-studio');
  });

  it('ignores a relative XDG_CONFIG_HOME, as the XDG spec requires', () => {
    expect(resolveConfigDir({ XDG_CONFIG_HOME: 'rel', HOME: '/home/u' })).toBe(
      '/home/u/.config/prometheus-studio',
    );
  });
});

describe('normalizeServerUrl', () => {
  it('keeps a base path and drops trailing slashes, query and fragment', () => {
    expect(normalizeServerUrl('https://example.com/studio/?x=1#y')).toBe(
      'https://example.com/studio',
    );
  });

  it('rejects what is not an http(s) URL', () => {
    expect(() => normalizeServerUrl('localhost:3000')).toThrow(/unsupported URL scheme/);
    expect(() => normalizeServerUrl('not a url')).toThrow(/not a URL/);
  });
});
