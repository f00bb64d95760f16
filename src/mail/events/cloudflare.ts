import { z } from 'zod';
import { dateOf, oneLine, type ProviderEvent } from './types.js';

/*
 * Cloudflare Email Service's delivery events, one per Queues message, for mail sent through the
 * `[[send_email]]` binding:
 *   https://developers.cloudflare.com/email-service/platform/event-subscriptions/ (Email Sending events:
 *       type `cf.email.sending.message.<event>`; payload eventId, messageId, recipient, terminal,
 *       delivery{status, smtpResponse…}, bounce{type hard|soft, classification, reason}, complaint{type},
 *       rejection{reason, party, detail}; metadata.eventTimestamp)
 *   https://developers.cloudflare.com/queues/event-subscriptions/ and …/events-schemas/ (the envelope
 *       every event subscription shares: type, source, payload, metadata)
 *   https://developers.cloudflare.com/email-service/examples/email-sending/sync-recipient-records/
 *       (act on every message.complained, and on message.bounced only when bounce.type is "hard";
 *       message.deferred comes while retries remain, an exhausted retry is a "soft" message.bounced)
 *
 * Nothing is signed: Cloudflare itself publishes these to a queue of the account, and only the account's
 * Workers consume it, so there is nothing to verify. The shape is checked strictly all the same, and a
 * message that is not one of these events is reported, never thrown: a queue consumer that throws has
 * the whole batch redelivered, and a malformed message would come back for ever.
 *
 * `payload.messageId` is the id the binding's send() answered, which the transport stored as the
 * delivery's provider message id. The docs write it bare; the binding may answer it in angle brackets
 * (the local simulator does), so both spellings are offered to the match.
 */

const EVENT_PREFIX = 'cf.email.sending.message.';
const text = z.string().max(10_000).nullish();

const Envelope = z.looseObject({
  type: z.string().min(1).max(200),
  source: z.looseObject({ type: z.literal('email.sending') }),
  payload: z.looseObject({
    eventId: z.string().min(1).max(200),
    messageId: z.string().min(1).max(500),
    recipient: z.string().min(1).max(320),
    delivery: z.looseObject({ status: z.string().max(100).nullish(), smtpResponse: text }).nullish(),
    bounce: z.looseObject({ type: z.string().max(100).nullish(), classification: text, reason: text }).nullish(),
    complaint: z.looseObject({ type: text }).nullish(),
    rejection: z.looseObject({ reason: text, party: text, detail: text }).nullish(),
  }),
  metadata: z.looseObject({ eventTimestamp: z.string().max(100).nullish() }).nullish(),
});

/**
 * - events: what the message reports, for the domain to apply.
 * - ignored: a genuine Email Sending event that changes nothing here (a deferral, an internal failure…).
 * - malformed: not an Email Sending event at all, or one with its fields missing.
 */
export type CloudflareEventReading =
  | { status: 'events'; type: string; events: ProviderEvent[] }
  | { status: 'ignored'; type: string; reason: string }
  | { status: 'malformed'; reason: string };

/** The body of one Queues message from an Email Sending event subscription. Never throws. */
export function readCloudflareEmailEvent(body: unknown, now: Date): CloudflareEventReading {
  let json = body;
  if (typeof body === 'string') {
    // A queue message's body is JSON already; a string is read as JSON in case it was sent as text.
    try {
      json = JSON.parse(body);
    } catch {
      return { status: 'malformed', reason: 'the body is a string that is not JSON' };
    }
  }
  const parsed = Envelope.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.join('.') || 'body';
    return { status: 'malformed', reason: `not an Email Sending event (${where}: ${issue?.code ?? 'invalid'})` };
  }
  const e = parsed.data;
  if (!e.type.startsWith(EVENT_PREFIX)) {
    return { status: 'malformed', reason: 'not an Email Sending message event type' };
  }
  const type = e.type.slice(EVENT_PREFIX.length);
  const p = e.payload;
  const base = {
    provider: 'cloudflare' as const,
    // The same on every redelivery of the event: the idempotency key.
    eventId: p.eventId,
    providerMessageId: p.messageId,
    providerMessageIdCandidates: spellings(p.messageId),
    recipient: p.recipient,
    occurredAt: dateOf(e.metadata?.eventTimestamp, now),
  };
  const found = (events: ProviderEvent[]) => ({ status: 'events' as const, type, events });
  const ignored = (reason: string) => ({ status: 'ignored' as const, type, reason });

  switch (type) {
    case 'bounced': {
      // Only "hard" is a verdict on the address; "soft" is retries exhausted, which the domain counts
      // towards suppression when it persists. A bounce without its type is not taken for a hard one.
      const bounceClass = p.bounce?.type === 'hard' ? 'hard' : 'soft';
      const diagnostic =
        oneLine(p.bounce?.reason) ?? oneLine(p.delivery?.smtpResponse) ?? oneLine(p.bounce?.classification);
      return found([{ ...base, kind: 'bounce', bounceClass, diagnostic }]);
    }
    case 'complained':
      return found([{ ...base, kind: 'complaint', diagnostic: oneLine(p.complaint?.type) }]);
    case 'delivered':
      return found([{ ...base, kind: 'delivered', diagnostic: oneLine(p.delivery?.smtpResponse) }]);
    case 'rejected':
      // The service's own suppression list refused the recipient, as send() does with
      // E_RECIPIENT_SUPPRESSED; other rejections (validation, spam) are about the message, not the address.
      if (p.rejection?.reason === 'suppressed' && (p.rejection.party ?? 'recipient') === 'recipient') {
        return found([
          { ...base, kind: 'suppressed', suppressedFor: 'unknown', diagnostic: oneLine(p.rejection.detail) },
        ]);
      }
      return ignored('rejected for the message, not the recipient');
    case 'deferred':
      // Retries remain: the outcome comes later as message.delivered or message.bounced.
      return ignored('deferred: the service is still retrying');
    case 'failed':
      return ignored('an internal or non-SMTP failure, not a verdict on the recipient');
    default:
      return ignored('an Email Sending event quire does not act on');
  }
}

/** The id as the docs write it and as the binding may have answered it, bracketed form first. */
function spellings(id: string): string[] {
  const bare = id.replace(/^<(.*)>$/, '$1');
  return bare === id ? [`<${id}>`, id] : [id, bare];
}
