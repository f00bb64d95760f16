import { emailHandler } from './email.js';
import type { Env } from './env.js';
import { fetchHandler } from './fetch.js';
import { queueHandler } from './queue.js';
import { scheduledHandler } from './scheduled.js';
import { dropPostgresTeardownRejections } from './scope.js';

/**
 * Cloudflare Workers entry (types: tsconfig.worker.json). The same Hono app as on Node, wired per
 * invocation:
 *  - fetch: services built per request; mail the request queued is sent after the response.
 *  - scheduled (cron, every minute): seal, start due broadcasts, fan them out to the delivery queue,
 *    deliver due mail within a time budget.
 *  - queue: on the delivery queue, each message is "deliver for broadcast X for up to N seconds" through
 *    the same engine; on the email events queue, Email Service's bounces and complaints (email-events.ts).
 *  - email: Email Routing's mail to the unsubscribe and VERP bounce addresses (core/inbound.ts).
 *
 * Only src/runtime/worker knows it runs on Workers. Nothing Node-only is imported (no data directory,
 * generated secret, PGlite or capture mailbox); nodemailer and postgres.js run through `nodejs_compat`
 * and `cloudflare:sockets`.
 */
dropPostgresTeardownRejections();

export default {
  fetch: fetchHandler,
  scheduled: scheduledHandler,
  queue: queueHandler,
  email: emailHandler,
} satisfies ExportedHandler<Env, unknown>;
