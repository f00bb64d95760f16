/*
 * A strict local stand-in for Twilio SendGrid's v3 Mail Send, following:
 *   https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send and SendGrid's published OpenAPI
 *       document (twilio/sendgrid-oai, tsg_mail_v3): POST /v3/mail/send, `Authorization: Bearer`, the body's
 *       fields and types, at most a thousand personalizations, 202 Accepted with `X-Message-Id` and no body
 *   https://www.twilio.com/docs/sendgrid/api-reference/mail-send/errors: the 400 field errors and their
 *       messages (a thousand recipients per request, each address once, `to` required, reserved and
 *       duplicate headers, string-only substitutions and custom arguments, content order text/plain then
 *       text/html, subject required), 413, 415
 *   https://www.twilio.com/docs/sendgrid/api-reference/how-to-use-the-sendgrid-v3-api/errors (the
 *       `{ errors: [{ field, message }] }` shape)
 *   https://www.twilio.com/docs/sendgrid/api-reference/how-to-use-the-sendgrid-v3-api/rate-limits (429 with
 *       X-RateLimit-Limit, -Remaining and -Reset, a Unix time)
 *   https://www.twilio.com/docs/sendgrid/ui/account-and-settings/mail (sandbox mode: 200, nothing sent)
 *
 * Stricter than SendGrid where its documents are silent, so that a wrong request from quire fails here:
 * unknown fields are refused (400). A refused recipient is answered as SendGrid answers an address it
 * cannot take (400 on `personalizations.N.to.M.email`); SendGrid drops suppressed addresses later, in its
 * events, which is not this stand-in's business.
 *
 * In a test: `await startSendgridStandIn({ rejectRecipients: ['x@example.net'] })`. As a process:
 *   node --import tsx tests/stand-ins/sendgrid.ts --port 8028 --api-key SG.test --rate 10
 */
import { randomBytes } from 'node:crypto';
import {
  type CommonOptions,
  type IncomingCall,
  isAddress,
  isFieldName,
  isFieldValue,
  isPlainObject,
  parseArgs,
  type Reply,
  runIfMain,
  type StandIn,
  startStandIn,
} from './support.js';

export const SENDGRID_TEST_KEY = 'SG.standin0000000000000000.0000000000000000000000000000000000000000000';

export interface SendgridStandInOptions extends CommonOptions {
  apiKey?: string;
  /** Refused as SendGrid refuses an address it cannot take. */
  rejectRecipients?: Iterable<string> | undefined;
}

export interface SendgridAcceptedMessage {
  /** The X-Message-Id of the request; one per request, shared by its personalizations. */
  xMessageId: string;
  personalization: number;
  to: string[];
  cc: string[];
  bcc: string[];
  from: { email: string; name?: string };
  subject: string | undefined;
  /** The request's headers and this personalization's, the latter winning. */
  headers: Record<string, string>;
  content: { type: string; value: string }[];
  customArgs: Record<string, string>;
}

export type SendgridStandIn = StandIn<SendgridAcceptedMessage>;

const MAX_PERSONALIZATIONS = 1000;
const MAX_RECIPIENTS = 1000;
/** The Mail Send overview's limit on the whole email, attachments included. */
const MAX_BODY_BYTES = 30 * 1000 * 1000;
const MAX_CUSTOM_ARGS_BYTES = 10_000;
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
const TOP = new Set([
  'personalizations',
  'from',
  'reply_to',
  'reply_to_list',
  'subject',
  'content',
  'attachments',
  'template_id',
  'headers',
  'categories',
  'custom_args',
  'send_at',
  'batch_id',
  'asm',
  'ip_pool_name',
  'mail_settings',
  'tracking_settings',
]);
const PERSONALIZATION = new Set([
  'from',
  'to',
  'cc',
  'bcc',
  'subject',
  'headers',
  'substitutions',
  'dynamic_template_data',
  'custom_args',
  'send_at',
]);
const MAIL_SETTINGS = new Set([
  'bypass_list_management',
  'bypass_spam_management',
  'bypass_bounce_management',
  'bypass_unsubscribe_management',
  'footer',
  'sandbox_mode',
]);
const TRACKING_SETTINGS = new Set(['click_tracking', 'open_tracking', 'subscription_tracking', 'ganalytics']);
const HELP = 'http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html';

class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly field: string | null,
    message: string,
  ) {
    super(message);
  }
}
const bad = (field: string | null, message: string) => new Refusal(400, field, message);

export function startSendgridStandIn(options: SendgridStandInOptions = {}): Promise<SendgridStandIn> {
  const apiKey = options.apiKey ?? SENDGRID_TEST_KEY;
  const reject = new Set([...(options.rejectRecipients ?? [])].map((a) => a.toLowerCase()));

  /** The accepted messages, or none for sandbox mode. */
  const accept = (
    call: IncomingCall,
    rateLimited: () => number | undefined,
    fault: () => number | undefined,
  ): { messages: SendgridAcceptedMessage[]; sandbox: boolean } => {
    if (call.path !== '/v3/mail/send') throw new Refusal(404, null, 'not found');
    if (call.method !== 'POST') throw new Refusal(405, null, 'method not allowed');
    const auth = call.headers.authorization;
    if (!auth) throw new Refusal(401, null, 'authorization required');
    if (auth !== `Bearer ${apiKey}`)
      throw new Refusal(401, null, 'The provided authorization grant is invalid, expired, or revoked');
    const wait = rateLimited();
    if (wait !== undefined) throw Object.assign(new Refusal(429, null, 'too many requests'), { wait });
    const injected = fault();
    if (injected !== undefined) throw new Refusal(injected, null, 'internal server error');
    if (!/^application\/json\s*(;|$)/i.test(call.headers['content-type'] ?? ''))
      throw new Refusal(415, null, 'Content-Type should be application/json.');
    if (Buffer.byteLength(call.body) > MAX_BODY_BYTES) throw new Refusal(413, null, 'content too large');
    let body: unknown;
    try {
      body = JSON.parse(call.body);
    } catch {
      throw bad(null, 'Bad Request');
    }
    if (!isPlainObject(body)) throw bad(null, 'Bad Request');
    for (const key of Object.keys(body)) if (!TOP.has(key)) throw bad(key, `Unknown field ${key}.`);

    const from = emailObject(
      body.from,
      'from',
      'The from object must be provided for every email send. It is an object that requires the email parameter, but may also contain a name parameter.',
    );
    if (body.reply_to !== undefined && body.reply_to_list !== undefined)
      throw bad('reply_to', 'You can use either the reply_to property or reply_to_list property but not both.');
    if (body.reply_to !== undefined)
      emailObject(
        body.reply_to,
        'reply_to',
        'The reply_to object, when used, must at least have an email parameter with a valid email address.',
      );
    const templated = typeof body.template_id === 'string';
    const content = checkContent(body.content, templated);
    const globalHeaders = checkHeaders(body.headers, 'headers');
    if (body.subject !== undefined && (typeof body.subject !== 'string' || body.subject.length === 0))
      throw bad('subject', 'The subject of your email must be a string at least one character in length.');
    if (body.categories !== undefined) {
      const c = body.categories;
      if (!Array.isArray(c) || c.some((x) => typeof x !== 'string'))
        throw bad('categories', 'Categories must be an array of strings.');
      if (c.length > 10)
        throw bad(
          'categories',
          `There is a limit of 10 categories for each email that is sent. You provided ${c.length} categories.`,
        );
      if (new Set(c).size !== c.length) throw bad('categories', 'The categories must be a unique list.');
    }
    const globalArgs =
      body.custom_args === undefined
        ? {}
        : stringMap(body.custom_args, 'custom_args', 'All values of custom arguments object must be strings');
    for (const [key, allowed] of [
      ['mail_settings', MAIL_SETTINGS],
      ['tracking_settings', TRACKING_SETTINGS],
    ] as const) {
      const v = body[key];
      if (v === undefined) continue;
      if (!isPlainObject(v) || Object.entries(v).some(([k, s]) => !allowed.has(k) || !isPlainObject(s)))
        throw bad(key, `${key} must be an object of known settings.`);
    }
    const sandbox =
      isPlainObject(body.mail_settings) &&
      isPlainObject(body.mail_settings.sandbox_mode) &&
      body.mail_settings.sandbox_mode.enable === true;

    const ps = body.personalizations;
    if (!Array.isArray(ps) || ps.length === 0)
      throw bad('personalizations', 'You must have at least one personalization.');
    if (ps.length > MAX_PERSONALIZATIONS)
      throw bad(
        'personalizations',
        `The personalization block is limited to 1000 personalizations per API request. You have provided ${ps.length} personalizations. Please consider splitting this into multiple requests and resending your request.`,
      );
    const seen = new Set<string>();
    const xMessageId = randomBytes(16).toString('base64url').slice(0, 22);
    const messages = ps.map((p, i): SendgridAcceptedMessage => {
      const at = `personalizations.${i}`;
      if (!isPlainObject(p)) throw bad(at, 'Each personalization must be an object.');
      for (const key of Object.keys(p))
        if (!PERSONALIZATION.has(key)) throw bad(`${at}.${key}`, `Unknown field ${key}.`);
      if (!Array.isArray(p.to) || p.to.length === 0)
        throw bad(`${at}.to`, 'The to parameter is required for all personalization objects.');
      const lists = { to: [] as string[], cc: [] as string[], bcc: [] as string[] };
      for (const kind of ['to', 'cc', 'bcc'] as const) {
        const list = p[kind];
        if (list === undefined) continue;
        if (!Array.isArray(list)) throw bad(`${at}.${kind}`, `The ${kind} array must be a list of email objects.`);
        list.forEach((r, j) => {
          const { email } = emailObject(r, `${at}.${kind}.${j}.email`, 'Does not contain a valid address.');
          if (reject.has(email.toLowerCase()))
            throw bad(`${at}.${kind}.${j}.email`, 'Does not contain a valid address.');
          if (seen.has(email.toLowerCase()))
            throw bad(
              at,
              `Each unique email address in the personalizations array should only be included once. You have included ${email} more than once.`,
            );
          seen.add(email.toLowerCase());
          lists[kind].push(email);
        });
      }
      if (p.subject !== undefined && (typeof p.subject !== 'string' || p.subject.length === 0))
        throw bad(`${at}.subject`, 'The subject of your email must be a string at least one character in length.');
      const subject = (p.subject as string | undefined) ?? (body.subject as string | undefined);
      if (!subject && !templated)
        throw bad(
          'subject',
          'The subject is required. You can get around this requirement if you use a template with a subject defined.',
        );
      const headers = { ...globalHeaders, ...checkHeaders(p.headers, `${at}.headers`) };
      const lower = new Map<string, string>();
      for (const name of Object.keys(headers)) {
        if (lower.has(name.toLowerCase()) && lower.get(name.toLowerCase()) !== name)
          throw bad(`${at}.headers`, 'The headers cannot contain duplicate keys.');
        lower.set(name.toLowerCase(), name);
      }
      if (p.substitutions !== undefined)
        stringMap(
          p.substitutions,
          `${at}.substitutions`,
          'The substitution values must be an object of key/value pairs, where the values are all strings.',
        );
      const customArgs = {
        ...globalArgs,
        ...(p.custom_args === undefined
          ? {}
          : stringMap(p.custom_args, `${at}.custom_args`, 'All values of custom arguments object must be strings')),
      };
      if (p.custom_args !== undefined && Object.keys(p.custom_args as object).length === 0)
        throw bad(`${at}.custom_args`, 'custom_args cannot be empty.');
      if (Buffer.byteLength(JSON.stringify(customArgs)) > MAX_CUSTOM_ARGS_BYTES)
        throw bad(
          `${at}.custom_args`,
          'The combined size of both global and personalization custom arguments may not exceed 10,000 bytes per personalization.',
        );
      if (p.send_at !== undefined && !Number.isInteger(p.send_at))
        throw bad(`${at}.send_at`, 'The send_at parameter is expecting a Unix timestamp as an integer.');
      return { xMessageId, personalization: i, ...lists, from, subject, headers, content, customArgs };
    });
    if (seen.size > MAX_RECIPIENTS)
      throw bad('personalizations', 'There is a limit of 1000 total recipients (to + cc + bcc) per request.');
    return { messages, sandbox };
  };

  return startStandIn<SendgridAcceptedMessage>(
    {
      handle(call, ctx): Reply {
        const rate = (): Record<string, string> =>
          ctx.rate.limit === undefined
            ? {}
            : {
                'x-ratelimit-limit': String(ctx.rate.limit),
                'x-ratelimit-remaining': String(ctx.rate.remaining() ?? 0),
                'x-ratelimit-reset': String(Math.ceil(call.now / 1000) + ctx.rate.resetSeconds()),
              };
        try {
          const { messages, sandbox } = accept(call, ctx.rateLimited, ctx.injectedFault);
          if (sandbox) return { status: 200, headers: rate(), body: '' };
          ctx.accept(messages);
          return { status: 202, headers: { ...rate(), 'x-message-id': messages[0]!.xMessageId }, body: '' };
        } catch (err) {
          if (!(err instanceof Refusal)) throw err;
          const wait = (err as Refusal & { wait?: number }).wait;
          const headers: Record<string, string> =
            wait === undefined
              ? {}
              : {
                  'x-ratelimit-limit': String(ctx.rate.limit ?? 0),
                  'x-ratelimit-remaining': '0',
                  'x-ratelimit-reset': String(Math.ceil(call.now / 1000 + wait)),
                };
          const help =
            err.status === 400 && err.field ? { help: `${HELP}#message.${err.field.replace(/\.\d+/g, '')}` } : {};
          return {
            status: err.status,
            headers,
            body: { errors: [{ message: err.message, field: err.field, ...help }] },
          };
        }
      },
      recipientsOf: (m) => [...m.to, ...m.cc, ...m.bcc],
    },
    options,
  );
}

function emailObject(value: unknown, field: string, message: string): { email: string; name?: string } {
  if (!isPlainObject(value) || typeof value.email !== 'string' || !isAddress(value.email)) throw bad(field, message);
  if (
    Object.keys(value).some((k) => k !== 'email' && k !== 'name') ||
    (value.name !== undefined && typeof value.name !== 'string')
  )
    throw bad(field, message);
  if (value.email.length > 320) throw bad(field, 'The email exceeds the maximum total length of 320 characters');
  return value.name === undefined ? { email: value.email } : { email: value.email, name: value.name as string };
}

function checkContent(value: unknown, templated: boolean): { type: string; value: string }[] {
  if (value === undefined) {
    if (templated) return [];
    throw bad(
      'content',
      'The content param is required unless you are using a transactional template and have defined a template_ID.',
    );
  }
  if (!Array.isArray(value) || value.length === 0)
    throw bad(
      'content',
      'There must be at least one defined content block. We typically suggest both text/plain and text/html blocks are included, but only one block is required.',
    );
  const parts = value.map((c, i) => {
    if (!isPlainObject(c) || Object.keys(c).some((k) => k !== 'type' && k !== 'value'))
      throw bad(`content.${i}`, 'Each content block has a type and a value.');
    if (typeof c.type !== 'string' || c.type.length === 0)
      throw bad(`content.${i}.type`, 'A content type is required, this tells email clients how to display the email.');
    if (/[;\r\n]/.test(c.type)) throw bad(`content.${i}.type`, "Cannot contain ';', or CRLF characters.");
    if (typeof c.value !== 'string' || c.value.length === 0)
      throw bad(`content.${i}.value`, 'The content value must be a string at least one character in length.');
    return { type: c.type, value: c.value };
  });
  const rank = (t: string) => (t === 'text/plain' ? 0 : t === 'text/html' ? 1 : 2);
  if (parts.some((p, i) => i > 0 && rank(p.type) < rank(parts[i - 1]!.type)))
    throw bad(
      'content',
      'Following RFC 1341, section 7.2, if either text/html or text/plain are to be sent in your email: text/plain needs to be first, followed by text/html, followed by any other content.',
    );
  return parts;
}

function checkHeaders(value: unknown, field: string): Record<string, string> {
  if (value === undefined) return {};
  if (!isPlainObject(value)) throw bad(field, 'The headers must be an object.');
  const seen = new Set<string>();
  for (const [name, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw bad(field, 'The header values must be strings.');
    if (!isFieldName(name)) throw bad(field, 'Header keys cannot contain non-ASCII characters and empty spaces.');
    if (!isFieldValue(v)) throw bad(field, 'Header values cannot contain line breaks.');
    if (RESERVED.has(name.toLowerCase())) throw bad(field, 'Header can not be one of the reserved keys.');
    if (seen.has(name.toLowerCase())) throw bad(field, 'The headers cannot contain duplicate keys.');
    seen.add(name.toLowerCase());
  }
  return value as Record<string, string>;
}

function stringMap(value: unknown, field: string, message: string): Record<string, string> {
  if (!isPlainObject(value) || Object.values(value).some((v) => typeof v !== 'string')) throw bad(field, message);
  return value as Record<string, string>;
}

void runIfMain(import.meta.url, (argv) => {
  const { values, common } = parseArgs(argv);
  return startSendgridStandIn({
    ...common,
    apiKey: values.get('api-key') ?? SENDGRID_TEST_KEY,
    rejectRecipients: values.get('reject')?.split(','),
  }) as Promise<StandIn<unknown>>;
});
