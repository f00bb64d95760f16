import { readDeliveryMessage, stillSending } from '../../delivery/fan-out.js';
import { errorFields } from '../../log.js';
import { EMAIL_EVENTS_QUEUE, emailEventsHandler } from './email-events.js';
import type { Env } from './env.js';
import { runtimeFor } from './runtime.js';
import { openScope, type Scope } from './scope.js';

/**
 * Queue consumer for both queues of wrangler.toml: a batch holds the messages of one queue, named by
 * `batch.queue`. Email Service's delivery events go to email-events.ts; anything else is delivery work.
 */
export async function queueHandler(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  if (batch.queue === EMAIL_EVENTS_QUEUE) return emailEventsHandler(batch, env);
  return deliveryQueueHandler(batch, env);
}

/**
 * Delivery work. Cloudflare Queues deliver at least once, so a message may arrive twice or after its
 * broadcast finished: that is safe, because the outbox is what makes delivery idempotent — rows are
 * claimed with FOR UPDATE SKIP LOCKED under a lease and settled only by the lease holder, so two
 * invocations never take the same row, and a duplicate message only adds an invocation that finds
 * less (or nothing) to claim. A message whose broadcast is no longer sending is acknowledged unread.
 * Claims take whatever is due (transactional mail first, then sending broadcasts), the same engine as
 * every other worker; with one broadcast sending, that is broadcast X's rows.
 */
async function deliveryQueueHandler(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const rt = runtimeFor(env);
  let scope: Scope;
  try {
    scope = await openScope(rt, env, 'delivery');
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
        const body = readDeliveryMessage(message.body, rt.config.QUEUE_SLICE_SECONDS);
        if (!body) {
          rt.log.warn('delivery message ignored', { messageId: message.id });
          message.ack();
          return;
        }
        try {
          if (!(await stillSending(services.db, body.broadcastId))) {
            message.ack();
            return;
          }
          const report = await services.delivery.drain({
            deadline: Date.now() + body.seconds * 1000,
            housekeeping: false,
          });
          rt.log.info('delivery slice', { broadcastId: body.broadcastId, attempt: message.attempts, ...report });
          message.ack();
        } catch (err) {
          rt.log.error('delivery slice failed', {
            broadcastId: body.broadcastId,
            attempt: message.attempts,
            ...errorFields(err),
          });
          message.retry({ delaySeconds: 30 });
        }
      }),
    );
  } finally {
    await scope.close();
  }
}
