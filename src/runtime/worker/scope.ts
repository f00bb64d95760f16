import { importLedgerKey } from '../../core/ledger-key.js';
import { connectPostgres } from '../../db/client.js';
import { errorFields } from '../../log.js';
import { dkimFromConfig } from '../../mail/dkim.js';
import { mailTransports } from '../../mail/dsn/index.js';
import type { SendEmailBinding } from '../../mail/providers/cloudflare.js';
import { createTransport } from '../../mail/transport.js';
import { createServices, type Services } from '../../services.js';
import type { Env } from './env.js';
import type { Runtime } from './runtime.js';

/**
 * Workers allow six simultaneous outbound connections per invocation (more wait for one to close).
 * Requests mostly use one database connection; delivery invocations use two plus the SMTP pool.
 */
const REQUEST_DB_CONNECTIONS = 5;
const DELIVERY_DB_CONNECTIONS = 2;
const MAX_SMTP_CONNECTIONS = 4;

/** Consent text → its version, looked up (or recorded) by the first invocation of this isolate. */
const consentVersions = new Map<string, number>();

export interface Scope {
  services: Services;
  close(): Promise<void>;
}

/**
 * Services for one invocation. I/O objects cannot outlive the request that made them on Workers
 * (porsager/postgres #884), so every invocation gets its own database client and SMTP transport.
 */
export async function openScope(
  rt: Runtime,
  env: Env,
  kind: 'request' | 'delivery',
  outboxChanged?: () => void,
  freezeRequested?: (broadcastId: string) => void,
): Promise<Scope> {
  const { config } = rt;
  if (config.LEDGER_SIGNING_KEY) rt.ledgerKey ??= importLedgerKey(config.LEDGER_SIGNING_KEY);
  const ledgerKey = await rt.ledgerKey;
  const database = await connectPostgres({
    url: rt.databaseUrl,
    max: kind === 'request' ? REQUEST_DB_CONNECTIONS : DELIVERY_DB_CONNECTIONS,
    timeoutMs: config.DB_TIMEOUT_MS,
    fetchTypes: false,
  });
  // Transports connect on the first send, so a request that sends nothing opens no connection.
  const specs = mailTransports(config);
  const parts = {
    maxConnections: Math.min(config.DELIVERY_CONCURRENCY, MAX_SMTP_CONNECTIONS),
    dkim: dkimFromConfig(config),
    sendEmailBinding: (name: string) => env[name] as SendEmailBinding | undefined,
  };
  const mailer = createTransport(specs.transactional!, parts);
  const broadcastMailer = config.BROADCAST_MAIL_DSN ? createTransport(config.BROADCAST_MAIL_DSN, parts) : undefined;
  const consentVersion = consentVersions.get(config.CONSENT_TEXT);
  let services: Services;
  try {
    services = await createServices(config, {
      database,
      mailer,
      broadcastMailer,
      secret: rt.secret,
      log: rt.log,
      ledgerKey,
      ...(consentVersion === undefined ? {} : { consentVersion }),
      ...(outboxChanged ? { outboxChanged } : {}),
      ...(freezeRequested ? { freezeRequested } : {}),
    });
  } catch (err) {
    await closeQuietly(mailer.close(), broadcastMailer?.close() ?? Promise.resolve(), database.close());
    throw err;
  }
  consentVersions.set(config.CONSENT_TEXT, services.consentVersion);
  return {
    services,
    close: () => closeQuietly(mailer.close(), broadcastMailer?.close() ?? Promise.resolve(), database.close()),
  };
}

/**
 * Closing a postgres.js client in workerd leaves a rejection nobody can catch: the socket polyfill's
 * read loop rejects after the connection removed its listeners (porsager/postgres #1196, #1202; here
 * workerd says "This socket has been closed.", elsewhere "Stream was cancelled."). The close itself is
 * awaited and its outcome ignored; the stray rejection is recognised by `dropPostgresTeardownRejections`
 * and dropped, and any other unhandled rejection is logged as the error it is.
 */
async function closeQuietly(...closing: Promise<unknown>[]): Promise<void> {
  await Promise.allSettled(closing);
}

const POSTGRES_TEARDOWN = /^(This socket has been closed\.?|Stream was cancelled\.?)$/;

export function dropPostgresTeardownRejections(): void {
  addEventListener('unhandledrejection', (event) => {
    const reason = (event as PromiseRejectionEvent).reason as unknown;
    event.preventDefault();
    if (reason instanceof Error && POSTGRES_TEARDOWN.test(reason.message)) return;
    console.error(
      JSON.stringify({
        time: new Date().toISOString(),
        level: 'error',
        msg: 'unhandled rejection',
        ...errorFields(reason),
      }),
    );
  });
}
