import { z } from 'zod';
import { fromBase64, sameSecret, sha256Hex } from './bytes.js';
import { dateOf, oneLine, type ProviderEvent, WebhookAuthError } from './types.js';

/*
 * Postmark webhooks, one JSON record per request:
 *   https://postmarkapp.com/developer/webhooks/webhooks-overview (HTTP Basic auth in the webhook URL)
 *   https://postmarkapp.com/developer/webhooks/bounce-webhook (RecordType Bounce)
 *   https://postmarkapp.com/developer/webhooks/spam-complaint-webhook (RecordType SpamComplaint)
 *   https://postmarkapp.com/developer/webhooks/delivery-webhook (RecordType Delivery)
 *   https://postmarkapp.com/developer/webhooks/subscription-change-webhook (RecordType SubscriptionChange)
 *   https://postmarkapp.com/developer/api/bounce-api#bounce-types (Type / TypeCode)
 *
 * Postmark signs nothing: the only proof is the user:pass the author put in the webhook URL, which
 * Postmark sends as HTTP Basic credentials. No timestamp is signed, so replays are stopped by the
 * event ids alone (the domain records each once).
 */

/** Check `Authorization: Basic base64(user:pass)` against POSTMARK_WEBHOOK_AUTH, in constant time. */
export async function verifyPostmarkAuth(expected: string, authorization: string | undefined): Promise<void> {
  const match = /^Basic\s+([A-Za-z0-9+/=]{1,1024})\s*$/i.exec(authorization ?? '');
  const decoded = match ? fromBase64(match[1]!) : undefined;
  const given = decoded ? new TextDecoder().decode(decoded) : '';
  // Compared even when absent, so a missing header takes as long as a wrong one.
  const ok = await sameSecret(given, expected);
  if (!ok || !decoded) throw new WebhookAuthError('Missing or invalid HTTP Basic credentials.');
}

const id = z.union([z.number().int(), z.string().min(1).max(100)]);
const text = z.string().max(10_000).nullish();
const KNOWN = ['Bounce', 'SpamComplaint', 'Delivery', 'SubscriptionChange'];

const BounceRecord = z.looseObject({
  RecordType: z.enum(['Bounce', 'SpamComplaint']),
  ID: id,
  Type: z.string().min(1).max(100),
  MessageID: z.string().max(200).nullish(),
  Email: z.string().min(1).max(320),
  BouncedAt: z.string().max(100).nullish(),
  Details: text,
  Description: text,
});
const DeliveryRecord = z.looseObject({
  RecordType: z.literal('Delivery'),
  MessageID: z.string().min(1).max(200),
  Recipient: z.string().min(1).max(320),
  DeliveredAt: z.string().max(100).nullish(),
  Details: text,
});
const SubscriptionChangeRecord = z.looseObject({
  RecordType: z.literal('SubscriptionChange'),
  MessageID: z.string().max(200).nullish(),
  Recipient: z.string().min(1).max(320),
  ChangedAt: z.string().min(1).max(100),
  Origin: z.string().max(100).nullish(),
  SuppressSending: z.boolean(),
  SuppressionReason: z.string().max(100).nullish(),
});
/** Opens, clicks and whatever Postmark adds later: accepted and ignored. */
const OtherRecord = z.looseObject({
  RecordType: z
    .string()
    .min(1)
    .max(100)
    .refine((t) => !KNOWN.includes(t), 'is a known record type with fields missing'),
});

export const PostmarkPayload = z.union([BounceRecord, DeliveryRecord, SubscriptionChangeRecord, OtherRecord]);
export type PostmarkPayload = z.infer<typeof PostmarkPayload>;

type Mapping = Pick<ProviderEvent, 'kind' | 'bounceClass' | 'suppressedFor'>;
const hard: Mapping = { kind: 'bounce', bounceClass: 'hard' };
const soft: Mapping = { kind: 'bounce', bounceClass: 'soft' };

/**
 * Bounce types, from the bounce-types table. Hard: the address is bad. Soft: the mailbox or its server
 * refused for now (full, DNS, blocked, delayed, unclassified). An Unsubscribe "bounce" is the recipient
 * replying to ask to be removed; a manual deactivation is Postmark's own suppression. Auto-replies,
 * challenges, virus notices and failures of our own making (DMARC, templates, the SMTP API) say nothing
 * about the recipient and change nothing.
 */
const BOUNCE_TYPES: Record<string, Mapping> = {
  HardBounce: hard,
  BadEmailAddress: hard,
  Transient: soft,
  DnsError: soft,
  SoftBounce: soft,
  SpamNotification: soft,
  Blocked: soft,
  Unknown: soft,
  SpamComplaint: { kind: 'complaint' },
  Unsubscribe: { kind: 'unsubscribed' },
  ManuallyDeactivated: { kind: 'suppressed', suppressedFor: 'unknown' },
};

const SUPPRESSION_REASONS: Record<string, ProviderEvent['suppressedFor']> = {
  HardBounce: 'bounce',
  SpamComplaint: 'complaint',
};

/** The one record as normalised events; `rawBody` names records Postmark gives no id of their own. */
export async function parsePostmarkEvents(
  p: PostmarkPayload,
  rawBody: Uint8Array,
  now: Date,
): Promise<ProviderEvent[]> {
  const base = { provider: 'postmark' as const };
  const record = p as Record<string, unknown> & { RecordType: string };
  switch (record.RecordType) {
    case 'Bounce':
    case 'SpamComplaint': {
      const b = BounceRecord.parse(record);
      const mapping =
        b.RecordType === 'SpamComplaint'
          ? { kind: 'complaint' as const }
          : (BOUNCE_TYPES[b.Type] ?? { kind: 'ignored' as const });
      return [
        {
          ...base,
          ...mapping,
          eventId: `bounce:${b.ID}`,
          providerMessageId: b.MessageID ?? undefined,
          recipient: b.Email,
          diagnostic: oneLine(b.Details) ?? oneLine(b.Description) ?? b.Type,
          occurredAt: dateOf(b.BouncedAt, now),
        },
      ];
    }
    case 'Delivery': {
      const d = DeliveryRecord.parse(record);
      // One recipient per message (quire sends no other way), so the message id names the delivery.
      return [
        {
          ...base,
          kind: 'delivered',
          eventId: `delivery:${d.MessageID}`,
          providerMessageId: d.MessageID,
          recipient: d.Recipient,
          occurredAt: dateOf(d.DeliveredAt, now),
        },
      ];
    }
    case 'SubscriptionChange': {
      const s = SubscriptionChangeRecord.parse(record);
      // "If a recipient unsubscribes, they will be suppressed with the SuppressionReason of ManualSuppression."
      const byRecipient = s.SuppressionReason === 'ManualSuppression' && s.Origin === 'Recipient';
      const mapping: Mapping = !s.SuppressSending
        ? { kind: 'ignored' } // a reactivation: quire's own consent decides who gets mail again
        : byRecipient
          ? { kind: 'unsubscribed' }
          : { kind: 'suppressed', suppressedFor: SUPPRESSION_REASONS[s.SuppressionReason ?? ''] ?? 'unknown' };
      // No id of its own, and MessageID is null for manual changes: the record itself names the event.
      return [
        {
          ...base,
          ...mapping,
          eventId: `subscription-change:${await sha256Hex(rawBody)}`,
          providerMessageId: s.MessageID ?? undefined,
          recipient: s.Recipient,
          diagnostic: oneLine(`${s.Origin ?? 'unknown origin'}: ${s.SuppressionReason ?? 'reactivated'}`),
          occurredAt: dateOf(s.ChangedAt, now),
        },
      ];
    }
    default:
      return [];
  }
}
