import type { ServerType } from '@hono/node-server';
import { parseConfig } from '../../config.js';
import { createLogger, errorFields } from '../../log.js';
import { createCaptureMailbox } from '../../mail/capture.js';
import { isDatabaseUnavailable } from '../../routes/http.js';
import { createServices } from '../../services.js';
import { startCheckpoints } from './checkpoints.js';
import { lockDataDir } from './data-dir-lock.js';
import { openDatabase } from './database.js';
import { captureDir, capturesMail, createMailers } from './mailer.js';
import { resolveLedgerKey, resolveSecret } from './secret.js';
import { stdoutLines } from './stdout.js';

/**
 * The Node process, started by main.ts once the young generation is held. `npm start`: HTTP server plus an
 * in-process delivery loop, on embedded defaults when nothing is configured. `npm run worker` (`--worker`):
 * the delivery loop alone, for PostgreSQL setups that run several workers.
 */
export async function start(heapLoaded: () => void): Promise<void> {
  const started = performance.now();
  const workerOnly = process.argv.includes('--worker');
  const config = parseConfig(process.env);
  const log = createLogger(config.LOG_LEVEL, stdoutLines());
  // A database connection that fails outside any request (a pool reconnecting while PostgreSQL restarts)
  // can surface as a rejection nobody awaits; that is an outage to log and ride out, not a reason to
  // exit. Anything else still ends the process, as Node would.
  process.on('unhandledRejection', (reason) => {
    if (isDatabaseUnavailable(reason)) {
      log.error('database connection error outside a request', errorFields(reason));
      return;
    }
    throw reason;
  });

  if (workerOnly && !config.DATABASE_URL) {
    throw new Error(
      'npm run worker needs DATABASE_URL: the embedded database belongs to the `npm start` process, which already runs a delivery loop.',
    );
  }
  const unlock = config.DATABASE_URL ? async () => {} : await lockDataDir(config.QUIRE_DATA_DIR);
  const secret = await resolveSecret(config);
  const ledgerKey = await resolveLedgerKey(config);
  const database = await openDatabase(config);
  const mailers = await createMailers(config);
  const devMailbox =
    capturesMail(config) && config.NODE_ENV !== 'production' ? createCaptureMailbox(captureDir(config)) : undefined;
  const services = await createServices(config, {
    database,
    ...mailers,
    secret,
    log,
    ledgerKey,
    ...(devMailbox ? { devMailbox } : {}),
  });
  services.delivery.start();
  services.ledger.start();
  const stopCheckpoints = startCheckpoints(database.db, ledgerKey, config, log);

  // The HTTP app and the inbound SMTP server are loaded only where they run: a delivery worker that
  // never loads them is a much smaller process (docs/benchmarks.md, "delivery").
  let server: ServerType | undefined;
  if (!workerOnly) {
    const [{ serve }, { createApp }] = await Promise.all([import('@hono/node-server'), import('../../app.js')]);
    const app = createApp(services);
    await new Promise<void>((resolve) => {
      server = serve({ fetch: app.fetch, port: config.PORT }, () => resolve());
    });
  }
  // Mail to the unsubscribe and bounce addresses (README "Mail that comes back"); off unless configured.
  const inbound =
    config.INBOUND_SMTP_PORT && !workerOnly
      ? await (await import('./inbound-smtp.js')).startInboundSmtp(services, {
          port: config.INBOUND_SMTP_PORT,
          host: config.INBOUND_SMTP_HOST,
        })
      : undefined;
  // A worker keeps its heap small for good; the server only while its modules loaded.
  if (!workerOnly) heapLoaded();
  log.info(workerOnly ? 'delivery worker started' : 'quire listening', {
    url: workerOnly ? undefined : config.PUBLIC_URL,
    database: database.kind,
    mail: mailers.mailer.name,
    broadcastMail: mailers.broadcastMailer?.name,
    inboundSmtp: inbound ? `${config.INBOUND_SMTP_HOST}:${inbound.port}` : undefined,
    startupMs: Math.round(performance.now() - started),
  });
  if (capturesMail(config) && !workerOnly) {
    log.info('development mail is captured', { dir: captureDir(config), page: `${config.PUBLIC_URL}/_dev/mail` });
  }

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await inbound?.close();
    stopCheckpoints();
    await services.close();
    await unlock();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}
