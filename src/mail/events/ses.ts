import { z } from 'zod';
import type { SnsEnvelope } from './sns.js';
import { dateOf, oneLine, type ProviderEvent, WebhookPayloadError } from './types.js';

/*
 * Amazon SES events, carried as the `Message` of an SNS notification (verified in ./sns.ts):
 *   https://docs.aws.amazon.com/ses/latest/dg/notification-contents.html (notificationType Bounce /
 *       Complaint / Delivery; bounceType Permanent, Transient, Undetermined; bouncedRecipients,
 *       complainedRecipients; one notification may name several recipients)
 *   https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-contents.html (the same
 *       objects under `eventType` when a configuration set publishes events)
 *
 * `mail.messageId` is the MessageId SendEmail answered, which the transport stored. The SNS MessageId
 * is the same on every redelivery, so each recipient's event id is that id and the recipient's place.
 */

const Recipient = z.looseObject({
  emailAddress: z.string().max(320),
  status: z.string().max(20).nullish(),
  diagnosticCode: z.string().max(10_000).nullish(),
});

export const SesEvent = z.looseObject({
  notificationType: z.string().max(50).nullish(),
  eventType: z.string().max(50).nullish(),
  mail: z.looseObject({ messageId: z.string().min(1).max(200), timestamp: z.string().max(100).nullish() }),
  bounce: z
    .looseObject({
      bounceType: z.string().max(50),
      bounceSubType: z.string().max(100).nullish(),
      bouncedRecipients: z.array(Recipient).max(100),
      timestamp: z.string().max(100).nullish(),
    })
    .nullish(),
  complaint: z
    .looseObject({
      complainedRecipients: z.array(Recipient).max(100),
      complaintFeedbackType: z.string().max(100).nullish(),
      timestamp: z.string().max(100).nullish(),
    })
    .nullish(),
  delivery: z
    .looseObject({ recipients: z.array(z.string().max(320)).max(100), timestamp: z.string().max(100).nullish() })
    .nullish(),
});

/** The SES events in a verified SNS Notification; [] for event types that change nothing here. */
export function parseSesEvents(n: SnsEnvelope, now: Date): ProviderEvent[] {
  let json: unknown;
  try {
    json = JSON.parse(n.Message);
  } catch {
    throw new WebhookPayloadError('The SNS Message is not an Amazon SES event (not JSON).');
  }
  const parsed = SesEvent.safeParse(json);
  if (!parsed.success) throw new WebhookPayloadError('The SNS Message is not an Amazon SES event.');
  const e = parsed.data;
  const type = e.notificationType ?? e.eventType;
  const base = { provider: 'ses' as const, providerMessageId: e.mail.messageId };
  const id = (i: number) => `${n.MessageId}#${i}`;

  if (type === 'Bounce') {
    if (!e.bounce) throw new WebhookPayloadError('A Bounce event without its bounce object.');
    // Permanent: the address is bad for good. Transient and Undetermined: not (yet) a verdict on it.
    const bounceClass = e.bounce.bounceType === 'Permanent' ? 'hard' : 'soft';
    const at = dateOf(e.bounce.timestamp, now);
    return e.bounce.bouncedRecipients.map((r, i) => ({
      ...base,
      eventId: id(i),
      kind: 'bounce',
      bounceClass,
      recipient: r.emailAddress,
      diagnostic:
        oneLine(r.diagnosticCode) ??
        oneLine(`${e.bounce!.bounceType} / ${e.bounce!.bounceSubType ?? 'General'}${r.status ? ` ${r.status}` : ''}`),
      occurredAt: at,
    }));
  }
  if (type === 'Complaint') {
    if (!e.complaint) throw new WebhookPayloadError('A Complaint event without its complaint object.');
    const at = dateOf(e.complaint.timestamp, now);
    return e.complaint.complainedRecipients.map((r, i) => ({
      ...base,
      eventId: id(i),
      kind: 'complaint',
      recipient: r.emailAddress,
      diagnostic: oneLine(e.complaint!.complaintFeedbackType),
      occurredAt: at,
    }));
  }
  if (type === 'Delivery') {
    if (!e.delivery) throw new WebhookPayloadError('A Delivery event without its delivery object.');
    const at = dateOf(e.delivery.timestamp, now);
    return e.delivery.recipients.map((r, i) => ({
      ...base,
      eventId: id(i),
      kind: 'delivered',
      recipient: r,
      occurredAt: at,
    }));
  }
  // Send, Reject, Open, Click, DeliveryDelay, RenderingFailure, Subscription: nothing to do.
  return [];
}
