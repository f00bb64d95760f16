import { eq, sql } from 'drizzle-orm';
import { createApp } from './app.js';
import { ConfigError, parseConfig, type Config } from './config.js';
import { startDueBroadcasts } from './core/broadcasts.js';
import type { BatchReport } from './delivery/engine.js';
import type { DrainLimits } from './delivery/loop.js';
import { sealPendingConsentEvents } from './core/consent-sealer.js';
import { connectPostgres, rowsOf } from './db/client.js';
import { broadcasts, deliveries } from './db/schema.js';
import { createLogger, errorFields, type Logger } from './log.js';
import { createSmtpMailer } from './mail/smtp.js';
import { createServices, type Services } from './services.js';

/**
 * Cloudflare Workers entry (types: tsconfig.worker.json). The same Hono app as on Node, with
 * per-invocation wiring:
 *  - fetch: services built per request (postgres.js through Hyperdrive, nodemailer SMTP); a request that
 *    queued mail (a signup's confirmation) drains the outbox once in `ctx.waitUntil` after the response,
 *    and a state-changing one seals the consent events it wrote into the ledger's chain.
 *  - scheduled (cron, every minute): seal pending consent events, start due broadcasts, drain due deliveries within a time budget, and
 *    fan broadcasts out to the delivery queue so many invocations share the sending.
 *  - queue: each message is "deliver for broadcast X for up to N seconds" through the same engine.
 *
 * Only this file knows it runs on Workers. Nothing Node-only is imported: no node-support.ts (data
 * directory, generated secret, PGlite, capture mailbox); nodemailer and postgres.js run through
 * `nodejs_compat` and `cloudflare:sockets`.
 */

export interface Env {
  /** Hyperdrive in front of the PostgreSQL server; DATABASE_URL is used when it is absent. */
  HYPERDRIVE?: Hyperdrive;
  /** Producer for the `quire-delivery` queue; without it the cron delivers alone. */
  DELIVERY_QUEUE?: Queue<DeliveryMessage>;
  /** Everything else: [vars] and secrets, parsed by the one configuration schema (src/config.ts). */
  [name: string]: unknown;
}

/** A queue message: deliver due mail, on behalf of broadcast `broadcastId`, for at most `seconds`. */
export interface DeliveryMessage {
  kind: 'deliver';
  broadcastId: string;
  seconds: number;
}

/** The cron handler stops starting new batches after this (a cron invocation may run far longer). */
const CRON_BUDGET_MS = 25_000;
/** What one queue message asks for, and how many messages one tick sends per broadcast at most. */
const DEFAULT_SLICE_SECONDS = 25;
const DEFAULT_FANOUT = 10;
/**
 * Workers allow six simultaneous outbound connections per invocation (more wait for one to close).
 * Requests mostly use one database connection; delivery invocations use two plus the SMTP pool.
 */
const REQUEST_DB_CONNECTIONS = 5;
const DELIVERY_DB_CONNECTIONS = 2;
const MAX_SMTP_CONNECTIONS = 4;

interface Runtime {
  config: Config;
  secret: string;
  databaseUrl: string;
  log: Logger;
  fanout: number;
  sliceSeconds: number;
}

/** Consent text → its version, looked up (or recorded) by the first invocation of this isolate. */
const consentVersions = new Map<string, number>();

/**
 * Configuration is parsed once per isolate (per `env` object) with the same schema as on Node, from
 * [vars] and secrets; the database URL comes from the Hyperdrive binding when there is one.
 */
const runtimes = new WeakMap<object, Runtime>();

function runtimeFor(env: Env): Runtime {
  const known = runtimes.get(env);
  if (known) return known;
  const vars: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') vars[key] = String(value);
  }
  if (env.HYPERDRIVE) vars.DATABASE_URL = env.HYPERDRIVE.connectionString;
  const config = parseConfig(vars);
  const problems: string[] = [];
  if (!config.DATABASE_URL) problems.push('DATABASE_URL: needs a Hyperdrive binding named HYPERDRIVE, or DATABASE_URL (PGlite does not run on Workers)');
  if (!config.SMTP_URL) problems.push('SMTP_URL: is required on Workers (the capture mailbox is Node-only); Cloudflare blocks port 25, use 587 or 465');
  if (!config.SECRET_KEY) problems.push('SECRET_KEY: is required on Workers (wrangler secret put SECRET_KEY)');
  if (!vars.PUBLIC_URL) problems.push('PUBLIC_URL: is required on Workers (the base of every link in mail)');
  const fanout = Number(vars.QUEUE_FANOUT ?? DEFAULT_FANOUT);
  const sliceSeconds = Number(vars.QUEUE_SLICE_SECONDS ?? DEFAULT_SLICE_SECONDS);
  if (!Number.isInteger(fanout) || fanout < 0) problems.push('QUEUE_FANOUT: must be a whole number ≥ 0');
  if (!Number.isInteger(sliceSeconds) || sliceSeconds < 1 || sliceSeconds > 600) problems.push('QUEUE_SLICE_SECONDS: must be a whole number from 1 to 600');
  if (problems.length) throw new ConfigError(problems);
  const log = createLogger(config.LOG_LEVEL);
  if (new URL(config.SMTP_URL!).port === '25') log.warn('SMTP_URL uses port 25, which Cloudflare blocks; use 587 or 465');
  const runtime: Runtime = { config, secret: config.SECRET_KEY!, databaseUrl: config.DATABASE_URL!, log, fanout, sliceSeconds };
  runtimes.set(env, runtime);
  return runtime;
}

interface Scope {
  services: Services;
  close(): Promise<void>;
}

/**
 * Services for one invocation. I/O objects cannot outlive the request that made them on Workers
 * (porsager/postgres #884), so every invocation gets its own database client and SMTP transport.
 */
async function openScope(rt: Runtime, kind: 'request' | 'delivery', outboxChanged?: () => void): Promise<Scope> {
  const { config } = rt;
  const database = await connectPostgres({
    url: rt.databaseUrl,
    max: kind === 'request' ? REQUEST_DB_CONNECTIONS : DELIVERY_DB_CONNECTIONS,
    timeoutMs: config.DB_TIMEOUT_MS,
    fetchTypes: false,
  });
  const dkim =
    config.DKIM_DOMAIN && config.DKIM_SELECTOR && config.DKIM_PRIVATE_KEY
      ? { domainName: config.DKIM_DOMAIN, keySelector: config.DKIM_SELECTOR, privateKey: config.DKIM_PRIVATE_KEY }
      : undefined;
  // nodemailer connects on the first send, so a request that sends nothing opens no SMTP connection.
  const mailer = createSmtpMailer({ url: config.SMTP_URL!, maxConnections: Math.min(config.DELIVERY_CONCURRENCY, MAX_SMTP_CONNECTIONS), dkim });
  let services: Services;
  try {
    services = await createServices(config, {
      database,
      mailer,
      secret: rt.secret,
      log: rt.log,
      consentVersion: consentVersions.get(config.CONSENT_TEXT),
      ...(outboxChanged ? { outboxChanged } : {}),
    });
  } catch (err) {
    await closeQuietly(mailer.close(), database.close());
    throw err;
  }
  consentVersions.set(config.CONSENT_TEXT, services.consentVersion);
  return {
    services,
    close: () => closeQuietly(mailer.close(), database.close()),
  };
}

/**
 * Closing a postgres.js client in workerd leaves a rejection nobody can catch: the socket polyfill's
 * read loop rejects after the connection removed its listeners (porsager/postgres #1196, #1202; here
 * workerd says "This socket has been closed.", elsewhere "Stream was cancelled."). The close itself is
 * awaited and its outcome ignored; the stray rejection is recognised here and dropped, and any other
 * unhandled rejection is logged as the error it is.
 */
async function closeQuietly(...closing: Promise<unknown>[]): Promise<void> {
  await Promise.allSettled(closing);
}

const POSTGRES_TEARDOWN = /^(This socket has been closed\.?|Stream was cancelled\.?)$/;

addEventListener('unhandledrejection', (event) => {
  const reason = (event as PromiseRejectionEvent).reason as unknown;
  event.preventDefault();
  if (reason instanceof Error && POSTGRES_TEARDOWN.test(reason.message)) return;
  console.error(JSON.stringify({ time: new Date().toISOString(), level: 'error', msg: 'unhandled rejection', ...errorFields(reason) }));
});

/** Services for this request, found by the app through the request it serves. */
const requestServices = new WeakMap<Request, Services>();
const app = createApp((c) => {
  const services = requestServices.get((c as { req: { raw: Request } }).req.raw);
  if (!services) throw new Error('no services for this request');
  return services;
});

function startupFailure(err: unknown): Response {
  // The operator sees which variables are wrong in the Worker's logs; the client sees the site's message.
  console.error(err instanceof ConfigError ? err.message : `quire failed to start: ${(err as Error).message}`);
  const body = {
    error: { code: 'service_unavailable', message: 'Something went wrong on our side. Please try again in a few minutes.', requestId: crypto.randomUUID() },
  };
  return Response.json(body, { status: 503 });
}

async function fetchHandler(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
  let rt: Runtime;
  let scope: Scope;
  // Mail queued by this request (a confirmation, a welcome, a preference link) is sent right after the
  // response, inside waitUntil; the cron is the safety net if this invocation dies first.
  let outboxChanged = false;
  try {
    rt = runtimeFor(env);
    scope = await openScope(rt, 'request', () => {
      outboxChanged = true;
    });
  } catch (err) {
    return startupFailure(err);
  }
  requestServices.set(request, scope.services);
  let response: Response;
  try {
    response = await app.fetch(request, env, ctx);
  } catch (err) {
    ctx.waitUntil(scope.close());
    throw err;
  }
  ctx.waitUntil(
    (async () => {
      // A request that may have changed something may have written consent events: seal them now (one
      // index probe when it wrote none); the cron seals whatever an invocation that died left behind.
      if (!SAFE_METHODS.has(request.method)) await seal(scope.services, rt.log, 'request');
      if (outboxChanged) {
        // One batch (transactional mail is claimed first), no housekeeping: bounded well inside the
        // 30 s that waitUntil has after the response.
        await deliver(scope.services, rt.log, 'request', { maxBatches: 1, housekeeping: false });
      }
      await scope.close();
    })(),
  );
  return response;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

async function seal(services: Services, log: Logger, trigger: string): Promise<void> {
  try {
    await sealPendingConsentEvents(services.db);
  } catch (err) {
    log.error('consent ledger sealing failed', { trigger, ...errorFields(err) });
  }
}

async function deliver(services: Services, log: Logger, trigger: string, limits: DrainLimits): Promise<BatchReport | undefined> {
  try {
    const report = await services.delivery.drain(limits);
    if (report.claimed > 0) log.info('delivery drained', { trigger, ...report });
    return report;
  } catch (err) {
    // Nothing is lost: claimed rows return to the pool when their lease ends, and the cron runs again.
    log.error('delivery failed', { trigger, ...errorFields(err) });
    return undefined;
  }
}

/**
 * Broadcasts that are sending, with how many of their rows are due now. Each queue message covers about
 * `DELIVERY_RATE × slice` messages, so a tick sends ceil(due / that) messages per broadcast, at most
 * QUEUE_FANOUT. The next tick (a minute later) looks again, so a backlog is worked off in waves.
 */
async function dueBroadcasts(services: Services): Promise<{ id: string; due: number }[]> {
  const now = services.now().toISOString();
  const rows = rowsOf<{ id: string; due: number | string }>(
    await services.db.execute(sql`
      select b.id, count(d.id) as due
        from ${broadcasts} b
        join ${deliveries} d on d.broadcast_id = b.id and d.kind = 'broadcast'
       where b.status = 'sending'
         and ((d.status = 'queued' and d.next_attempt_at <= ${now}) or (d.status = 'sending' and d.lease_until < ${now}))
       group by b.id`),
  );
  return rows.map((r) => ({ id: r.id, due: Number(r.due) }));
}

async function fanOut(rt: Runtime, services: Services, queue: Queue<DeliveryMessage>): Promise<number> {
  if (rt.fanout === 0) return 0;
  const perMessage = Math.max(1, rt.config.DELIVERY_RATE * rt.sliceSeconds);
  const messages: { body: DeliveryMessage }[] = [];
  for (const b of await dueBroadcasts(services)) {
    const k = Math.min(rt.fanout, Math.ceil(b.due / perMessage));
    for (let i = 0; i < k; i++) messages.push({ body: { kind: 'deliver', broadcastId: b.id, seconds: rt.sliceSeconds } });
  }
  // sendBatch takes at most 100 messages.
  for (let i = 0; i < messages.length; i += 100) await queue.sendBatch(messages.slice(i, i + 100));
  return messages.length;
}

async function scheduledHandler(controller: ScheduledController, env: Env): Promise<void> {
  const deadline = Date.now() + CRON_BUDGET_MS;
  const rt = runtimeFor(env);
  const scope = await openScope(rt, 'delivery');
  try {
    const { services } = scope;
    await seal(services, rt.log, `cron ${controller.cron}`);
    // Scheduled broadcasts whose time has come start sending first, so this tick's fan-out covers them.
    await startDueBroadcasts(services);
    if (env.DELIVERY_QUEUE) {
      const sent = await fanOut(rt, services, env.DELIVERY_QUEUE).catch((err: unknown) => {
        rt.log.error('delivery fan-out failed', errorFields(err));
        return 0;
      });
      if (sent) rt.log.info('delivery fanned out', { messages: sent });
    }
    // Then deliver here too (transactional mail first), with rate-limit housekeeping, within the budget.
    await deliver(services, rt.log, `cron ${controller.cron}`, { deadline });
  } finally {
    await scope.close();
  }
}

/**
 * Queue consumer. Cloudflare Queues deliver at least once, so a message may arrive twice or after its
 * broadcast finished: that is safe, because the outbox is what makes delivery idempotent — rows are
 * claimed with FOR UPDATE SKIP LOCKED under a lease and settled only by the lease holder, so two
 * invocations never take the same row, and a duplicate message only adds an invocation that finds
 * less (or nothing) to claim. A message whose broadcast is no longer sending is acknowledged unread.
 * Claims take whatever is due (transactional mail first, then sending broadcasts), the same engine as
 * every other worker; with one broadcast sending, that is broadcast X's rows.
 */
async function queueHandler(batch: MessageBatch<DeliveryMessage>, env: Env): Promise<void> {
  const rt = runtimeFor(env);
  let scope: Scope;
  try {
    scope = await openScope(rt, 'delivery');
  } catch (err) {
    // The database is unreachable: try the whole batch later (after max_retries it goes to the
    // dead-letter queue, which loses nothing — the next cron tick fans the broadcast out again).
    rt.log.error('delivery batch postponed', errorFields(err));
    batch.retryAll({ delaySeconds: 30 });
    return;
  }
  try {
    const { services } = scope;
    // Messages of one batch run side by side; they share this invocation's pacer (DELIVERY_RATE) and pools.
    await Promise.all(
      batch.messages.map(async (message) => {
        const body = message.body as Partial<DeliveryMessage> | null;
        if (!body || body.kind !== 'deliver' || typeof body.broadcastId !== 'string' || !/^[0-9a-f-]{36}$/i.test(body.broadcastId)) {
          rt.log.warn('delivery message ignored', { messageId: message.id });
          message.ack();
          return;
        }
        try {
          const [row] = await services.db.select({ status: broadcasts.status }).from(broadcasts).where(eq(broadcasts.id, body.broadcastId));
          if (row?.status !== 'sending') {
            message.ack();
            return;
          }
          const seconds = Math.min(Math.max(1, Number(body.seconds) || rt.sliceSeconds), 600);
          const report = await services.delivery.drain({ deadline: Date.now() + seconds * 1000, housekeeping: false });
          rt.log.info('delivery slice', { broadcastId: body.broadcastId, attempt: message.attempts, ...report });
          message.ack();
        } catch (err) {
          rt.log.error('delivery slice failed', { broadcastId: body.broadcastId, attempt: message.attempts, ...errorFields(err) });
          message.retry({ delaySeconds: 30 });
        }
      }),
    );
  } finally {
    await scope.close();
  }
}

export default {
  fetch: fetchHandler,
  scheduled: scheduledHandler,
  queue: queueHandler,
} satisfies ExportedHandler<Env, DeliveryMessage>;
