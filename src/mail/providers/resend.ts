import type { BatchOutcome, MailError, Mailer, OutgoingMessage, SendResult } from '../mailer.js';
import { type ApiCall, callApi, chunk, failure, readBody, sendInChunks, sha256Hex, statusFailure } from './http.js';

/*
 * Resend's email API, over fetch (Node and Workers):
 *   https://resend.com/docs/api-reference/introduction        (base URL, Bearer auth, User-Agent required)
 *   https://resend.com/docs/api-reference/emails/send-email
 *   https://resend.com/docs/api-reference/emails/send-batch-emails
 *   https://resend.com/docs/dashboard/emails/batch-validation-modes
 *   https://resend.com/docs/dashboard/emails/idempotency-keys
 *   https://resend.com/docs/dashboard/emails/custom-headers
 *   https://resend.com/docs/api-reference/errors
 */

export const RESEND_MAX_BATCH = 100;
/** "Idempotency keys can be up to 256 characters" (idempotency-keys). */
const MAX_KEY_LENGTH = 256;

export interface ResendOptions {
  /** `re_…` */
  apiKey: string;
  baseUrl?: string | undefined;
  timeoutMs?: number | undefined;
  /** Resend refuses requests without a User-Agent (introduction, "User-Agent"); Workers' fetch sends none. */
  userAgent?: string | undefined;
  fetch?: typeof fetch | undefined;
}

interface ResendEmail {
  from: string;
  to: string[];
  subject: string;
  html: string;
  text: string;
  headers: Record<string, string>;
}

/** Resend's error body: `{ statusCode, message, name }` (errors). */
interface ResendErrorBody {
  statusCode?: number;
  message?: string;
  name?: string;
}

export function createResendMailer(opts: ResendOptions): Mailer {
  const baseUrl = (opts.baseUrl ?? 'https://api.resend.com').replace(/\/+$/, '');
  const call: ApiCall = {
    provider: 'resend',
    secrets: [opts.apiKey],
    timeoutMs: opts.timeoutMs ?? 30_000,
    fetch: opts.fetch,
  };

  const post = async (path: string, body: unknown, headers: Record<string, string>) => {
    const response = await callApi(
      new Request(`${baseUrl}${path}`, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${opts.apiKey}`,
          'Content-Type': 'application/json',
          'User-Agent': opts.userAgent ?? 'quire',
          ...headers,
        },
        body: JSON.stringify(body),
      }),
      call,
    );
    return { response, ...(await readBody(response, call)) };
  };

  const send = async (message: OutgoingMessage): Promise<SendResult> => {
    const key = message.idempotencyKey ? await fitKey(message.idempotencyKey) : undefined;
    const { response, json, text } = await post('/emails', toResend(message), key ? { 'Idempotency-Key': key } : {});
    if (key && acceptedBefore(response, json)) return alreadySent(message);
    if (!response.ok) throw errorOf(call, response, json, text);
    const id = (json as { id?: unknown } | undefined)?.id;
    if (typeof id !== 'string') throw failure(call, `unexpected answer to /emails: ${text.slice(0, 200)}`, false);
    return { messageId: message.messageId, providerMessageId: id, response: `resend ${id}` };
  };

  /*
   * Exactly once across a crash between Resend's acceptance and our settle: Resend keeps an
   * Idempotency-Key for 24 hours and answers a repeat of the same key and body with the first response,
   * without sending again (idempotency-keys). /emails/batch takes one key per request, so the key is derived
   * from the messages' own keys (the outbox rows), sorted, and the request lists the messages in that sorted
   * order: the same rows, in whatever order the engine hands them over, make the same key and the same body.
   *
   * Limits: the guarantee covers a retry of the same set of rows within 24 hours. If rows accepted in one
   * request were regrouped with others after a crash, the new request has another key and Resend would
   * send those rows again; the engine keeps the rows of one request together across a crash for that reason.
   * A request answered 409 invalid_idempotent_request (the same rows with other content — a message rendered
   * again after a crash carries freshly signed links) was accepted before: its rows count as sent.
   *
   * Per-message validation: x-batch-validation: permissive, so one invalid message does not sink the
   * request; Resend returns `data` for the created emails and `errors: [{ index, message }]` for the rest
   * (batch-validation-modes). The default, strict, would reject all of them for one bad address.
   */
  const sendChunk = async (messages: OutgoingMessage[], requestKey?: string): Promise<BatchOutcome[]> => {
    if (messages.length === 1 && !requestKey) {
      // One message: the single endpoint with the message's own key, so that a row sent alone and then
      // alone again (the common retry) is deduplicated however the engine chose to call us.
      try {
        return [{ ok: true, result: await send(messages[0]!) }];
      } catch (err) {
        // As for a batch request: only a verdict on this message is an outcome; the rest failed as a whole.
        const error = err as MailError;
        if (!error.permanent) throw error;
        return [{ ok: false, error }];
      }
    }
    const key = requestKey
      ? `quire-batch/${requestKey}`
      : `quire-batch/${await sha256Hex(messages.map(keyOf).join('\n'))}`;
    const { response, json, text } = await post('/emails/batch', messages.map(toResend), {
      'Idempotency-Key': key,
      'x-batch-validation': 'permissive',
    });
    if (acceptedBefore(response, json)) return messages.map((m) => ({ ok: true, result: alreadySent(m) }));
    if (!response.ok) throw errorOf(call, response, json, text, true);
    const body = json as { data?: unknown; errors?: unknown } | undefined;
    const data = Array.isArray(body?.data) ? (body.data as { id?: unknown }[]) : undefined;
    const errors =
      body?.errors === undefined
        ? []
        : Array.isArray(body.errors)
          ? (body.errors as { index?: unknown; message?: unknown }[])
          : undefined;
    if (!data || !errors || data.length + errors.length !== messages.length)
      throw failure(call, `unexpected answer to /emails/batch: ${text.slice(0, 200)}`, false);
    const rejected = new Map(errors.map((e) => [Number(e.index), String(e.message ?? 'rejected')]));
    const created = data[Symbol.iterator]();
    return messages.map((message, index): BatchOutcome => {
      const reason = rejected.get(index);
      if (reason !== undefined) return { ok: false, error: validationError(call, 422, reason) };
      const id = created.next().value?.id;
      if (typeof id !== 'string')
        return { ok: false, error: failure(call, 'answer without an id for this message', false) };
      return { ok: true, result: { messageId: message.messageId, providerMessageId: id, response: `resend ${id}` } };
    });
  };

  return {
    name: 'resend',
    maxBatch: RESEND_MAX_BATCH,
    idempotentBatches: true,
    send,
    async sendBatch(messages, options) {
      // Sorted by key before splitting, so the same rows always make the same requests (see above).
      const order = messages
        .map((m, i) => ({ key: keyOf(m), i }))
        .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.i - b.i));
      const chunks = chunk(
        order.map((o) => o.i),
        RESEND_MAX_BATCH,
      );
      // A key from the engine names exactly this request (its rows share it in the outbox until settled).
      if (options?.idempotencyKey && messages.length <= RESEND_MAX_BATCH) {
        const sorted = order.map((o) => messages[o.i]!);
        const outcomes = await sendChunk(sorted, options.idempotencyKey);
        const back: BatchOutcome[] = new Array(messages.length);
        order.forEach((o, n) => {
          back[o.i] = outcomes[n]!;
        });
        return back;
      }
      return sendInChunks(messages, chunks, (c) => sendChunk(c));
    },
    async close() {},
  };
}

const keyOf = (m: OutgoingMessage) => m.idempotencyKey ?? m.messageId;

/** 409 invalid_idempotent_request: this key was used within 24 hours for other content (idempotency-keys). */
const acceptedBefore = (response: Response, json: unknown) =>
  response.status === 409 && (json as ResendErrorBody | undefined)?.name === 'invalid_idempotent_request';

/** A message Resend accepted under this key before; its id was in the answer we never read. */
const alreadySent = (m: OutgoingMessage): SendResult => ({
  messageId: m.messageId,
  response: 'resend: accepted before under this idempotency key',
});

/** A key over Resend's length limit is replaced by its digest, which is as stable as the key itself. */
async function fitKey(key: string): Promise<string> {
  return key.length <= MAX_KEY_LENGTH ? key : `quire/${await sha256Hex(key)}`;
}

/**
 * The message as Resend's email object. Our header fields go in `headers` ("Custom headers to add to the
 * email", custom-headers), with our Message-ID among them so replies and bounces can be matched on it;
 * Resend documents no header it refuses. `raw` is not used: the API builds the MIME itself.
 */
function toResend(m: OutgoingMessage): ResendEmail {
  return {
    from: m.from,
    to: [m.to],
    subject: m.subject,
    html: m.html,
    text: m.text,
    headers: { 'Message-ID': m.messageId, ...m.headers },
  };
}

/** `wholeBatch`: the answer refuses a batch request as a whole, so it says nothing about any one recipient. */
function errorOf(call: ApiCall, response: Response, json: unknown, text: string, wholeBatch = false): MailError {
  const body = (json ?? {}) as ResendErrorBody;
  const detail = body.name || body.message ? `${body.name ?? 'error'}: ${body.message ?? ''}` : text.slice(0, 200);
  // 409 concurrent_idempotent_requests (errors; idempotency-keys): "it is safe to retry this request later".
  // (invalid_idempotent_request is read as "accepted before" by the callers, see the batch comment.)
  if (response.status === 409) return failure(call, `HTTP 409: ${detail}`, false, { responseCode: 409 });
  // 400 validation_error, 422 missing_required_field / invalid_parameter: this message, for good.
  if (response.status === 400 || response.status === 422)
    return validationError(call, response.status, detail, !wholeBatch);
  return statusFailure(call, response, detail);
}

/** A message Resend will not take. An invalid `to` address is a hard bounce: it will never be deliverable. */
function validationError(call: ApiCall, status: number, detail: string, aboutOneMessage = true): MailError {
  const badRecipient = aboutOneMessage && /`to`/i.test(detail) && /invalid|format/i.test(detail);
  return failure(call, `HTTP ${status}: ${detail}`, true, { responseCode: status, hardBounce: badRecipient });
}
