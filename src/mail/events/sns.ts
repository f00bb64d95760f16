import { z } from 'zod';
import { fromBase64, utf8 } from './bytes.js';
import { WebhookAuthError } from './types.js';
import { pemCertificateToDer, spkiOfCertificate } from './x509.js';

/*
 * Amazon SNS over HTTPS (how Amazon SES events reach us):
 *   https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html (SignatureVersion 1 =
 *       SHA1withRSA, 2 = SHA256withRSA; certificate over HTTPS from an SNS URL; reject unexpected TopicArns)
 *   https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message-verify-message-signature.html
 *       (the string to sign: "Key\nValue\n" for each signed key, in the documented order)
 *   https://docs.aws.amazon.com/sns/latest/dg/http-notification-json.html (Notification: Message,
 *       MessageId, Subject if present, Timestamp, TopicArn, Type)
 *   https://docs.aws.amazon.com/sns/latest/dg/http-subscription-confirmation-json.html
 *       (SubscriptionConfirmation and UnsubscribeConfirmation: Message, MessageId, SubscribeURL, Timestamp,
 *       Token, TopicArn, Type; visit SubscribeURL to confirm)
 *   https://docs.aws.amazon.com/sns/latest/dg/sns-message-delivery-retries.html (an HTTP/S delivery policy
 *       retries for at most 3,600 seconds; a retry keeps the original MessageId, Timestamp and signature)
 */

export type Fetcher = (url: string, init?: RequestInit) => Promise<Response>;

export const SnsEnvelope = z.looseObject({
  Type: z.enum(['Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation']),
  MessageId: z.string().min(1).max(200),
  TopicArn: z.string().min(1).max(300),
  Message: z.string().max(256 * 1024),
  Timestamp: z.string().min(1).max(100),
  Subject: z.string().max(1000).nullish(),
  SubscribeURL: z.string().max(4000).nullish(),
  Token: z.string().max(4000).nullish(),
  SignatureVersion: z.string().max(10).nullish(),
  Signature: z.string().max(4000).nullish(),
  SigningCertURL: z.string().max(2000).nullish(),
});
export type SnsEnvelope = z.infer<typeof SnsEnvelope>;

/** A retried notification keeps its first Timestamp; SNS gives up retrying after an hour. */
export const SNS_MAX_AGE_SECONDS = 3600 + 5 * 60;
export const SNS_MAX_FUTURE_SECONDS = 5 * 60;

const SNS_HOST = /^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/;

/** The URL, when it is https on an `sns.<region>.amazonaws.com` host (AWS China's `.com.cn` too), with no port or credentials. */
export function snsUrl(text: string | null | undefined): URL | undefined {
  if (!text) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  const plain = url.protocol === 'https:' && url.port === '' && url.username === '' && url.password === '';
  return plain && SNS_HOST.test(url.hostname) ? url : undefined;
}

const SIGNED_KEYS = {
  Notification: ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'],
  SubscriptionConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
  UnsubscribeConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
} as const;

/** The documented string to sign; a key that is absent (Subject) is left out, name and all. */
export function snsStringToSign(m: SnsEnvelope): string {
  let out = '';
  for (const key of SIGNED_KEYS[m.Type]) {
    const value = (m as Record<string, unknown>)[key];
    if (value !== undefined && value !== null) out += `${key}\n${String(value)}\n`;
  }
  return out;
}

export interface SnsVerifierOptions {
  fetch: Fetcher;
  /** At most this many signing certificates are kept (AWS rotates them; each has its own URL). */
  cacheSize?: number;
}

/** Thrown when the certificate could not be fetched at all: not the sender's fault, worth a retry (503). */
export class SnsCertificateUnavailable extends Error {}

/**
 * Verifies SNS messages. Keeps the public key of each signing certificate it has fetched, by URL, so a
 * burst of notifications costs one fetch.
 */
export function createSnsVerifier(opts: SnsVerifierOptions) {
  const keys = new Map<string, Uint8Array<ArrayBuffer>>();
  const cacheSize = opts.cacheSize ?? 16;

  async function publicKeyAt(url: URL): Promise<Uint8Array<ArrayBuffer>> {
    const cached = keys.get(url.href);
    if (cached) return cached;
    let response: Response;
    try {
      // No redirects: a 3xx could lead anywhere, and only the SNS host is trusted.
      response = await opts.fetch(url.href, { method: 'GET', redirect: 'manual' });
    } catch (err) {
      throw new SnsCertificateUnavailable(`could not fetch the SNS signing certificate: ${(err as Error).message}`);
    }
    if (response.status !== 200) throw new WebhookAuthError(`The SNS signing certificate answered ${response.status}.`);
    const pem = await response.text();
    let spki: Uint8Array<ArrayBuffer>;
    try {
      const der = pem.length <= 16_384 ? pemCertificateToDer(pem) : undefined;
      if (!der) throw new Error('not PEM');
      spki = spkiOfCertificate(der);
    } catch {
      throw new WebhookAuthError('The SNS signing certificate could not be read.');
    }
    if (keys.size >= cacheSize) keys.delete(keys.keys().next().value!);
    keys.set(url.href, spki);
    return spki;
  }

  /**
   * Throws WebhookAuthError unless `m` is from one of `topicArns`, recent, and signed by SNS with a
   * certificate from an SNS host. The topic and the certificate's host are checked before anything is
   * fetched.
   */
  async function verify(m: SnsEnvelope, topicArns: readonly string[], now: Date): Promise<void> {
    if (!topicArns.includes(m.TopicArn))
      throw new WebhookAuthError('This topic is not one this endpoint accepts (SES_SNS_TOPIC_ARNS).');
    const hash = m.SignatureVersion === '1' ? 'SHA-1' : m.SignatureVersion === '2' ? 'SHA-256' : undefined;
    if (!hash || !m.Signature) throw new WebhookAuthError('Missing or unsupported SNS SignatureVersion or Signature.');
    const certUrl = snsUrl(m.SigningCertURL);
    if (!certUrl?.pathname.endsWith('.pem'))
      throw new WebhookAuthError('The SigningCertURL is not on an sns.<region>.amazonaws.com host over https.');
    const published = Date.parse(m.Timestamp);
    const age = (now.getTime() - published) / 1000;
    if (!Number.isFinite(age) || age > SNS_MAX_AGE_SECONDS || age < -SNS_MAX_FUTURE_SECONDS) {
      throw new WebhookAuthError('The SNS Timestamp is outside the accepted window.');
    }
    const signature = fromBase64(m.Signature);
    if (!signature) throw new WebhookAuthError('The SNS Signature is not base64.');
    const spki = await publicKeyAt(certUrl);
    let ok = false;
    try {
      const key = await crypto.subtle.importKey('spki', spki, { name: 'RSASSA-PKCS1-v1_5', hash }, false, ['verify']);
      ok = await crypto.subtle.verify('RSASSA-PKCS1-v1_5', key, signature, utf8(snsStringToSign(m)));
    } catch {
      ok = false;
    }
    if (!ok) throw new WebhookAuthError('The SNS signature does not match.');
  }

  /** GET the SubscribeURL of a verified SubscriptionConfirmation; only ever on an SNS host. */
  async function confirmSubscription(m: SnsEnvelope): Promise<boolean> {
    const url = snsUrl(m.SubscribeURL);
    if (url?.searchParams.get('Action') !== 'ConfirmSubscription') return false;
    try {
      const response = await opts.fetch(url.href, { method: 'GET', redirect: 'manual' });
      return response.status === 200;
    } catch {
      return false;
    }
  }

  return { verify, confirmSubscription };
}

export type SnsVerifier = ReturnType<typeof createSnsVerifier>;
