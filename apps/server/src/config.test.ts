import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

async function tempDir() {
  return mkdtemp(join(tmpdir(), 'studio-config-'));
}

describe('loadConfig', () => {
  it('has working defaults and generates a secret it keeps in the data dir', async () => {
    const dir = await tempDir();
    const first = await loadConfig({ STUDIO_DATA_DIR: dir });
    expect(first).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      databaseUrl: undefined,
      secretGenerated: true,
    });
    expect(first.publicUrl.origin).toBe('http://localhost:3000');
    expect((await stat(join(dir, 'secret'))).mode & 0o777).toBe(0o600);
    const second = await loadConfig({ STUDIO_DATA_DIR: dir });
    expect(second.secret).toBe(first.secret);
    expect(second.secretGenerated).toBe(false);
    expect((await readFile(join(dir, 'secret'), 'utf8')).trim()).toBe(first.secret);
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT', 'must be an integer from 1 to 65535 (got "abc")'],
    [{ PORT: '70000' }, 'PORT', 'must be an integer from 1 to 65535'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL', 'must be a postgres:// or postgresql:// URL'],
    [{ STUDIO_PUBLIC_URL: 'ftp://x' }, 'STUDIO_PUBLIC_URL', 'must be an http:// or https:// URL'],
    [{ STUDIO_SECRET: 'short' }, 'STUDIO_SECRET', 'must be at least 32 characters'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL', 'must be one of'],
    [
      { STUDIO_DOCKER_HOST_PORTS: '3000,ssh' },
      'STUDIO_DOCKER_HOST_PORTS',
      'must be a comma-separated list of TCP ports',
    ],
    [{ STUDIO_BACKUP_CRON: 'every night' }, 'STUDIO_BACKUP_CRON', 'must be a cron expression'],
    [{ STUDIO_BACKUP_KEEP: '0' }, 'STUDIO_BACKUP_KEEP', 'must be an integer above 0'],
    [
      { STUDIO_ADMIN_EMAIL: 'a@b.co' },
      'STUDIO_ADMIN_PASSWORD',
      'must be set together with STUDIO_ADMIN_EMAIL',
    ],
  ])('%o is refused, naming %s', async (env, variable, message) => {
    const error = await loadConfig({ STUDIO_DATA_DIR: await tempDir(), ...env }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe(variable);
    expect((error as ConfigError).message).toContain(message);
  });

  it('reads the host ports Docker workspaces may reach', async () => {
    const config = await loadConfig({
      STUDIO_DATA_DIR: await tempDir(),
      STUDIO_DOCKER_HOST_PORTS: '3000, 8443',
    });
    expect(config.workspaces.dockerHostPorts).toEqual([3000, 8443]);
  });

  it('reads a backup schedule, into the data dir unless told where', async () => {
    const dir = await tempDir();
    expect((await loadConfig({ STUDIO_DATA_DIR: dir })).backups.cron).toBeUndefined();
    const config = await loadConfig({ STUDIO_DATA_DIR: dir, STUDIO_BACKUP_CRON: '0 3 * * *' });
    expect(config.backups).toEqual({ cron: '0 3 * * *', dir: join(dir, 'backups'), keep: 7 });
  });

  it('never echoes a secret value in its error', async () => {
    const error = (await loadConfig({
      STUDIO_DATA_DIR: await tempDir(),
      STUDIO_SECRET: 'hunter2',
    }).catch((caught: unknown) => caught)) as ConfigError;
    expect(error.message).not.toContain('hunter2');
  });
});
