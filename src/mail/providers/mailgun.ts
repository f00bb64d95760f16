import { addressOf } from '../headers.js';
import type { MailError, Mailer, OutgoingMessage, SendResult } from '../mailer.js';
import { type ApiCall, callApi, failure, readBody, statusFailure } from './http.js';
import { composeMime, sendConcurrently } from './per-message.js';

/*
 * Mailgun's Messages API, over fetch (Node and Workers):
 *   https://documentation.mailgun.com/docs/mailgun/api-reference/send/mailgun/messages/post-v3--domain-name--messages-mime
 *       POST /v3/{domain}/messages.mime: `to` and the MIME `message` as a file part; response `{ id, message }`
 *   https://documentation.mailgun.com/docs/mailgun/user-manual/sending-messages/batch-sending (recipient variables)
 *   https://documentation.mailgun.com/docs/mailgun/quickstart-guide/responses (status codes)
 *   https://documentation.mailgun.com/docs/mailgun/api-reference/authentication (HTTP Basic, user `api`)
 *
 * Why messages.mime, one message per request, and not batch sending: a batch is one body sent to up to a
 * thousand recipients, made personal by `%recipient.name%` substitutions from `recipient-variables`. Our
 * messages arrive finished, each with its own unsubscribe and preference links in the body and its own
 * Message-ID and List-Unsubscribe. The batch-sending page documents substitution in the message, not in
 * `h:` header values (nor a Message-ID per recipient), and turning finished bodies back into one template
 * would be guesswork; a wrong guess would send one reader's unsubscribe link to another. messages.mime
 * carries our MIME as built, headers and all. `sendBatch` runs several requests at once instead.
 *
 * The envelope sender is Mailgun's own (it tracks bounces itself), so a VERP `envelopeFrom` is not used:
 * Mailgun's events name the message by its Message-ID, which is ours.
 */

export interface MailgunOptions {
  apiKey: string;
  /** The sending domain as set up in Mailgun (`mg.example.com`). */
  domain: string;
  /** Accounts live in one region; an EU domain is unknown (401) to the US API and the reverse. */
  region?: 'us' | 'eu' | undefined;
  /** Overrides the region's API host (a stand-in's URL in tests). */
  baseUrl?: string | undefined;
  /** `o:testmode`: Mailgun accepts and records but does not deliver. */
  testMode?: boolean | undefined;
  maxBatch?: number | undefined;
  /** Requests in flight at once within one `sendBatch`. */
  concurrency?: number | undefined;
  timeoutMs?: number | undefined;
  /** A stand-in for the global fetch (tests). */
  fetch?: typeof fetch | undefined;
}

export const MAILGUN_API = { us: 'https://api.mailgun.net', eu: 'https://api.eu.mailgun.net' } as const;

export function createMailgunMailer(opts: MailgunOptions): Mailer {
  const base = (opts.baseUrl ?? MAILGUN_API[opts.region ?? 'us']).replace(/\/+$/, '');
  const endpoint = `${base}/v3/${encodeURIComponent(opts.domain)}/messages.mime`;
  const call: ApiCall = {
    provider: 'mailgun',
    secrets: [opts.apiKey],
    timeoutMs: opts.timeoutMs ?? 30_000,
    fetch: opts.fetch,
  };
  const authorization = `Basic ${btoa(`api:${opts.apiKey}`)}`;

  const send = async (message: OutgoingMessage): Promise<SendResult> => {
    const raw = message.raw ?? (await composeMime(message));
    const form = new FormData();
    // Only this recipient, whatever the MIME's header fields say (like an SMTP envelope).
    form.append('to', addressOf(message.to));
    form.append('message', new Blob([new Uint8Array(raw)], { type: 'message/rfc822' }), 'message.mime');
    if (opts.testMode) form.append('o:testmode', 'yes');
    const response = await callApi(
      new Request(endpoint, {
        method: 'POST',
        headers: { Authorization: authorization, Accept: 'application/json' },
        body: form,
      }),
      call,
    );
    if (response.ok) {
      // Accepted: never throw from here on, or the engine would send it again.
      const id = await response.json().then(
        (b: unknown) => (b as { id?: unknown } | null)?.id,
        () => undefined,
      );
      // Events carry the Message-ID without angle brackets; so is it kept.
      return {
        messageId: message.messageId,
        providerMessageId: typeof id === 'string' ? id.replace(/^<|>$/g, '') : undefined,
        response: `${response.status}`,
      };
    }
    const { text, json } = await readBody(response, call);
    throw mailgunError(call, response, text, json);
  };

  return {
    name: 'mailgun',
    maxBatch: opts.maxBatch ?? 10,
    send,
    sendBatch: (messages) => sendConcurrently(send, messages, opts.concurrency ?? 4),
    async close() {},
  };
}

/**
 * Mailgun answers errors with `{ "message": … }` (400 and most others) or a bare text such as `Forbidden`
 * (401). A 400 about the `to` address is a bad address for good; other 400s reject this message as built.
 */
function mailgunError(call: ApiCall, response: Response, text: string, json: unknown): MailError {
  const said =
    typeof (json as { message?: unknown } | undefined)?.message === 'string'
      ? (json as { message: string }).message
      : text.trim().slice(0, 200);
  if (response.status === 400 && /\bto\b.*\b(not a valid|invalid)\b/i.test(said))
    return failure(call, `HTTP 400: ${said}`, true, { responseCode: 400, hardBounce: true });
  return statusFailure(call, response, said);
}
