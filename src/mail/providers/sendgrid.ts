import { addressOf } from '../headers.js';
import type { MailError, Mailer, OutgoingMessage, SendResult } from '../mailer.js';
import { type ApiCall, callApi, failure, readBody, statusFailure } from './http.js';
import { sendConcurrently } from './per-message.js';

/*
 * Twilio SendGrid v3 Mail Send, over fetch (Node and Workers):
 *   https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send (request body, 202 and X-Message-Id)
 *   https://www.twilio.com/docs/sendgrid/for-developers/sending-email/personalizations
 *   https://www.twilio.com/docs/sendgrid/api-reference/mail-send/errors (400 field errors, reserved headers)
 *   https://www.twilio.com/docs/sendgrid/api-reference/how-to-use-the-sendgrid-v3-api/rate-limits (429 and
 *       X-RateLimit-Reset)
 *
 * Why one personalization per request: a request has one `content` for all its personalizations; they may
 * differ only through substitution tags in it. Our messages arrive finished, each with its own links in
 * the body, so batching would mean turning finished bodies back into one template, and a wrong guess
 * would send one reader's unsubscribe link to another. Each request carries one message, its own content,
 * and its per-recipient headers in `personalizations[0].headers`; `sendBatch` runs several at once.
 *
 * X-Message-Id names the request. SendGrid's events carry `sg_message_id`, which is that id followed by a
 * dot and a suffix of SendGrid's own: match events on the part before the first dot (or on the
 * `quire_message_id` custom argument, our Message-ID, which every event carries).
 *
 * The envelope sender is SendGrid's own (it handles bounces), so a VERP `envelopeFrom` is not used.
 */

export interface SendgridOptions {
  apiKey: string;
  /** Default `https://api.sendgrid.com`; `https://api.eu.sendgrid.com` for EU regional subusers. */
  baseUrl?: string | undefined;
  /** `mail_settings.sandbox_mode`: SendGrid validates the request (200) and sends nothing. */
  sandbox?: boolean | undefined;
  maxBatch?: number | undefined;
  /** Requests in flight at once within one `sendBatch`. */
  concurrency?: number | undefined;
  timeoutMs?: number | undefined;
  /** A stand-in for the global fetch (tests). */
  fetch?: typeof fetch | undefined;
}

/**
 * Header names SendGrid refuses in `headers` (its errors page): it writes them itself from the request's
 * fields. Reply-To goes in `reply_to`; the others come from fields we always fill in.
 */
const RESERVED = new Set([
  'x-sg-id',
  'x-sg-eid',
  'received',
  'dkim-signature',
  'content-type',
  'content-transfer-encoding',
  'to',
  'from',
  'subject',
  'reply-to',
  'cc',
  'bcc',
]);

export function createSendgridMailer(opts: SendgridOptions): Mailer {
  const endpoint = `${(opts.baseUrl ?? 'https://api.sendgrid.com').replace(/\/+$/, '')}/v3/mail/send`;
  const call: ApiCall = {
    provider: 'sendgrid',
    secrets: [opts.apiKey],
    timeoutMs: opts.timeoutMs ?? 30_000,
    fetch: opts.fetch,
  };

  const send = async (message: OutgoingMessage): Promise<SendResult> => {
    const response = await callApi(
      new Request(endpoint, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${opts.apiKey}`,
          'Content-Type': 'application/json',
          Accept: 'application/json',
        },
        body: JSON.stringify(toSendgrid(message, opts.sandbox === true)),
      }),
      call,
    );
    if (response.ok) {
      // Accepted (202; 200 in sandbox mode): never throw from here on, or the engine would send it again.
      await response.body?.cancel().catch(() => {});
      return {
        messageId: message.messageId,
        providerMessageId: response.headers.get('x-message-id') ?? undefined,
        response: `${response.status}`,
      };
    }
    const { text, json } = await readBody(response, call);
    throw sendgridError(call, response, text, json);
  };

  return {
    name: 'sendgrid',
    maxBatch: opts.maxBatch ?? 10,
    send,
    sendBatch: (messages) => sendConcurrently(send, messages, opts.concurrency ?? 4),
    async close() {},
  };
}

export function toSendgrid(m: OutgoingMessage, sandbox = false) {
  const headers: Record<string, string> = {};
  let replyTo: string | undefined;
  for (const [name, value] of Object.entries(m.headers)) {
    if (name.toLowerCase() === 'reply-to') replyTo = value;
    else if (!RESERVED.has(name.toLowerCase())) headers[name] = value;
  }
  headers['Message-ID'] = m.messageId;
  return {
    personalizations: [{ to: [mailbox(m.to)], headers, custom_args: { quire_message_id: m.messageId } }],
    from: mailbox(m.from),
    ...(replyTo ? { reply_to: mailbox(replyTo) } : {}),
    subject: m.subject,
    // text/plain must come first, then text/html (errors page, content.value); an empty part is refused.
    content: [
      ...(m.text ? [{ type: 'text/plain', value: m.text }] : []),
      ...(m.html ? [{ type: 'text/html', value: m.html }] : []),
    ],
    ...(sandbox ? { mail_settings: { sandbox_mode: { enable: true } } } : {}),
  };
}

/** `Name <a@b>` → `{ email, name }`, as SendGrid's email objects take it. */
function mailbox(value: string): { email: string; name?: string } {
  const email = addressOf(value);
  const name = value
    .replace(/<[^<>]*>\s*$/, '')
    .trim()
    .replace(/^"(.*)"$/, '$1')
    .replace(/\\(.)/g, '$1');
  return name && name !== email ? { email, name } : { email };
}

/**
 * SendGrid answers errors with `{ errors: [{ message, field, help }] }`. A 400 on a recipient's address
 * (`personalizations.N.to…`) is a bad address for good; other 400s reject this message as built; 401 and
 * 403 (a bad key, or a From that is not a verified sender) are faults of the whole transport.
 */
function sendgridError(call: ApiCall, response: Response, text: string, json: unknown): MailError {
  const errors = (json as { errors?: { message?: unknown; field?: unknown }[] } | undefined)?.errors;
  const first = Array.isArray(errors) ? errors[0] : undefined;
  const said = first
    ? [first.field && first.field !== 'null' ? `${String(first.field)}:` : '', String(first.message ?? '')]
        .filter(Boolean)
        .join(' ')
    : text.slice(0, 200);
  if (response.status === 400 && typeof first?.field === 'string' && /^personalizations\.\d+\.to\b/.test(first.field))
    return failure(call, `HTTP 400: ${said}`, true, { responseCode: 400, hardBounce: true });
  return statusFailure(call, response, said);
}
