import { type BatchOutcome, MailError, type MailErrorDetails, type OutgoingMessage } from '../mailer.js';

/*
 * Shared plumbing for mail transports that speak an HTTP API (Resend, Postmark, SES, Mailgun, SendGrid).
 * Web platform only (fetch, AbortSignal.timeout, Web Crypto, TextEncoder), so it runs on Node and in Workers.
 *
 *   callApi(request, call)          fetch with a deadline; a failure before any response → MailError
 *   readBody(response, call)        the body as text and (when it is JSON) parsed; a failure → MailError
 *   statusFailure(call, res, text)  the MailError for a non-2xx answer, by status class
 *   failure(call, text, permanent)  a MailError naming the provider, with every secret redacted
 *   retryAfterMs(headers)           Retry-After (seconds or HTTP date), else X-RateLimit-Reset, in ms
 *   redact(text, secrets)           text with each secret (and its URL-encoded form) replaced
 *   chunk(items, max, maxBytes)     split a batch by count and by serialised size
 *   sendInChunks(...)               one request per chunk, outcomes put back in the caller's order
 *   sha256Hex(text)                 for deterministic idempotency keys
 *
 * Errors follow the classes of mailer.ts: `relayUnavailable` when nothing can have been sent and the whole
 * transport is affected (unreachable, or misconfigured: bad key, unknown endpoint), `rateLimited` for 429,
 * transient for the rest of what may pass, permanent when this message will never be accepted.
 */

export interface ApiCall {
  /** Names the transport in error messages. */
  provider: string;
  /** Credentials that must never appear in an error's text. */
  secrets: readonly string[];
  timeoutMs: number;
  /** A stand-in for the global fetch (tests). */
  fetch?: typeof fetch | undefined;
}

/** Node's fetch (undici) reports a connection that never opened with these causes: nothing was sent. */
const NOT_CONNECTED = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** `fetch` with a deadline that also covers reading the body; what fails before a response arrives becomes a MailError. */
export async function callApi(request: Request, call: ApiCall): Promise<Response> {
  try {
    return await (call.fetch ?? fetch)(request, { signal: AbortSignal.timeout(call.timeoutMs) });
  } catch (err) {
    throw networkFailure(call, err);
  }
}

/** The body of an answer: its text, and the parsed value when it is JSON (else undefined). */
export async function readBody(response: Response, call: ApiCall): Promise<{ text: string; json: unknown }> {
  let text: string;
  try {
    text = await response.text();
  } catch (err) {
    // The provider answered (so it took the request) but the body was cut off: not "unreachable".
    throw networkFailure(call, err, true);
  }
  try {
    return { text, json: JSON.parse(text) as unknown };
  } catch {
    return { text, json: undefined };
  }
}

function networkFailure(call: ApiCall, err: unknown, answered = false): MailError {
  const e = err as { name?: string; message?: string; cause?: { code?: string; errors?: { code?: string }[] } };
  // Happy-eyeballs connects report an AggregateError whose own code, or whose parts' codes, say why.
  const code = e.cause?.code ?? e.cause?.errors?.[0]?.code;
  const unreachable = !answered && code !== undefined && NOT_CONNECTED.has(code);
  const what =
    e.name === 'TimeoutError' ? `no response within ${call.timeoutMs} ms` : (code ?? e.message ?? String(err));
  // A timeout or a dropped connection after the request went out may still have delivered the message:
  // transient, but not "unreachable", so the engine does not treat it as a relay outage.
  return failure(call, `request failed: ${what}`, false, { relayUnavailable: unreachable });
}

/** A MailError whose text names the provider, is one line, and never carries a credential. */
export function failure(
  call: Pick<ApiCall, 'provider' | 'secrets'>,
  text: string,
  permanent: boolean,
  details: MailErrorDetails = {},
): MailError {
  const line = redact(`${call.provider}: ${text}`, call.secrets).replace(/\s*[\r\n]+\s*/g, ' ');
  return new MailError(line.slice(0, 300), permanent, { provider: call.provider, ...details });
}

export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) {
    if (s.length < 4) continue;
    for (const form of new Set([s, encodeURIComponent(s)])) out = out.split(form).join('[redacted]');
  }
  return out;
}

/**
 * How long the provider asked us to wait: `Retry-After` (RFC 9110 §10.2.3, delay-seconds or an HTTP-date),
 * else `X-RateLimit-Reset` as a Unix time in seconds (SendGrid's rate-limit headers).
 */
export function retryAfterMs(headers: Headers, now = Date.now()): number | undefined {
  const retryAfter = headers.get('retry-after')?.trim();
  if (retryAfter) {
    if (/^\d+$/.test(retryAfter)) return Number(retryAfter) * 1000;
    const at = Date.parse(retryAfter);
    if (!Number.isNaN(at)) return Math.max(0, at - now);
  }
  const reset = headers.get('x-ratelimit-reset')?.trim();
  if (reset && /^\d+$/.test(reset)) return Math.max(0, Number(reset) * 1000 - now);
  return undefined;
}

/**
 * The usual reading of an HTTP status for a send:
 * - 429 asks us to slow down (nothing was sent);
 * - 401/403 is a credential or account problem, 404/405 a wrong base URL or endpoint: faults of the whole
 *   transport, not of the recipient, so they are transient and "unavailable" — the engine stops the batch
 *   and retries later instead of failing (or bouncing) every message;
 * - 502/503 mean the API did not take the request (a gateway, or maintenance): also "unavailable";
 * - other 5xx (and 408) are transient: the request may or may not have been processed;
 * - other 4xx reject this message for good.
 */
export function statusFailure(
  call: ApiCall,
  response: Response,
  detail: string,
  extra: MailErrorDetails = {},
): MailError {
  const status = response.status;
  const text = `HTTP ${status}${detail ? `: ${detail}` : ''}`;
  const retry = retryAfterMs(response.headers);
  if (status === 429)
    return failure(call, text, false, { responseCode: status, rateLimited: true, retryAfterMs: retry, ...extra });
  if ([401, 403, 404, 405, 502, 503].includes(status))
    return failure(call, text, false, { responseCode: status, relayUnavailable: true, retryAfterMs: retry, ...extra });
  if (status === 408 || status >= 500)
    return failure(call, text, false, { responseCode: status, retryAfterMs: retry, ...extra });
  return failure(call, text, true, { responseCode: status, ...extra });
}

/** A fault of the whole transport rather than of one message: the rest of a batch would fare no better. */
export const wholeTransport = (e: MailError): boolean => e.rateLimited || e.relayUnavailable;

const encoder = new TextEncoder();
// encode() always answers a fresh ArrayBuffer; the Workers types only say ArrayBufferLike.
export const utf8 = (text: string): Uint8Array<ArrayBuffer> => encoder.encode(text) as Uint8Array<ArrayBuffer>;

const BRACKET_OPEN = utf8('[');
const BRACKET_CLOSE = utf8(']');
const COMMA = utf8(',');

/**
 * A JSON array of values already serialised and encoded, as the request body: each message is encoded
 * once, when its size is measured, and a body is never built as one large string (a string body costs
 * fetch a USVString scan and an encoding of the whole request).
 */
export function jsonArray(items: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  let size = 2 + Math.max(0, items.length - 1);
  for (const item of items) size += item.length;
  const out = new Uint8Array(size);
  out.set(BRACKET_OPEN, 0);
  let at = 1;
  items.forEach((item, i) => {
    if (i > 0) out.set(COMMA, at++);
    out.set(item, at);
    at += item.length;
  });
  out.set(BRACKET_CLOSE, at);
  return out;
}

/**
 * Split `items` into runs of at most `max` items whose serialised sizes, plus `overhead` per item (a JSON
 * array's comma) and `base` per run (its brackets), stay within `maxBytes`. An item too large on its own
 * still gets a run of its own: the provider, not this function, says whether it is acceptable.
 */
export function chunk<T>(
  items: readonly T[],
  max: number,
  maxBytes = Infinity,
  sizeOf: (item: T) => number = () => 0,
  overhead = 1,
  base = 2,
): T[][] {
  const runs: T[][] = [];
  let run: T[] = [];
  let bytes = base;
  for (const item of items) {
    const size = sizeOf(item) + overhead;
    if (run.length > 0 && (run.length >= max || bytes + size > maxBytes)) {
      runs.push(run);
      run = [];
      bytes = base;
    }
    run.push(item);
    bytes += size;
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

/**
 * `sendBatch` over several requests. `chunks` lists indices into `messages`; `send` answers one outcome per
 * message of its chunk, in the chunk's order, and throws for a chunk that failed as a whole. Outcomes come
 * back in the order of `messages`. A permanent error thrown for a chunk is that chunk's messages' outcome.
 * Any other stops the batch: later chunks are not tried and their messages get that error; if nothing had
 * been answered yet, the error is thrown (the `Mailer.sendBatch` contract).
 */
export async function sendInChunks(
  messages: readonly OutgoingMessage[],
  chunks: readonly (readonly number[])[],
  send: (chunk: OutgoingMessage[], indices: readonly number[]) => Promise<BatchOutcome[]>,
): Promise<BatchOutcome[]> {
  const outcomes: (BatchOutcome | undefined)[] = new Array(messages.length);
  let answered = false;
  for (const indices of chunks) {
    let results: BatchOutcome[];
    try {
      results = await send(
        indices.map((i) => messages[i]!),
        indices,
      );
    } catch (err) {
      const error = err instanceof MailError ? err : new MailError(String(err).slice(0, 300), false);
      if (error.permanent) {
        // A verdict on these messages (the request's content), not on the transport: settle them, go on.
        for (const index of indices) outcomes[index] = { ok: false, error };
        answered = true;
        continue;
      }
      if (!answered) throw error;
      for (let i = 0; i < outcomes.length; i++) outcomes[i] ??= { ok: false, error };
      return outcomes as BatchOutcome[];
    }
    indices.forEach((index, k) => {
      outcomes[index] = results[k]!;
    });
    answered = true;
  }
  return outcomes as BatchOutcome[];
}

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', encoder.encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}
