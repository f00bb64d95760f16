import { z } from 'zod';
import { concatBytes, fromBase64, sha256Hex, utf8 } from './bytes.js';
import { dateOf, oneLine, type ProviderEvent, timestampIsFresh, WebhookAuthError } from './types.js';

/*
 * Twilio SendGrid Event Webhook, a JSON array of events per request:
 *   https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/getting-started-event-webhook-security-features
 *       (Signed Event Webhook: ECDSA P-256 / SHA-256 over timestamp + raw body; headers
 *       X-Twilio-Email-Event-Webhook-Signature (base64 DER) and X-Twilio-Email-Event-Webhook-Timestamp;
 *       the verification key is a base64 DER public key)
 *   https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event (bounce with type bounce /
 *       blocked, dropped with a reason, spamreport, delivered, unsubscribe, group_unsubscribe; sg_event_id,
 *       sg_message_id, custom arguments at the top level of each event)
 *
 * sg_message_id is the X-Message-Id answered at send followed by a dot and SendGrid's own suffix (and
 * older ids hold dots themselves), so every dot-separated prefix is a candidate for what was stored.
 */

export const SENDGRID_SIGNATURE_HEADER = 'X-Twilio-Email-Event-Webhook-Signature';
export const SENDGRID_TIMESTAMP_HEADER = 'X-Twilio-Email-Event-Webhook-Timestamp';

/** Throws WebhookAuthError unless the raw body carries SendGrid's fresh ECDSA signature. */
export async function verifySendgridSignature(
  publicKeyBase64: string,
  signature: string | undefined,
  timestamp: string | undefined,
  rawBody: Uint8Array,
  now: Date,
): Promise<void> {
  if (!signature || !timestamp || signature.length > 500)
    throw new WebhookAuthError(`Missing ${SENDGRID_SIGNATURE_HEADER} or ${SENDGRID_TIMESTAMP_HEADER}.`);
  if (!/^\d{1,12}$/.test(timestamp) || !timestampIsFresh(Number(timestamp), now)) {
    throw new WebhookAuthError(`The ${SENDGRID_TIMESTAMP_HEADER} is more than 5 minutes from now.`);
  }
  const der = fromBase64(signature);
  const raw = der ? ecdsaDerToRaw(der) : undefined;
  const spki = fromBase64(publicKeyBase64);
  if (!raw || !spki) throw new WebhookAuthError(`The ${SENDGRID_SIGNATURE_HEADER} does not match.`);
  const key = await crypto.subtle.importKey('spki', spki, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
  const ok = await crypto.subtle.verify(
    { name: 'ECDSA', hash: 'SHA-256' },
    key,
    raw,
    concatBytes(utf8(timestamp), rawBody),
  );
  if (!ok) throw new WebhookAuthError(`The ${SENDGRID_SIGNATURE_HEADER} does not match.`);
}

/**
 * ECDSA signatures travel as DER `SEQUENCE { INTEGER r, INTEGER s }` (RFC 3279 §2.2.3); Web Crypto wants
 * r and s as two 32-byte big-endian numbers side by side.
 */
export function ecdsaDerToRaw(der: Uint8Array): Uint8Array<ArrayBuffer> | undefined {
  if (der.length < 8 || der[0] !== 0x30 || der[1] !== der.length - 2) return undefined;
  const out = new Uint8Array(64);
  let at = 2;
  for (const offset of [0, 32]) {
    if (der[at] !== 0x02) return undefined;
    const len = der[at + 1]!;
    let int = der.subarray(at + 2, at + 2 + len);
    if (int.length !== len || len === 0) return undefined;
    while (int.length > 1 && int[0] === 0) int = int.subarray(1);
    if (int.length > 32) return undefined;
    out.set(int, offset + 32 - int.length);
    at += 2 + len;
  }
  return at === der.length ? out : undefined;
}

const SendgridEvent = z.looseObject({
  event: z.string().min(1).max(100),
  email: z.string().max(320).nullish(),
  timestamp: z.number().nullish(),
  sg_event_id: z.string().min(1).max(200).nullish(),
  sg_message_id: z.string().min(1).max(500).nullish(),
  type: z.string().max(100).nullish(),
  reason: z.string().max(10_000).nullish(),
  status: z.string().max(100).nullish(),
  quire_message_id: z.string().max(998).nullish(),
});
export const SendgridPayload = z.array(SendgridEvent).min(1).max(1000);
export type SendgridPayload = z.infer<typeof SendgridPayload>;

/** Why SendGrid dropped a message, where the reason is its own suppression list or a bad address. */
const DROPPED: Record<string, Pick<ProviderEvent, 'kind' | 'bounceClass' | 'suppressedFor'>> = {
  'Bounced Address': { kind: 'suppressed', suppressedFor: 'bounce' },
  'Spam Reporting Address': { kind: 'suppressed', suppressedFor: 'complaint' },
  'Unsubscribed Address': { kind: 'suppressed', suppressedFor: 'unsubscribe' },
  Invalid: { kind: 'bounce', bounceClass: 'hard' },
};

export async function parseSendgridEvents(events: SendgridPayload, now: Date): Promise<ProviderEvent[]> {
  const out: ProviderEvent[] = [];
  for (const e of events) {
    const sgId = e.sg_message_id ?? undefined;
    const ours = e.quire_message_id && /^<[^<>\s]+>$/.test(e.quire_message_id) ? e.quire_message_id : undefined;
    const base = {
      provider: 'sendgrid' as const,
      // Every documented event has sg_event_id; one without is named by its own content.
      eventId: e.sg_event_id ?? `sha256:${await sha256Hex(utf8(JSON.stringify(e)))}`,
      providerMessageId: sgId,
      providerMessageIdCandidates: sgId ? prefixes(sgId) : undefined,
      messageId: ours,
      recipient: e.email ?? undefined,
      occurredAt: dateOf(e.timestamp, now),
      diagnostic: oneLine(e.reason) ?? oneLine(e.status),
    };
    switch (e.event) {
      case 'bounce':
        // "blocked": the receiving server refused for now (reputation, content); "bounce": for good.
        out.push({ ...base, kind: 'bounce', bounceClass: e.type === 'blocked' ? 'soft' : 'hard' });
        break;
      case 'dropped':
        out.push({ ...base, ...(DROPPED[e.reason ?? ''] ?? { kind: 'ignored' }) });
        break;
      case 'spamreport':
        out.push({ ...base, kind: 'complaint' });
        break;
      case 'unsubscribe':
      case 'group_unsubscribe':
        out.push({ ...base, kind: 'unsubscribed' });
        break;
      case 'delivered':
        out.push({ ...base, kind: 'delivered', diagnostic: undefined });
        break;
      default:
      // processed, deferred, open, click, group_resubscribe, …: nothing to do.
    }
  }
  return out;
}

/** `a.b.c` → `a.b.c`, `a.b`, `a`: the id and each shorter dot-separated prefix. */
function prefixes(id: string): string[] {
  const parts = id.split('.').slice(0, 12);
  return parts.map((_, i) => parts.slice(0, parts.length - i).join('.'));
}
