import { Webhook } from 'standardwebhooks';
import { z } from 'zod';
import { dateOf, oneLine, type ProviderEvent, timestampIsFresh, WebhookAuthError } from './types.js';

/*
 * Resend webhooks, one event per request, signed the Svix / Standard Webhooks way:
 *   https://resend.com/docs/webhooks/verify-webhooks-requests (svix-id, svix-timestamp, svix-signature;
 *       secret whsec_…; verify the raw body)
 *   https://docs.svix.com/receiving/verifying-payloads/how-manual (svix-id is the same on a redelivery)
 *   https://resend.com/docs/webhooks/event-types (email.bounced, email.complained, email.delivered,
 *       email.suppressed, …)
 *   https://resend.com/docs/webhooks/emails/bounced (data.bounce: type Permanent / Transient /
 *       Undetermined, subType, message)
 *   https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md (the
 *       signed content `id.timestamp.body`, HMAC-SHA256 with the base64 secret, `v1,<base64>` entries)
 *
 * The signature is checked by the `standardwebhooks` library (Resend's own SDK does the same), not by
 * hand-written HMAC code. svix-id is the same on every redelivery of an event: it is the event id.
 */

export interface ResendSignatureHeaders {
  id: string | undefined;
  timestamp: string | undefined;
  signature: string | undefined;
}

/** Throws WebhookAuthError unless the raw body carries a valid, fresh signature under `secret`. */
export function verifyResendSignature(secret: string, headers: ResendSignatureHeaders, body: string, now: Date): void {
  const { id, timestamp, signature } = headers;
  if (!id || !timestamp || !signature || id.length > 200 || signature.length > 2000) {
    throw new WebhookAuthError('Missing svix-id, svix-timestamp or svix-signature.');
  }
  // Checked against the service clock first; the library checks again against the system clock.
  if (!/^\d{1,12}$/.test(timestamp) || !timestampIsFresh(Number(timestamp), now)) {
    throw new WebhookAuthError('The svix-timestamp is more than 5 minutes from now.');
  }
  try {
    new Webhook(secret).verify(
      body,
      { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': signature },
      { jsonParse: false },
    );
  } catch {
    throw new WebhookAuthError('The svix-signature does not match the body.');
  }
}

const HANDLED = ['email.bounced', 'email.complained', 'email.delivered', 'email.suppressed'];
const detail = z.looseObject({
  type: z.string().max(100).nullish(),
  subType: z.string().max(100).nullish(),
  message: z.string().max(10_000).nullish(),
});

const EmailEvent = z.looseObject({
  type: z.enum(HANDLED as [string, ...string[]]),
  created_at: z.string().max(100).nullish(),
  data: z.looseObject({
    email_id: z.string().min(1).max(200),
    to: z.array(z.string().max(320)).max(50).nullish(),
    bounce: detail.nullish(),
    suppressed: detail.nullish(),
  }),
});
/** Opens, clicks, contacts, domains and whatever Resend adds later: accepted and ignored. */
const OtherEvent = z.looseObject({
  type: z
    .string()
    .min(1)
    .max(100)
    .refine((t) => !HANDLED.includes(t), 'is a known event type with fields missing'),
});

export const ResendPayload = z.union([EmailEvent, OtherEvent]);
export type ResendPayload = z.infer<typeof ResendPayload>;

export function parseResendEvents(p: ResendPayload, eventId: string, now: Date): ProviderEvent[] {
  const parsed = EmailEvent.safeParse(p);
  if (!parsed.success) return [];
  const e = parsed.data;
  const base = {
    provider: 'resend' as const,
    eventId,
    providerMessageId: e.data.email_id,
    recipient: e.data.to?.[0],
    occurredAt: dateOf(e.created_at, now),
  };
  switch (e.type) {
    case 'email.bounced': {
      // Resend relays Amazon SES's classification: only Permanent is a bad address for good.
      const type = e.data.bounce?.type ?? 'Permanent';
      const diagnostic =
        oneLine(e.data.bounce?.message) ?? oneLine([type, e.data.bounce?.subType].filter(Boolean).join(' / '));
      return [{ ...base, kind: 'bounce', bounceClass: /^permanent$/i.test(type) ? 'hard' : 'soft', diagnostic }];
    }
    case 'email.complained':
      return [{ ...base, kind: 'complaint' }];
    case 'email.delivered':
      return [{ ...base, kind: 'delivered' }];
    case 'email.suppressed':
      return [
        {
          ...base,
          kind: 'suppressed',
          suppressedFor: 'unknown',
          diagnostic: oneLine(e.data.suppressed?.message) ?? oneLine(e.data.suppressed?.type),
        },
      ];
    default:
      return [];
  }
}
