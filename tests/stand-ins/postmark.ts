/*
 * A strict local stand-in for Postmark's Email API, following:
 *   https://postmarkapp.com/developer/api/overview             `X-Postmark-Server-Token` (401, ErrorCode 10, when
 *                                                              wrong or missing); HTTP status codes (422 carries
 *                                                              `{ ErrorCode, Message }`, 413, 429, 500, 503); the
 *                                                              API error codes (300, 402, 403, 406, 409, 410, 1235)
 *   https://postmarkapp.com/developer/api/email-api            POST /email and POST /email/batch: body fields
 *                                                              (From, To, Cc, Bcc, Subject, Tag, HtmlBody, TextBody,
 *                                                              ReplyTo, Metadata, Headers [{ Name, Value }],
 *                                                              TrackOpens, TrackLinks, Attachments, MessageStream);
 *                                                              response `{ To, SubmittedAt, MessageID, ErrorCode,
 *                                                              Message }`
 *   https://postmarkapp.com/developer/user-guide/send-email-with-api/batch-emails
 *                                                              ≤ 500 messages and 50 MB per call; 200 with one
 *                                                              result per message, a refused one `{ ErrorCode,
 *                                                              Message }` only
 *   https://postmarkapp.com/developer/user-guide/sending-with-api
 *                                                              `Accept` and `Content-Type: application/json`
 *   https://postmarkapp.com/support/article/1056-what-are-the-attachment-and-email-size-limits
 *
 * Stricter than the real API where the documents are silent, so that a wrong request from quire fails here:
 * unknown fields and wrongly typed values are refused as ErrorCode 403 (Incompatible JSON), header names
 * must be RFC 5322 field names. Postmark documents no Retry-After on its 429; this stand-in sends one so
 * that quire's reading of it is exercised (the transport copes without it too).
 *
 * In a test: `await startPostmarkStandIn({ serverToken, inactive: ['gone@example.org'] })`. As a process:
 *   node --import tsx tests/stand-ins/postmark.ts --port 8026 --server-token t0k3n --rate 10 --inactive a@x.org
 */
import { randomUUID } from 'node:crypto';
import {
  type CommonOptions,
  type HandlerContext,
  type IncomingCall,
  isFieldName,
  isFieldValue,
  isPlainObject,
  mailboxAddress,
  parseArgs,
  type Reply,
  runIfMain,
  type StandIn,
  startStandIn,
} from './support.js';

export interface PostmarkStandInOptions extends CommonOptions {
  serverToken: string;
  /** Inactive recipients (hard bounce, spam complaint, manual suppression): refused with ErrorCode 406. */
  inactive?: string[] | undefined;
  /** The server's message streams; a send naming another gets ErrorCode 1235. Default: outbound, broadcast. */
  messageStreams?: string[] | undefined;
  /** The batch payload limit in bytes (50 MB); smaller in tests. */
  maxBatchBytes?: number;
}

export interface PostmarkRecordedMessage {
  MessageID: string;
  endpoint: '/email' | '/email/batch';
  From: string;
  To: string[];
  Cc: string[];
  Bcc: string[];
  Subject?: string | undefined;
  HtmlBody?: string | undefined;
  TextBody?: string | undefined;
  Headers: { Name: string; Value: string }[];
  MessageStream: string;
}

export type PostmarkStandIn = StandIn<PostmarkRecordedMessage>;

interface ApiError {
  ErrorCode: number;
  Message: string;
}

const FIELDS: Record<string, 'string' | 'boolean' | 'headers' | 'metadata' | 'attachments' | 'tracklinks'> = {
  From: 'string',
  To: 'string',
  Cc: 'string',
  Bcc: 'string',
  Subject: 'string',
  Tag: 'string',
  HtmlBody: 'string',
  TextBody: 'string',
  ReplyTo: 'string',
  Metadata: 'metadata',
  Headers: 'headers',
  TrackOpens: 'boolean',
  TrackLinks: 'tracklinks',
  Attachments: 'attachments',
  MessageStream: 'string',
};
const MAX_BATCH = 500;
const MAX_BATCH_BYTES = 50_000_000;
const MAX_RECIPIENTS = 50;

const apiError = (ErrorCode: number, Message: string): ApiError => ({ ErrorCode, Message });
const incompatible = (why: string) => apiError(403, `Incompatible JSON: ${why}`);

export async function startPostmarkStandIn(opts: PostmarkStandInOptions): Promise<PostmarkStandIn> {
  const inactive = new Set((opts.inactive ?? []).map((a) => a.toLowerCase()));
  const streams = new Set(opts.messageStreams ?? ['outbound', 'broadcast']);
  const maxBytes = opts.maxBatchBytes ?? MAX_BATCH_BYTES;

  const handle = (call: IncomingCall, ctx: HandlerContext<PostmarkRecordedMessage>): Reply => {
    if (call.path !== '/email' && call.path !== '/email/batch')
      return { status: 404, body: apiError(404, "Entity doesn't exist.") };
    if (call.method !== 'POST') return { status: 405, body: apiError(405, 'Method not allowed.') };
    const token = call.headers['x-postmark-server-token'];
    if (!token || token !== opts.serverToken)
      return {
        status: 401,
        body: apiError(10, 'The Server Token you provided in the X-Postmark-Server-Token request header was invalid.'),
      };
    // An injected 429 is answered as the rate limit is, so a test can put the limit in its way on purpose.
    const fault = ctx.injectedFault();
    if (fault !== undefined && fault !== 429)
      return {
        status: fault,
        body: apiError(fault === 503 ? 100 : 0, fault === 503 ? 'Maintenance' : 'Internal Server Error'),
      };
    const limited = fault === 429 ? (opts.retryAfterSeconds ?? 1) : ctx.rateLimited();
    if (limited !== undefined)
      return { status: 429, headers: { 'retry-after': String(limited) }, body: apiError(429, 'Rate limit exceeded.') };
    const json = (h: string | undefined) => /^application\/json\s*(;|$)/i.test(h ?? '');
    if (!json(call.headers.accept) || !json(call.headers['content-type']))
      return {
        status: 422,
        body: apiError(409, 'JSON required: the Accept and Content-Type headers must be application/json.'),
      };

    let payload: unknown;
    try {
      payload = JSON.parse(call.body);
    } catch {
      return { status: 422, body: apiError(402, 'Invalid JSON.') };
    }
    const submittedAt = new Date(call.now).toISOString();

    if (call.path === '/email') {
      const checked = check(payload);
      if ('ErrorCode' in checked) return { status: 422, body: checked };
      const message = recorded(checked, '/email');
      ctx.accept([message]);
      return { status: 200, body: success(message, submittedAt) };
    }

    if (!Array.isArray(payload))
      return { status: 422, body: incompatible('the batch must be a JSON array of messages.') };
    if (payload.length > MAX_BATCH)
      return { status: 422, body: apiError(410, `Too many batch messages: at most ${MAX_BATCH} per call.`) };
    if (Buffer.byteLength(call.body) > maxBytes)
      return { status: 413, body: apiError(413, 'Payload Too Large: the batch exceeds the size limit.') };
    const results = payload.map((p) => {
      const checked = check(p);
      if ('ErrorCode' in checked) return { result: checked };
      const message = recorded(checked, '/email/batch');
      return { result: success(message, submittedAt), message };
    });
    ctx.accept(results.flatMap((r) => (r.message ? [r.message] : [])));
    return { status: 200, body: results.map((r) => r.result) };
  };

  type Checked = { payload: Record<string, unknown>; to: string[]; cc: string[]; bcc: string[]; stream: string };

  function check(p: unknown): Checked | ApiError {
    if (!isPlainObject(p)) return incompatible('a message must be a JSON object.');
    for (const [field, value] of Object.entries(p)) {
      const kind = FIELDS[field];
      if (!kind) return incompatible(`unknown field '${field}'.`);
      if (value === null) continue;
      const ok =
        kind === 'string'
          ? typeof value === 'string'
          : kind === 'boolean'
            ? typeof value === 'boolean'
            : kind === 'tracklinks'
              ? ['None', 'HtmlAndText', 'HtmlOnly', 'TextOnly'].includes(value as string)
              : kind === 'metadata'
                ? isPlainObject(value) && Object.values(value).every((v) => typeof v === 'string')
                : kind === 'headers'
                  ? Array.isArray(value) &&
                    value.every(
                      (h) =>
                        isPlainObject(h) &&
                        Object.keys(h).length === 2 &&
                        typeof h.Name === 'string' &&
                        typeof h.Value === 'string' &&
                        isFieldName(h.Name) &&
                        isFieldValue(h.Value),
                    )
                  : Array.isArray(value) &&
                    value.every(
                      (a) =>
                        isPlainObject(a) &&
                        typeof a.Name === 'string' &&
                        typeof a.Content === 'string' &&
                        typeof a.ContentType === 'string' &&
                        Object.keys(a).every((k) => ['Name', 'Content', 'ContentType', 'ContentID'].includes(k)),
                    );
      if (!ok) return incompatible(`'${field}' has the wrong type or form.`);
    }
    if (typeof p.From !== 'string' || !mailboxAddress(p.From)) return apiError(300, "Invalid 'From' address.");
    const lists: Record<'To' | 'Cc' | 'Bcc', string[]> = { To: [], Cc: [], Bcc: [] };
    for (const field of ['To', 'Cc', 'Bcc'] as const) {
      const value = p[field];
      if (typeof value !== 'string' || value.trim() === '') continue;
      const parts = value.split(',').map((s) => s.trim());
      if (parts.length > MAX_RECIPIENTS)
        return apiError(300, `Too many '${field}' recipients: at most ${MAX_RECIPIENTS}.`);
      for (const part of parts) {
        const address = mailboxAddress(part);
        if (!address) return apiError(300, `Invalid '${field}' address: '${part}'.`);
        lists[field].push(address);
      }
    }
    const all = [...lists.To, ...lists.Cc, ...lists.Bcc];
    if (all.length === 0) return apiError(300, 'Zero recipients specified');
    if (typeof p.HtmlBody !== 'string' && typeof p.TextBody !== 'string')
      return apiError(300, 'Provide either email TextBody or HtmlBody or both.');
    const stream = typeof p.MessageStream === 'string' ? p.MessageStream : 'outbound';
    if (!streams.has(stream))
      return apiError(1235, `The message stream for the provided 'ID' was not found: '${stream}'.`);
    const gone = all.filter((a) => inactive.has(a.toLowerCase()));
    if (gone.length > 0)
      return apiError(
        406,
        `You tried to send to recipient(s) that have been marked as inactive. Found inactive addresses: ${gone.join(', ')}. Inactive recipients are ones that have generated a hard bounce, a spam complaint, or a manual suppression.`,
      );
    return { payload: p, to: lists.To, cc: lists.Cc, bcc: lists.Bcc, stream };
  }

  return startStandIn<PostmarkRecordedMessage>({ handle, recipientsOf: (m) => [...m.To, ...m.Cc, ...m.Bcc] }, opts);
}

function recorded(
  c: { payload: Record<string, unknown>; to: string[]; cc: string[]; bcc: string[]; stream: string },
  endpoint: PostmarkRecordedMessage['endpoint'],
): PostmarkRecordedMessage {
  const p = c.payload;
  return {
    MessageID: randomUUID(),
    endpoint,
    From: p.From as string,
    To: c.to,
    Cc: c.cc,
    Bcc: c.bcc,
    Subject: p.Subject as string | undefined,
    HtmlBody: p.HtmlBody as string | undefined,
    TextBody: p.TextBody as string | undefined,
    Headers: (p.Headers as { Name: string; Value: string }[] | undefined) ?? [],
    MessageStream: c.stream,
  };
}

function success(m: PostmarkRecordedMessage, submittedAt: string) {
  return { To: m.To.join(', '), SubmittedAt: submittedAt, MessageID: m.MessageID, ErrorCode: 0, Message: 'OK' };
}

await runIfMain(import.meta.url, (argv) => {
  const { values, common } = parseArgs(argv);
  return startPostmarkStandIn({
    ...common,
    serverToken: values.get('server-token') ?? process.env.POSTMARK_SERVER_TOKEN ?? 'stand-in-token',
    inactive: values.get('inactive')?.split(',').filter(Boolean),
    messageStreams: values.get('streams')?.split(',').filter(Boolean),
  }) as Promise<StandIn<unknown>>;
});
