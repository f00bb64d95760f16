import type { Config } from './config.js';
import { continueFreezes, freezeAudience } from './core/audience.js';
import { startDueBroadcasts } from './core/broadcasts.js';
import { ensureConsentText } from './core/consent.js';
import { type ConsentSealer, createConsentSealer } from './core/consent-sealer.js';
import type { CoreDeps } from './core/deps.js';
import type { LedgerKey } from './core/ledger-key.js';
import { pruneProviderEvents } from './core/provider-events.js';
import { pruneRateLimits } from './core/rate-limit.js';
import { createTurnstileCheck } from './core/turnstile.js';
import type { Database } from './db/client.js';
import { createBroadcastComposer, routeComposers } from './delivery/composers/broadcast.js';
import { createTransactionalComposer } from './delivery/composers/transactional.js';
import { createDeliveryEvents } from './delivery/events.js';
import { createDeliveryLoop, type DeliveryLoop } from './delivery/loop.js';
import type { DeliveryJob } from './delivery/outbox-store.js';
import { createOutboxStore } from './delivery/outbox-store.js';
import { createPacer, type Pacer } from './delivery/pacer.js';
import { giveUpAt } from './delivery/retry-policy.js';
import { createLogger, errorFields, type Logger } from './log.js';
import type { CaptureMailbox } from './mail/capture.js';
import { type MailTransportSpec, mailTransports } from './mail/dsn/index.js';
import type { Mailer } from './mail/mailer.js';

export interface Services extends CoreDeps {
  database: Database;
  mailer: Mailer;
  log: Logger;
  delivery: DeliveryLoop;
  /** Seals consent events into the ledger's hash chain (long-lived processes poll; Workers seal per invocation). */
  ledger: ConsentSealer;
  /** Signs the ledger's checkpoints; undefined where no key is configured (Workers without LEDGER_SIGNING_KEY). */
  ledgerKey?: LedgerKey | undefined;
  consentVersion: number;
  /** Development only: the captured mail, for the /_dev/mail page. */
  devMailbox?: CaptureMailbox | undefined;
  close(): Promise<void>;
}

export interface ServiceParts {
  database: Database;
  /** The transport for everything (MAIL_DSN), or for transactional mail when `broadcastMailer` is given. */
  mailer: Mailer;
  /** A second transport for broadcasts and their test sends (BROADCAST_MAIL_DSN). */
  broadcastMailer?: Mailer | undefined;
  secret: string;
  now?: () => Date;
  log?: Logger;
  devMailbox?: CaptureMailbox;
  ledgerKey?: LedgerKey | undefined;
  /** The consent text's version when already known (Workers build services per request and cache it). */
  consentVersion?: number;
  /** Called after a transaction that queued mail commits; by default it wakes this process's delivery loop. */
  outboxChanged?: () => void;
  /** Runs a broadcast's audience freeze after the request that accepted the send; by default in this process. */
  freezeRequested?: (broadcastId: string) => void;
}

/** How often a long-lived process looks for consent events to seal: how long one can stay outside the chain. */
const LEDGER_SEAL_INTERVAL_MS = 200;

/** The one place that wires the domain to a database, a mailer, a clock and a secret. */
export async function createServices(config: Config, parts: ServiceParts): Promise<Services> {
  const { database, mailer, secret } = parts;
  const now = parts.now ?? (() => new Date());
  const log = parts.log ?? createLogger(config.LOG_LEVEL);
  const consentVersion = parts.consentVersion ?? (await ensureConsentText(database.db, config.CONSENT_TEXT));

  const broadcastMailer = parts.broadcastMailer ?? mailer;
  const core: CoreDeps = {
    db: database.db,
    config,
    secret,
    now,
    broadcastsRefused: broadcastMailer.transactionalOnly
      ? `Broadcasts cannot be sent through ${broadcastMailer.name}: it carries transactional mail only. Set BROADCAST_MAIL_DSN to a bulk mail provider.`
      : undefined,
  };
  // Each transport is paced on its own: the worker's DELIVERY_RATE, or the provider's own rate when lower.
  const specs = mailTransports(config);
  const pacers = new Map<Mailer, Pacer>([
    [mailer, createPacer(rateFor(config.DELIVERY_RATE, specs.transactional))],
    [broadcastMailer, createPacer(rateFor(config.DELIVERY_RATE, specs.broadcast))],
  ]);
  const mailerFor = (job: DeliveryJob) => (job.kind === 'broadcast' || job.kind === 'test' ? broadcastMailer : mailer);
  const composeDeps = { db: database.db, config, secret, now };
  const composer = routeComposers({
    transactional: createTransactionalComposer(composeDeps),
    broadcast: createBroadcastComposer(composeDeps),
  });
  const delivery = createDeliveryLoop(createOutboxStore(database.db), mailerFor, composer, createDeliveryEvents(core), {
    batchSize: config.DELIVERY_BATCH,
    concurrency: config.DELIVERY_CONCURRENCY,
    pace: pacers.get(mailer)!,
    paceFor: (m) => pacers.get(m) ?? pacers.get(mailer)!,
    leaseMs: 5 * 60_000,
    maxAttempts: 8,
    giveUpAt: giveUpAt(config.DELIVERY_RETRY_HOURS),
    pauseAfterErrors: config.BROADCAST_PAUSE_AFTER_ERRORS,
    idleMs: 1000,
    now,
    onError: (err) => log.error('delivery loop error', errorFields(err)),
    onBatch: (r) => log.info('delivery batch', { ...r }),
    tick: async () => {
      await startDueBroadcasts(core);
      // Before claiming: freezes running beside the loop finish, and one a crash cut short goes on.
      await Promise.all(freezing);
      await continueFreezes(core);
    },
    maintenance: async () => {
      await pruneRateLimits(database.db, now());
      await pruneProviderEvents(database.db, now());
    },
  });
  const ledger = createConsentSealer(database.db, {
    intervalMs: LEDGER_SEAL_INTERVAL_MS,
    onError: (err) => log.error('consent ledger sealing failed', errorFields(err)),
  });
  const outboxChanged = parts.outboxChanged ?? (() => delivery.wake());
  core.outboxChanged = outboxChanged;
  // A send answers before its audience is written: the freeze runs beside the loop, whose tick waits for it.
  const freezing = new Set<Promise<unknown>>();
  core.freezeRequested =
    parts.freezeRequested ??
    ((id) => {
      const run: Promise<unknown> = freezeAudience(core, id)
        .catch((err: unknown) => log.error('audience freeze failed', { broadcastId: id, ...errorFields(err) }))
        .finally(() => freezing.delete(run));
      freezing.add(run);
    });

  return {
    ...core,
    outboxChanged,
    verifyHuman: config.TURNSTILE_SECRET_KEY
      ? createTurnstileCheck({
          secret: config.TURNSTILE_SECRET_KEY,
          verifyUrl: config.TURNSTILE_VERIFY_URL,
          timeoutMs: config.DB_TIMEOUT_MS,
        })
      : undefined,
    database,
    mailer,
    log,
    delivery,
    ledger,
    ledgerKey: parts.ledgerKey,
    consentVersion,
    devMailbox: parts.devMailbox,
    async close() {
      await delivery.stop();
      await Promise.all(freezing);
      await ledger.stop();
      await mailer.close();
      if (broadcastMailer !== mailer) await broadcastMailer.close();
      await database.close();
    },
  };
}

const rateFor = (workerRate: number, spec: MailTransportSpec | undefined) =>
  Math.min(workerRate, spec?.rate ?? Number.POSITIVE_INFINITY);
