/**
 * What a mail provider tells us back, in one shape for every provider. Each provider's module verifies a
 * request exactly as that provider signs it and maps its payload to these; the domain never sees a
 * provider's own format.
 */

export type EventProvider = 'ses' | 'postmark' | 'resend' | 'mailgun' | 'sendgrid' | 'cloudflare';

/**
 * - bounce: the receiving side refused the message (hard: for good; soft: for now).
 * - complaint: the recipient reported it as spam (a feedback loop).
 * - suppressed: the provider refused to send, because of its own suppression list.
 * - unsubscribed: the recipient opted out through the provider's own unsubscribe link or header.
 * - delivered: the receiving server accepted the message.
 * - ignored: a genuine event that changes nothing here (opens, auto-replies, a provider's reactivation…).
 */
export type ProviderEventKind = 'bounce' | 'complaint' | 'suppressed' | 'unsubscribed' | 'delivered' | 'ignored';

/** Why a provider suppressed an address, when it says. */
export type SuppressionCause = 'bounce' | 'complaint' | 'unsubscribe' | 'unknown';

export interface ProviderEvent {
  provider: EventProvider;
  /** Stable across the provider's redeliveries of the same event: the idempotency key. */
  eventId: string;
  kind: ProviderEventKind;
  bounceClass?: 'hard' | 'soft' | undefined;
  suppressedFor?: SuppressionCause | undefined;
  /** The provider's id of the message, as the event names it. */
  providerMessageId?: string | undefined;
  /**
   * The ids the message may have been stored under at send, when that differs from how the event names
   * it (SendGrid's `sg_message_id` extends the X-Message-Id answered at send). Defaults to providerMessageId.
   */
  providerMessageIdCandidates?: string[] | undefined;
  /** Our own Message-ID (with angle brackets), when the event carries it. */
  messageId?: string | undefined;
  recipient?: string | undefined;
  /** The provider's or the remote server's words, for the record (one line, trimmed by the domain). */
  diagnostic?: string | undefined;
  occurredAt: Date;
  /** A single-use value the provider signed (Mailgun's token): seen twice with different events, it is a replay. */
  nonce?: string | undefined;
}

/** The request is not provably from the provider (missing, wrong or expired signature or credentials): 401. */
export class WebhookAuthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookAuthError';
  }
}

/** The request is authentic, or cannot be checked, but its body is not what the provider sends: 4xx. */
export class WebhookPayloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookPayloadError';
  }
}

/** Replay protection where a provider signs a timestamp: this far either side of our clock. */
export const SIGNED_TIMESTAMP_TOLERANCE_SECONDS = 5 * 60;

/** True when a signed unix time (seconds) is within the tolerance of `now`. */
export function timestampIsFresh(
  seconds: number,
  now: Date,
  toleranceSeconds = SIGNED_TIMESTAMP_TOLERANCE_SECONDS,
): boolean {
  return Number.isFinite(seconds) && Math.abs(now.getTime() / 1000 - seconds) <= toleranceSeconds;
}

/** Provider text is anyone's text: one line, no control characters, bounded. */
export function oneLine(text: unknown, max = 500): string | undefined {
  if (typeof text !== 'string') return undefined;
  const line = text
    // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
    .replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .trim()
    .slice(0, max);
  return line === '' ? undefined : line;
}

/** A provider's date (ISO 8601 string or unix seconds), or `fallback` when it has none we can read. */
export function dateOf(value: unknown, fallback: Date): Date {
  const d =
    typeof value === 'number' ? new Date(value * 1000) : typeof value === 'string' ? new Date(value) : undefined;
  return d && !Number.isNaN(d.getTime()) ? d : fallback;
}
