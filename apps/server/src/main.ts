// The composition root: the one place that reads the environment and wires concrete services.
import { DataDirLockedError, openDatabase } from '@studio/db';
import { createApp } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { prepareFirstRun } from './setup.ts';

/** How long in-flight requests get to finish on SIGTERM/SIGINT before the process exits anyway. */
const SHUTDOWN_GRACE_MS = 10_000;

async function main(): Promise<void> {
  let config;
  try {
    config = await loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`config error: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }

  let database;
  try {
    database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  } catch (error) {
    if (error instanceof DataDirLockedError) {
      process.stderr.write(`error: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }

  const { app, services } = await createApp({ config, database });
  app.addHook('onClose', async () => database.close());
  if (config.secretGenerated)
    app.log.info(
      { dataDir: config.dataDir },
      'generated STUDIO_SECRET and stored it in the data dir',
    );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'shutting down: finishing in-flight requests');
    setTimeout(() => {
      app.log.error('shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS).unref();
    // Connections busy when close began turn idle later; Node sweeps idle ones only once, so keep sweeping.
    setInterval(() => app.server.closeIdleConnections(), 100).unref();
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        app.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));

  await app.listen({ port: config.port, host: config.host });
  app.log.info(
    { url: config.publicUrl.origin, database: database.kind },
    'Prometheus Studio is running',
  );

  const firstRun = await prepareFirstRun(services);
  if (firstRun && 'setupUrl' in firstRun) {
    app.log.info(
      { setupUrl: firstRun.setupUrl },
      'first run: open the setup link to create the first admin',
    );
    process.stderr.write(
      `\n  First run: create the first admin account at\n\n    ${firstRun.setupUrl}\n\n`,
    );
  } else if (firstRun) {
    app.log.info(
      { email: firstRun.adminCreated },
      'first run: created the admin from STUDIO_ADMIN_EMAIL',
    );
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `fatal: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
