import { AwsClient } from 'aws4fetch';
import { addressOf } from '../headers.js';
import type { MailError, Mailer, OutgoingMessage, SendResult } from '../mailer.js';
import { type ApiCall, callApi, failure, readBody, retryAfterMs, statusFailure } from './http.js';
import { composeMime, sendConcurrently } from './per-message.js';

/*
 * Amazon SES API v2, SendEmail with a raw MIME message:
 * https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendEmail.html (request, response, errors)
 * https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_RawMessage.html (base64 MIME, line length)
 * https://docs.aws.amazon.com/ses/latest/dg/manage-sending-quotas-errors.html (throttling)
 * https://docs.aws.amazon.com/ses/latest/dg/mail-from.html (the envelope sender is SES's own)
 *
 * One request per message: SES's only batch form, SendBulkEmail, takes a stored template, not finished
 * MIME, and our messages are finished per recipient. `sendBatch` runs several requests at once instead.
 *
 * Envelope sender: SES always sends with its own MAIL FROM (a subdomain of amazonses.com, or of a custom
 * MAIL FROM domain set on the identity, whose local part SES still chooses), so a per-recipient VERP
 * return path cannot be carried. Bounces come back through SES's event notifications, which name the SES
 * MessageId we record as providerMessageId. With `forwardFeedbackToEnvelopeFrom`, the VERP address goes in
 * FeedbackForwardingEmailAddress, so SES's emailed bounce notices reach the bounce mailbox addressed to
 * the delivery; that address must be on a verified identity, or SES rejects every message.
 */

export interface SesOptions {
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string | undefined;
  /** Default `https://email.<region>.amazonaws.com`; a stand-in's URL in tests. */
  baseUrl?: string | undefined;
  configurationSetName?: string | undefined;
  forwardFeedbackToEnvelopeFrom?: boolean | undefined;
  maxBatch?: number | undefined;
  /** Requests in flight at once within one `sendBatch`. */
  concurrency?: number | undefined;
  timeoutMs?: number | undefined;
  /** A stand-in for the global fetch (tests). */
  fetch?: typeof fetch | undefined;
}

/** SES reports these as 400s, but they concern the account or its configuration, not the recipient. */
const ACCOUNT_FAULTS = new Set([
  'AccountSuspendedException',
  'SendingPausedException',
  'MailFromDomainNotVerifiedException',
  // A configuration set that does not exist, or an account limit: the same for every message.
  'NotFoundException',
  'LimitExceededException',
]);
const THROTTLED = new Set(['TooManyRequestsException', 'ThrottlingException']);
/** SES sends no Retry-After. Its sending rate is counted per second; for the daily quota its guide says
 * to wait some minutes before trying again. */
const RATE_WAIT_MS = 1_000;
const DAILY_QUOTA_WAIT_MS = 10 * 60_000;

export function createSesMailer(opts: SesOptions): Mailer {
  const endpoint = `${(opts.baseUrl ?? `https://email.${opts.region}.amazonaws.com`).replace(/\/+$/, '')}/v2/email/outbound-emails`;
  // aws4fetch retries 5xx and throttling replies by itself; the outbox engine owns retries, so it must not.
  const aws = new AwsClient({
    accessKeyId: opts.accessKeyId,
    secretAccessKey: opts.secretAccessKey,
    ...(opts.sessionToken ? { sessionToken: opts.sessionToken } : {}),
    service: 'ses',
    region: opts.region,
    retries: 0,
  });
  const call: ApiCall = {
    provider: 'ses',
    secrets: [opts.secretAccessKey, ...(opts.sessionToken ? [opts.sessionToken] : [])],
    timeoutMs: opts.timeoutMs ?? 30_000,
    fetch: opts.fetch,
  };

  const send = async (message: OutgoingMessage): Promise<SendResult> => {
    const raw = message.raw ?? (await composeMime(message));
    const body = {
      FromEmailAddress: addressOf(message.from),
      // Only this recipient, whatever the MIME's header fields say (like an SMTP envelope).
      Destination: { ToAddresses: [addressOf(message.to)] },
      Content: { Raw: { Data: raw.toString('base64') } },
      ...(opts.configurationSetName ? { ConfigurationSetName: opts.configurationSetName } : {}),
      ...(opts.forwardFeedbackToEnvelopeFrom && message.envelopeFrom
        ? { FeedbackForwardingEmailAddress: message.envelopeFrom }
        : {}),
    };
    const request = await aws.sign(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const response = await callApi(request, call);
    if (response.ok) {
      // Accepted: never throw from here on, or the engine would send it again.
      const id = await response.json().then(
        (b: unknown) => (b as { MessageId?: unknown } | null)?.MessageId,
        () => undefined,
      );
      return {
        messageId: message.messageId,
        providerMessageId: typeof id === 'string' ? id : undefined,
        response: `${response.status}`,
      };
    }
    const { text, json } = await readBody(response, call);
    throw sesError(call, response, text, json, addressOf(message.from));
  };

  return {
    name: 'ses',
    maxBatch: opts.maxBatch ?? 10,
    send,
    sendBatch: (messages) => sendConcurrently(send, messages, opts.concurrency ?? 4),
    async close() {},
  };
}

/**
 * SES v2 speaks AWS's REST-JSON protocol: the error's name is in the `x-amzn-ErrorType` header (possibly
 * followed by `:` and a namespace URL), or in the body's `__type`/`code`; the text is the body's `message`.
 */
function sesError(call: ApiCall, response: Response, text: string, json: unknown, from: string): MailError {
  const body = json && typeof json === 'object' ? (json as Record<string, unknown>) : undefined;
  const rawType =
    response.headers.get('x-amzn-errortype') ??
    (body?.__type as string | undefined) ??
    (body?.code as string | undefined) ??
    '';
  const code = rawType.split(':')[0]!.split('#').pop()!;
  const said = String(body?.message ?? body?.Message ?? '').split('\n')[0]!;
  const detail = [code, said].filter(Boolean).join(': ');
  const status = response.status;
  if (status === 429 || THROTTLED.has(code)) {
    const wait = retryAfterMs(response.headers) ?? (/daily/i.test(said) ? DAILY_QUOTA_WAIT_MS : RATE_WAIT_MS);
    return failure(call, `HTTP ${status}: ${detail}`, false, {
      responseCode: status,
      rateLimited: true,
      retryAfterMs: wait,
    });
  }
  // "Email address is not verified" names the identities that failed: when the sender is among them (an
  // unverified From, or a sandbox account), every message would fail alike; it is not this recipient.
  const senderRefused =
    code === 'MessageRejected' && /not verified/i.test(said) && said.toLowerCase().includes(from.toLowerCase());
  if (ACCOUNT_FAULTS.has(code) || senderRefused)
    return failure(call, `HTTP ${status}: ${detail}`, false, { responseCode: status, relayUnavailable: true });
  // MessageRejected and BadRequestException: this message, as it is, will never be accepted.
  return statusFailure(call, response, detail || text.slice(0, 200));
}
