import { join } from 'node:path';
import type { Config } from './config.js';
import type { CoreDeps } from './core/deps.js';
import { ensureConsentText } from './core/consent.js';
import { createBounceHandler } from './core/delivery/bounces.js';
import { createDeliveryLoop, type DeliveryLoop } from './core/delivery/loop.js';
import { createOutboxStore } from './core/delivery/outbox-store.js';
import { pruneRateLimits } from './core/rate-limit.js';
import { createTurnstileCheck } from './core/turnstile.js';
import { connectPostgres, openPglite, type Database } from './db/client.js';
import { migratePglite, migratePostgres } from './db/migrate.js';
import { createLogger, errorFields, type Logger } from './log.js';
import type { CaptureMailbox } from './mail/capture.js';
import type { Mailer } from './mail/mailer.js';
import { createTransactionalComposer } from './mail/transactional.js';

export interface Services extends CoreDeps {
  database: Database;
  mailer: Mailer;
  log: Logger;
  delivery: DeliveryLoop;
  consentVersion: number;
  /** Development only: the captured mail, for the /_dev/mail page. */
  devMailbox?: CaptureMailbox | undefined;
  close(): Promise<void>;
}

export interface ServiceParts {
  database: Database;
  mailer: Mailer;
  secret: string;
  now?: () => Date;
  log?: Logger;
  devMailbox?: CaptureMailbox;
}

/** The one place that wires the domain to a database, a mailer, a clock and a secret. */
export async function createServices(config: Config, parts: ServiceParts): Promise<Services> {
  const { database, mailer, secret } = parts;
  const now = parts.now ?? (() => new Date());
  const log = parts.log ?? createLogger(config.LOG_LEVEL);
  const consentVersion = await ensureConsentText(database.db, config.CONSENT_TEXT);

  const store = createOutboxStore(database.db);
  const compose = createTransactionalComposer({ db: database.db, config, secret, now });
  const delivery = createDeliveryLoop(store, mailer, compose, createBounceHandler(database.db, now), {
    batchSize: config.DELIVERY_BATCH,
    concurrency: config.DELIVERY_CONCURRENCY,
    rate: config.DELIVERY_RATE,
    leaseMs: 5 * 60_000,
    maxAttempts: 8,
    idleMs: 1000,
    now,
    onError: (err) => log.error('delivery loop error', errorFields(err)),
    onBatch: (r) => log.info('delivery batch', { ...r }),
    maintenance: () => pruneRateLimits(database.db, now()),
  });

  return {
    db: database.db,
    config,
    secret,
    now,
    outboxChanged: () => delivery.wake(),
    verifyHuman: config.TURNSTILE_SECRET_KEY
      ? createTurnstileCheck({ secret: config.TURNSTILE_SECRET_KEY, verifyUrl: config.TURNSTILE_VERIFY_URL, timeoutMs: config.DB_TIMEOUT_MS })
      : undefined,
    database,
    mailer,
    log,
    delivery,
    consentVersion,
    devMailbox: parts.devMailbox,
    async close() {
      await delivery.stop();
      await mailer.close();
      await database.close();
    },
  };
}

/** PostgreSQL when DATABASE_URL is set, otherwise PGlite persisted in the data directory; migrated. */
export async function openDatabase(config: Config): Promise<Database> {
  if (config.DATABASE_URL) {
    await migratePostgres(config.DATABASE_URL);
    return connectPostgres({ url: config.DATABASE_URL, timeoutMs: config.DB_TIMEOUT_MS });
  }
  const { mkdir } = await import('node:fs/promises');
  const dir = join(config.QUIRE_DATA_DIR, 'pgdata');
  await mkdir(config.QUIRE_DATA_DIR, { recursive: true });
  const database = await openPglite(dir);
  await migratePglite(database.client);
  return database;
}

/** SMTP when SMTP_URL is set, otherwise the capture mailbox in `$QUIRE_DATA_DIR/mail`. */
export async function createMailer(config: Config): Promise<Mailer> {
  if (config.SMTP_URL) {
    const { createSmtpMailer } = await import('./mail/smtp.js');
    return createSmtpMailer({ url: config.SMTP_URL, maxConnections: config.DELIVERY_CONCURRENCY });
  }
  const { createCaptureMailer } = await import('./mail/capture.js');
  return createCaptureMailer(join(config.QUIRE_DATA_DIR, 'mail'));
}
