import type { BatchOutcome, MailError, Mailer, OutgoingMessage, SendResult } from '../mailer.js';
import {
  type ApiCall,
  callApi,
  chunk,
  failure,
  jsonArray,
  readBody,
  retryAfterMs,
  sendInChunks,
  statusFailure,
  utf8,
  wholeTransport,
} from './http.js';

/*
 * Postmark's Email API, over fetch (Node and Workers):
 *   https://postmarkapp.com/developer/api/overview                         (auth, HTTP status codes, API error codes)
 *   https://postmarkapp.com/developer/api/email-api                        (POST /email, POST /email/batch)
 *   https://postmarkapp.com/developer/user-guide/send-email-with-api/batch-emails
 *   https://postmarkapp.com/support/article/1056-what-are-the-attachment-and-email-size-limits
 */

/** "up to 500 messages per API call, and up to 50 MB payload size" (batch-emails). */
export const POSTMARK_MAX_BATCH = 500;
export const POSTMARK_MAX_BATCH_BYTES = 50_000_000;

export interface PostmarkOptions {
  serverToken: string;
  baseUrl?: string | undefined;
  /**
   * The message stream (`MessageStream`), or a choice per message. Postmark uses the server's default
   * transactional stream ("outbound") when none is named, and bulk mail belongs on a broadcast stream.
   */
  messageStream?: string | ((message: OutgoingMessage) => string | undefined) | undefined;
  timeoutMs?: number | undefined;
  userAgent?: string | undefined;
  /** The batch payload limit; smaller in tests, to exercise the split. */
  maxBatchBytes?: number | undefined;
  fetch?: typeof fetch | undefined;
}

interface PostmarkResult {
  ErrorCode?: number;
  Message?: string;
  MessageID?: string;
  To?: string;
  SubmittedAt?: string;
}

/**
 * API error codes (overview, "API error codes") that say the server, token, sender or stream is wrong, not
 * the recipient: 10 bad or missing token, 400/401 sender signature not found / not confirmed, 405 not
 * allowed to send (out of credits), 412 account pending, 413 account may not send, 1235/1236 unknown or
 * inbound message stream. Every message would fail alike; none may be marked failed for it.
 */
const MISCONFIGURED = new Set([10, 400, 401, 405, 412, 413, 1235, 1236]);

export function createPostmarkMailer(opts: PostmarkOptions): Mailer {
  const baseUrl = (opts.baseUrl ?? 'https://api.postmarkapp.com').replace(/\/+$/, '');
  const call: ApiCall = {
    provider: 'postmark',
    secrets: [opts.serverToken],
    timeoutMs: opts.timeoutMs ?? 30_000,
    fetch: opts.fetch,
  };
  const maxBytes = opts.maxBatchBytes ?? POSTMARK_MAX_BATCH_BYTES;
  const streamOf = (m: OutgoingMessage) =>
    typeof opts.messageStream === 'function' ? opts.messageStream(m) : opts.messageStream;

  // Postmark wants both Accept and Content-Type as application/json (error 409 "JSON required").
  const post = async (path: string, body: string | Uint8Array<ArrayBuffer>) => {
    const response = await callApi(
      new Request(`${baseUrl}${path}`, {
        method: 'POST',
        headers: {
          Accept: 'application/json',
          'Content-Type': 'application/json',
          'X-Postmark-Server-Token': opts.serverToken,
          'User-Agent': opts.userAgent ?? 'quire',
        },
        body,
      }),
      call,
    );
    return { response, ...(await readBody(response, call)) };
  };

  /** `wholeBatch`: the answer refuses a batch request as a whole, so it says nothing about any one recipient. */
  const requestError = (response: Response, json: unknown, text: string, wholeBatch = false): MailError => {
    const body = json as PostmarkResult | undefined;
    // 422 carries `{ ErrorCode, Message }` (overview, "HTTP response codes"); the code says more than the status.
    if (response.status === 422 && typeof body?.ErrorCode === 'number')
      return codeError(call, body.ErrorCode, body.Message ?? '', response.headers, !wholeBatch);
    return statusFailure(call, response, body?.Message ?? text.slice(0, 200));
  };

  const send = async (message: OutgoingMessage): Promise<SendResult> => {
    const { response, json, text } = await post('/email', JSON.stringify(toPostmark(message, streamOf(message))));
    if (!response.ok) throw requestError(response, json, text);
    const outcome = outcomeOf(call, message, json as PostmarkResult, response.headers);
    if (!outcome.ok) throw outcome.error;
    return outcome.result;
  };

  // A batch answers 200 with one result per message, in order, each with its own ErrorCode (batch-emails).
  const sendChunk = async (messages: OutgoingMessage[], bodies: Uint8Array[]): Promise<BatchOutcome[]> => {
    const { response, json, text } = await post('/email/batch', jsonArray(bodies));
    if (!response.ok) throw requestError(response, json, text, true);
    if (!Array.isArray(json) || json.length !== messages.length)
      throw failure(call, `unexpected answer to /email/batch: ${text.slice(0, 200)}`, false);
    const outcomes = messages.map((m, i) => outcomeOf(call, m, json[i] as PostmarkResult, response.headers));
    // Nothing accepted and every refusal a fault of the whole transport: that is a failed request.
    const first = outcomes[0];
    if (first && !first.ok && outcomes.every((o) => !o.ok && wholeTransport(o.error))) throw first.error;
    return outcomes;
  };

  return {
    name: 'postmark',
    maxBatch: POSTMARK_MAX_BATCH,
    send,
    async sendBatch(messages) {
      const bodies = messages.map((m) => utf8(JSON.stringify(toPostmark(m, streamOf(m)))));
      // The 50 MB is per request: split by serialised size as well as by count.
      const chunks = chunk(
        messages.map((_, i) => i),
        POSTMARK_MAX_BATCH,
        maxBytes,
        (i) => bodies[i]!.length,
      );
      return sendInChunks(messages, chunks, (part, indices) =>
        sendChunk(
          part,
          indices.map((i) => bodies[i]!),
        ),
      );
    },
    async close() {},
  };
}

/**
 * The message as Postmark's JSON. Our header fields, Message-ID first, go in `Headers: [{ Name, Value }]`
 * (email-api, "Headers: List of custom headers to include"). `raw` is not used: the API builds the MIME.
 */
function toPostmark(m: OutgoingMessage, stream: string | undefined) {
  const headers = [
    { Name: 'Message-ID', Value: m.messageId },
    ...Object.entries(m.headers).map(([Name, Value]) => ({ Name, Value })),
  ];
  return {
    From: m.from,
    To: m.to,
    Subject: m.subject,
    HtmlBody: m.html,
    TextBody: m.text,
    Headers: headers,
    ...(stream ? { MessageStream: stream } : {}),
  };
}

function outcomeOf(
  call: ApiCall,
  message: OutgoingMessage,
  result: PostmarkResult | undefined,
  headers: Headers,
): BatchOutcome {
  if (result?.ErrorCode === 0 && typeof result.MessageID === 'string') {
    return {
      ok: true,
      result: {
        messageId: message.messageId,
        providerMessageId: result.MessageID,
        response: `postmark ${result.MessageID}`,
      },
    };
  }
  if (typeof result?.ErrorCode !== 'number' || result.ErrorCode === 0)
    return { ok: false, error: failure(call, 'answer without a MessageID', false) };
  return { ok: false, error: codeError(call, result.ErrorCode, result.Message ?? '', headers) };
}

/**
 * A Postmark API error code as a MailError (overview, "API error codes"). `responseCode` is 422, the status
 * the same refusal gets from POST /email, also for a batch's per-message results (which come with 200).
 */
function codeError(call: ApiCall, code: number, message: string, headers: Headers, aboutOneMessage = true): MailError {
  const text = `ErrorCode ${code}: ${message}`;
  const responseCode = 422;
  // 406 inactive recipient: on Postmark's suppression list (hard bounce, spam complaint, manual suppression).
  if (code === 406) return failure(call, text, true, { responseCode, suppressed: aboutOneMessage });
  if (code === 429)
    return failure(call, text, false, { responseCode: 429, rateLimited: true, retryAfterMs: retryAfterMs(headers) });
  if (MISCONFIGURED.has(code) || (code === 300 && /'From'/.test(message)))
    return failure(call, text, false, { responseCode, relayUnavailable: true });
  // 100 maintenance: try again later.
  if (code === 100) return failure(call, text, false, { responseCode });
  // 300 invalid email request: for good; a hard bounce when it is the recipient's address that is invalid.
  if (code === 300)
    return failure(call, text, true, { responseCode, hardBounce: aboutOneMessage && /'(To|Cc|Bcc)'/.test(message) });
  return failure(call, text, true, { responseCode });
}
