/*
 * A strict local stand-in for Resend's email API, following:
 *   https://resend.com/docs/api-reference/introduction        base URL, `Authorization: Bearer re_…`, User-Agent
 *                                                              required (403 without), status codes, rate limit
 *   https://resend.com/docs/api-reference/emails/send-email   POST /emails: body fields and types, response `{ id }`
 *   https://resend.com/docs/api-reference/emails/send-batch-emails
 *                                                              POST /emails/batch: array of ≤ 100 emails, no
 *                                                              attachments, response `{ data: [{ id }] }` in order
 *   https://resend.com/docs/dashboard/emails/batch-validation-modes
 *                                                              `x-batch-validation: strict | permissive`; permissive
 *                                                              answers `data` for created emails and
 *                                                              `errors: [{ index, message }]`
 *   https://resend.com/docs/dashboard/emails/idempotency-keys  `Idempotency-Key` (1–256 chars, 24 h): same key and
 *                                                              body → the first response, nothing sent again; same
 *                                                              key, other body → 409 invalid_idempotent_request
 *   https://resend.com/docs/api-reference/errors               error body `{ statusCode, message, name }` and names
 *   https://resend.com/changelog/api-rate-limit                ratelimit-limit / -remaining / -reset, retry-after
 *
 * Stricter than the real API where the documents are silent, so that a wrong request from quire fails here:
 * unknown body fields, header names that are not RFC 5322 field names and a Content-Type other than JSON are
 * refused with validation_error.
 *
 * In a test: `await startResendStandIn({ apiKey })`. As a process:
 *   node --import tsx tests/stand-ins/resend.ts --port 8025 --api-key re_test --rate 2 --invalid a@x.org,b@y.org
 */
import { createHash, randomUUID } from 'node:crypto';
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

export interface ResendStandInOptions extends CommonOptions {
  /** The one key accepted, `re_…`. */
  apiKey: string;
  /** Addresses Resend will not take: a `to`, `cc` or `bcc` among them is answered as an invalid address. */
  invalid?: string[] | undefined;
}

export interface ResendRecordedEmail {
  id: string;
  endpoint: '/emails' | '/emails/batch';
  from: string;
  to: string[];
  cc: string[];
  bcc: string[];
  subject: string;
  html?: string | undefined;
  text?: string | undefined;
  headers: Record<string, string>;
  idempotencyKey?: string | undefined;
}

export type ResendStandIn = StandIn<ResendRecordedEmail>;

interface ResendError {
  statusCode: number;
  name: string;
  message: string;
}

const error = (statusCode: number, name: string, message: string): ResendError => ({ statusCode, name, message });
const reply = (e: ResendError, headers: Record<string, string> = {}): Reply => ({
  status: e.statusCode,
  headers,
  body: e,
});

const FIELDS = new Set([
  'from',
  'to',
  'subject',
  'bcc',
  'cc',
  'scheduled_at',
  'reply_to',
  'html',
  'text',
  'headers',
  'topic_id',
  'attachments',
  'tags',
  'template',
]);
const MAX_BATCH = 100;
const MAX_RECIPIENTS = 50;
const KEY_TTL_MS = 24 * 60 * 60 * 1000;
const ADDRESS_FORMAT =
  'The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.';

export async function startResendStandIn(opts: ResendStandInOptions): Promise<ResendStandIn> {
  const invalid = new Set((opts.invalid ?? []).map((a) => a.toLowerCase()));
  const keys = new Map<string, { bodyHash: string; reply: Reply; at: number }>();
  const inFlight = new Set<string>();

  const handle = (call: IncomingCall, ctx: HandlerContext<ResendRecordedEmail>): Reply => {
    if (call.path !== '/emails' && call.path !== '/emails/batch')
      return reply(error(404, 'not_found', 'The requested endpoint does not exist.'));
    if (call.method !== 'POST')
      return reply(error(405, 'method_not_allowed', 'Method is not allowed for the requested path.'));
    // Refused in front of the API, with Cloudflare's plain answer (introduction, "User-Agent").
    if (!call.headers['user-agent']) return { status: 403, body: 'error code: 1010' };
    const auth = call.headers.authorization;
    if (!auth) return reply(error(401, 'missing_api_key', 'Missing API key in the authorization header.'));
    if (auth !== `Bearer ${opts.apiKey}`) return reply(error(403, 'invalid_api_key', 'API key is invalid.'));

    // An injected 429 is answered as the rate limit is, so a test can put the limit in its way on purpose.
    const fault = ctx.injectedFault();
    if (fault !== undefined && fault !== 429)
      return reply(
        fault === 503
          ? error(503, 'service_unavailable', 'API is temporarily unavailable')
          : error(fault, 'application_error', 'An unexpected error occurred.'),
      );
    const rateHeaders: Record<string, string> = {};
    const limited = fault === 429 ? (opts.retryAfterSeconds ?? 1) : ctx.rateLimited();
    if (ctx.rate.limit !== undefined) {
      rateHeaders['ratelimit-limit'] = String(ctx.rate.limit);
      rateHeaders['ratelimit-remaining'] = String(ctx.rate.remaining());
      rateHeaders['ratelimit-reset'] = String(ctx.rate.resetSeconds());
    }
    if (limited !== undefined) {
      return reply(
        error(
          429,
          'rate_limit_exceeded',
          'Too many requests. Please limit the number of requests per second. Or contact support to increase rate limit.',
        ),
        { ...rateHeaders, 'retry-after': String(limited) },
      );
    }
    const withRate = (r: Reply): Reply => ({ ...r, headers: { ...rateHeaders, ...r.headers } });

    if (!/^application\/json\s*(;|$)/i.test(call.headers['content-type'] ?? ''))
      return withRate(reply(error(400, 'validation_error', 'The `Content-Type` header must be `application/json`.')));
    const key = call.headers['idempotency-key'];
    if (key !== undefined && (key.length < 1 || key.length > 256))
      return withRate(
        reply(
          error(
            400,
            'invalid_idempotency_key',
            'Idempotency keys, if present, must have between 1 and 256 characters.',
          ),
        ),
      );

    const bodyHash = createHash('sha256').update(call.body).digest('hex');
    const slot = key === undefined ? undefined : `${call.path}\n${key}`;
    if (slot) {
      const seen = keys.get(slot);
      if (seen && call.now - seen.at < KEY_TTL_MS) {
        if (seen.bodyHash === bodyHash) return withRate(seen.reply);
        return withRate(
          reply(
            error(
              409,
              'invalid_idempotent_request',
              "This idempotency key has been used with this HTTP method and endpoint within the last 24 hours, but the request body was modified and doesn't match the original request.",
            ),
          ),
        );
      }
      if (inFlight.has(slot))
        return withRate(
          reply(
            error(
              409,
              'concurrent_idempotent_requests',
              'There is another request in progress with the same idempotency key.',
            ),
          ),
        );
      inFlight.add(slot);
    }
    try {
      let payload: unknown;
      try {
        payload = JSON.parse(call.body);
      } catch {
        return withRate(reply(error(400, 'validation_error', 'The request body is not valid JSON.')));
      }
      const answer =
        call.path === '/emails'
          ? single(payload, key, ctx)
          : batch(payload, key, call.headers['x-batch-validation'], ctx);
      // Only an accepted request is remembered: a refused one may be corrected and sent again with its key.
      if (slot && answer.status === 200) keys.set(slot, { bodyHash, reply: answer, at: call.now });
      return withRate(answer);
    } finally {
      if (slot) inFlight.delete(slot);
    }
  };

  const single = (payload: unknown, key: string | undefined, ctx: HandlerContext<ResendRecordedEmail>): Reply => {
    const problem = validate(payload, false, invalid);
    if (problem) return reply(problem);
    const email = recorded(payload as Record<string, unknown>, '/emails', key);
    ctx.accept([email]);
    return { status: 200, body: { id: email.id } };
  };

  const batch = (
    payload: unknown,
    key: string | undefined,
    mode: string | undefined,
    ctx: HandlerContext<ResendRecordedEmail>,
  ): Reply => {
    if (mode !== undefined && mode !== 'strict' && mode !== 'permissive')
      return reply(error(400, 'validation_error', 'The `x-batch-validation` header must be `strict` or `permissive`.'));
    if (!Array.isArray(payload))
      return reply(error(400, 'validation_error', 'The request body must be an array of emails.'));
    if (payload.length === 0)
      return reply(error(422, 'missing_required_field', 'The request body must contain at least one email.'));
    if (payload.length > MAX_BATCH)
      return reply(error(422, 'validation_error', `The batch contains more than ${MAX_BATCH} emails.`));
    const problems = payload.map((p) => validate(p, true, invalid));
    if (mode !== 'permissive') {
      // Strict (the default): the whole batch is refused for its first invalid email.
      const index = problems.findIndex((p) => p !== undefined);
      if (index >= 0) return reply({ ...problems[index]!, message: `emails[${index}]: ${problems[index]!.message}` });
    }
    const emails = payload.flatMap((p, index) =>
      problems[index] ? [] : [recorded(p as Record<string, unknown>, '/emails/batch', key)],
    );
    ctx.accept(emails);
    const body: { data: { id: string }[]; errors?: { index: number; message: string }[] } = {
      data: emails.map((e) => ({ id: e.id })),
    };
    if (mode === 'permissive') body.errors = problems.flatMap((p, index) => (p ? [{ index, message: p.message }] : []));
    return { status: 200, body };
  };

  return startStandIn<ResendRecordedEmail>(
    {
      handle,
      recipientsOf: (m) => [...m.to, ...m.cc, ...m.bcc].map((r) => mailboxAddress(r) ?? r),
    },
    opts,
  );
}

function recorded(
  e: Record<string, unknown>,
  endpoint: ResendRecordedEmail['endpoint'],
  key: string | undefined,
): ResendRecordedEmail {
  return {
    id: randomUUID(),
    endpoint,
    from: e.from as string,
    to: list(e.to)!,
    cc: list(e.cc) ?? [],
    bcc: list(e.bcc) ?? [],
    subject: e.subject as string,
    html: e.html as string | undefined,
    text: e.text as string | undefined,
    headers: (e.headers as Record<string, string> | undefined) ?? {},
    idempotencyKey: key,
  };
}

/** `string | string[]` (send-email) as a list; undefined when absent, null when of another type. */
function list(value: unknown): string[] | undefined | null {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  return null;
}

function validate(e: unknown, inBatch: boolean, invalid: Set<string>): ResendError | undefined {
  const bad = (message: string) => error(400, 'validation_error', message);
  if (!isPlainObject(e)) return bad('Each email must be an object.');
  for (const field of Object.keys(e)) if (!FIELDS.has(field)) return bad(`Unknown field \`${field}\`.`);
  if (inBatch && e.attachments !== undefined) return bad('The `attachments` field is not supported for batch emails.');
  for (const field of ['from', 'to', 'subject'])
    if (e[field] === undefined)
      return error(
        422,
        'missing_required_field',
        `The request body is missing one or more required fields: \`${field}\`.`,
      );
  if (typeof e.from !== 'string' || !mailboxAddress(e.from)) return bad(`Invalid \`from\` field. ${ADDRESS_FORMAT}`);
  for (const field of ['to', 'cc', 'bcc', 'reply_to']) {
    const addresses = list(e[field]);
    if (addresses === undefined) continue;
    if (addresses === null) return bad(`The \`${field}\` field must be a string or an array of strings.`);
    if (field === 'to' && addresses.length === 0)
      return error(422, 'missing_required_field', 'The `to` field is missing.');
    if (addresses.length > MAX_RECIPIENTS)
      return bad(`The \`${field}\` field can have at most ${MAX_RECIPIENTS} addresses.`);
    for (const a of addresses) {
      const address = mailboxAddress(a);
      if (!address || (field !== 'reply_to' && invalid.has(address.toLowerCase())))
        return bad(`Invalid \`${field}\` field. ${ADDRESS_FORMAT}`);
    }
  }
  if (typeof e.subject !== 'string') return bad('The `subject` field must be a string.');
  for (const field of ['html', 'text', 'scheduled_at', 'topic_id'])
    if (e[field] !== undefined && typeof e[field] !== 'string') return bad(`The \`${field}\` field must be a string.`);
  if (e.template !== undefined) {
    const t = e.template;
    if (
      !isPlainObject(t) ||
      typeof t.id !== 'string' ||
      Object.keys(t).some((k) => k !== 'id' && k !== 'variables') ||
      (t.variables !== undefined && !isPlainObject(t.variables))
    )
      return bad('The `template` field must be `{ id, variables? }`.');
    if (e.html !== undefined || e.text !== undefined) return bad('`html` and `text` cannot be sent with a `template`.');
  } else if (e.html === undefined && e.text === undefined) {
    return error(
      422,
      'missing_required_field',
      'The request body is missing one or more required fields: `html` or `text`.',
    );
  }
  if (e.headers !== undefined) {
    if (!isPlainObject(e.headers)) return bad('The `headers` field must be an object.');
    for (const [name, value] of Object.entries(e.headers)) {
      if (!isFieldName(name)) return bad(`Invalid header name \`${name}\`.`);
      if (typeof value !== 'string' || !isFieldValue(value))
        return bad(`The \`${name}\` header must be a single-line string.`);
    }
  }
  if (e.tags !== undefined) {
    const ok =
      Array.isArray(e.tags) &&
      e.tags.every(
        (t) =>
          isPlainObject(t) &&
          Object.keys(t).every((k) => k === 'name' || k === 'value') &&
          [t.name, t.value].every((v) => typeof v === 'string' && /^[A-Za-z0-9_-]{1,256}$/.test(v)),
      );
    if (!ok) return bad('Each tag must be `{ name, value }` of ASCII letters, digits, `_` or `-` (at most 256).');
  }
  if (e.attachments !== undefined) {
    const ok =
      Array.isArray(e.attachments) &&
      e.attachments.every(
        (a) =>
          isPlainObject(a) &&
          Object.keys(a).every((k) => ['content', 'filename', 'path', 'content_type', 'content_id'].includes(k)),
      );
    if (!ok) return bad('Each attachment must have `content` or `path`.');
  }
  return undefined;
}

await runIfMain(import.meta.url, (argv) => {
  const { values, common } = parseArgs(argv);
  return startResendStandIn({
    ...common,
    apiKey: values.get('api-key') ?? process.env.RESEND_API_KEY ?? 're_stand_in',
    invalid: values.get('invalid')?.split(',').filter(Boolean),
  }) as Promise<StandIn<unknown>>;
});
