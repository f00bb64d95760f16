import { recordProviderEvents } from '../../core/provider-events.js';
import { errorFields } from '../../log.js';
import { type CloudflareEventReading, readCloudflareEmailEvent } from '../../mail/events/cloudflare.js';
import type { Env } from './env.js';
import { runtimeFor } from './runtime.js';
import { openScope, type Scope } from './scope.js';
import { seal } from './tasks.js';

/** The queue Email Service's event subscription publishes to (wrangler.toml); queue.ts dispatches on it. */
export const EMAIL_EVENTS_QUEUE = 'quire-email-events';

/** Back off this long before a message whose event could not be applied is delivered again. */
const RETRY_DELAY_SECONDS = 30;

/**
 * Email Service's delivery events (bounces, complaints, deliveries), each applied through the same domain
 * path as the providers' webhooks (src/core/provider-events.ts). Queues deliver at least once; that is
 * safe because each event is claimed by its id in provider_events in the transaction of its changes, so
 * a redelivered one changes nothing. A message that is not an event we act on is acknowledged (it would
 * never read differently); one whose event could not be recorded, or all of them when the database cannot
 * be reached, is retried later, and after max_retries goes to the dead-letter queue.
 */
export async function emailEventsHandler(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const rt = runtimeFor(env);
  const readings = batch.messages.map((message) => ({
    message,
    reading: readCloudflareEmailEvent(message.body, new Date()),
  }));
  const toApply: { message: Message<unknown>; reading: Extract<CloudflareEventReading, { status: 'events' }> }[] = [];
  for (const { message, reading } of readings) {
    if (reading.status === 'events') {
      toApply.push({ message, reading });
      continue;
    }
    // The queue message's own id names it in the logs; the event's fields may name a person.
    if (reading.status === 'malformed') rt.log.warn('email event unreadable', { messageId: message.id, ...reading });
    else rt.log.info('email event ignored', { messageId: message.id, ...reading });
    message.ack();
  }
  if (toApply.length === 0) return;

  let scope: Scope;
  try {
    scope = await openScope(rt, env, 'request');
  } catch (err) {
    rt.log.error('email events postponed', errorFields(err));
    for (const { message } of toApply) message.retry({ delaySeconds: RETRY_DELAY_SECONDS });
    return;
  }
  let changed = false;
  try {
    // One after the other: each event is its own transaction, on this invocation's one connection.
    for (const { message, reading } of toApply) {
      try {
        const tally = await recordProviderEvents(scope.services, reading.events);
        changed ||= tally.suppressed + tally.unsubscribed > 0;
        rt.log.info('email event', {
          messageId: message.id,
          type: reading.type,
          eventId: reading.events[0]?.eventId,
          attempt: message.attempts,
          ...tally,
        });
        message.ack();
      } catch (err) {
        rt.log.error('email event failed', { messageId: message.id, attempt: message.attempts, ...errorFields(err) });
        message.retry({ delaySeconds: RETRY_DELAY_SECONDS });
      }
    }
    // A suppression writes a consent event: seal it now, as a state-changing request does.
    if (changed) await seal(scope.services, rt.log, 'email-events');
  } finally {
    await scope.close();
  }
}
