import { z } from 'zod';
import { fromHex, utf8 } from './bytes.js';
import { dateOf, oneLine, type ProviderEvent, timestampIsFresh, WebhookAuthError } from './types.js';

/*
 * Mailgun webhooks, one event per request as JSON `{ signature, "event-data" }`:
 *   https://documentation.mailgun.com/docs/mailgun/user-manual/webhooks/securing-webhooks (HMAC-SHA256
 *       of timestamp + token with the webhook signing key, hex; `parent-signature` for subaccounts;
 *       "cache the token … and not honor any subsequent request with the same token")
 *   https://documentation.mailgun.com/docs/mailgun/user-manual/events (event types and structure: failed
 *       with severity permanent / temporary and a reason, delivered, complained, unsubscribed)
 *
 * Mailgun signs the timestamp and token only, not the body. So the token is single use: the domain keeps
 * it with the event (`nonce`), and the same token carrying another event is a forgery, refused like a bad
 * signature. The event id is `event-data.id` with its timestamp, since Mailgun promises the id unique
 * within a day only.
 */

export const MailgunSignature = z.looseObject({
  token: z.string().min(1).max(200),
  timestamp: z.union([z.string().max(20), z.number()]),
  signature: z.string().max(200),
  'parent-signature': z.string().max(200).nullish(),
});
export type MailgunSignature = z.infer<typeof MailgunSignature>;

const EventData = z.looseObject({
  id: z.string().min(1).max(200),
  event: z.string().min(1).max(100),
  timestamp: z.number(),
  severity: z.string().max(50).nullish(),
  reason: z.string().max(200).nullish(),
  recipient: z.string().max(320).nullish(),
  message: z
    .looseObject({ headers: z.looseObject({ 'message-id': z.string().max(998).nullish() }).nullish() })
    .nullish(),
  'delivery-status': z
    .looseObject({
      message: z.string().max(10_000).nullish(),
      description: z.string().max(10_000).nullish(),
      code: z.union([z.number(), z.string().max(20)]).nullish(),
    })
    .nullish(),
});

export const MailgunPayload = z.looseObject({ signature: MailgunSignature, 'event-data': EventData });
export type MailgunPayload = z.infer<typeof MailgunPayload>;

/** Throws WebhookAuthError unless `signature` (or `parent-signature`) is Mailgun's, and fresh. */
export async function verifyMailgunSignature(
  signingKey: string,
  signature: unknown,
  now: Date,
): Promise<MailgunSignature> {
  const parsed = MailgunSignature.safeParse(signature);
  if (!parsed.success) throw new WebhookAuthError('Missing or malformed Mailgun signature.');
  const s = parsed.data;
  const timestamp = String(s.timestamp);
  if (!/^\d{1,12}$/.test(timestamp) || !timestampIsFresh(Number(timestamp), now)) {
    throw new WebhookAuthError('The Mailgun signature timestamp is more than 5 minutes from now.');
  }
  const key = await crypto.subtle.importKey('raw', utf8(signingKey), { name: 'HMAC', hash: 'SHA-256' }, false, [
    'verify',
  ]);
  const signed = utf8(`${timestamp}${s.token}`);
  // subtle.verify compares in constant time; every candidate is checked, whichever matches.
  const candidates = [s.signature, s['parent-signature']].map((hex) => (hex ? fromHex(hex) : undefined));
  const results = await Promise.all(
    candidates.map((sig) => (sig?.length === 32 ? crypto.subtle.verify('HMAC', key, sig, signed) : false)),
  );
  if (!results.includes(true)) throw new WebhookAuthError('The Mailgun signature does not match.');
  return s;
}

/** Why a permanent failure happened, where Mailgun refused to send because of its own suppression lists. */
const SUPPRESSED: Record<string, ProviderEvent['suppressedFor']> = {
  'suppress-bounce': 'bounce',
  'suppress-complaint': 'complaint',
  'suppress-unsubscribe': 'unsubscribe',
};

export function parseMailgunEvents(p: MailgunPayload, now: Date): ProviderEvent[] {
  const e = p['event-data'];
  const headerId = e.message?.headers?.['message-id']?.trim().replace(/^<|>$/g, '');
  const status = e['delivery-status'];
  const base = {
    provider: 'mailgun' as const,
    eventId: `${e.id}:${e.timestamp}`,
    // The transport keeps Mailgun's id without angle brackets, as events carry the Message-ID.
    providerMessageId: headerId || undefined,
    messageId: headerId ? `<${headerId}>` : undefined,
    recipient: e.recipient ?? undefined,
    occurredAt: dateOf(e.timestamp, now),
    nonce: p.signature.token,
    diagnostic: oneLine(status?.message) ?? oneLine(status?.description) ?? oneLine(e.reason),
  };
  switch (e.event) {
    case 'failed': {
      if (e.severity !== 'permanent') return [{ ...base, kind: 'bounce', bounceClass: 'soft' }];
      const cause = SUPPRESSED[e.reason ?? ''];
      return [
        cause
          ? { ...base, kind: 'suppressed', suppressedFor: cause }
          : { ...base, kind: 'bounce', bounceClass: 'hard' },
      ];
    }
    case 'complained':
      return [{ ...base, kind: 'complaint' }];
    case 'unsubscribed':
      return [{ ...base, kind: 'unsubscribed' }];
    case 'delivered':
      return [{ ...base, kind: 'delivered', diagnostic: undefined }];
    default:
      // accepted, opened, clicked, stored, …: nothing to do.
      return [];
  }
}
