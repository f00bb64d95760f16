import { MailError, type Mailer, type OutgoingMessage, type SendResult, sendEach } from '../mailer.js';
import { utf8 } from './http.js';

/*
 * Cloudflare Email Service through a Worker's `[[send_email]]` binding, in its structured form
 * (`env.EMAIL.send({ from, to, subject, html, text, headers })` → `{ messageId }`):
 *   https://developers.cloudflare.com/email-service/api/send-emails/workers-api/   (interface, error codes)
 *   https://developers.cloudflare.com/email-service/reference/headers/            (header allowlist, limits)
 *   https://developers.cloudflare.com/email-service/platform/limits/              (recipients, size)
 *   https://developers.cloudflare.com/email-service/reference/faq/                (transactional only)
 *
 * The binding is typed by the part used here, so this file needs neither `cloudflare:*` imports nor the
 * Workers types and type-checks in the Node program too; a `SendEmail` from @cloudflare/workers-types
 * fits it.
 */

type Mailbox = string | { email: string; name: string };

/** The fields of the binding's `EmailMessageBuilder` that quire fills in. */
export interface CloudflareEmailMessage {
  from: Mailbox;
  to: string | string[];
  subject: string;
  html?: string | undefined;
  text?: string | undefined;
  replyTo?: Mailbox | undefined;
  headers?: Record<string, string> | undefined;
}

export interface SendEmailBinding {
  send(message: CloudflareEmailMessage): Promise<{ messageId: string }>;
}

export interface CloudflareMailerOptions {
  binding: SendEmailBinding;
  /** Give up waiting for the binding after this long (it has no timeout of its own). */
  timeoutMs?: number | undefined;
}

export interface CloudflareMailer extends Mailer {
  /** Cloudflare Email Service accepts transactional mail only (its FAQ): broadcasts must not use it. */
  readonly transactionalOnly: true;
}

/** "Total message size 5 MiB" (limits); the service counts the encoded message, which is larger still. */
const MAX_MESSAGE_BYTES = 5 * 1024 * 1024;
/** RFC 5322 §2.1.1's line limit, which the service applies to the subject (limits). */
const MAX_SUBJECT_CHARS = 998;
/** Header limits (headers, "Header limits"). */
const MAX_HEADER_VALUE_BYTES = 2048;
const MAX_HEADER_NAME_CHARS = 100;
const MAX_HEADERS_BYTES = 16 * 1024;
const MAX_ALLOWLISTED_HEADERS = 20;
/** The daily quota's reset time is not reported; look again after a while rather than at once. */
const DAILY_LIMIT_RETRY_MS = 15 * 60_000;

/** Headers the service generates itself; setting them is refused (`E_HEADER_NOT_ALLOWED`). */
const PLATFORM_HEADERS = new Set([
  'date',
  'message-id',
  'mime-version',
  'content-type',
  'content-transfer-encoding',
  'dkim-signature',
  'return-path',
  'received',
  'feedback-id',
  'tls-required',
  'tls-report-domain',
  'tls-report-submitter',
  'cfbl-address',
  'cfbl-feedback-id',
]);

/** Headers that are API fields instead (`E_HEADER_USE_API_FIELD`). */
const FIELD_HEADERS = new Set(['from', 'to', 'cc', 'bcc', 'subject', 'reply-to']);

/** The allowlist, in the canonical casing the service writes. */
const ALLOWED_HEADERS = new Map(
  [
    'In-Reply-To',
    'References',
    'List-Unsubscribe',
    'List-Unsubscribe-Post',
    'List-Id',
    'List-Archive',
    'List-Help',
    'List-Owner',
    'List-Post',
    'List-Subscribe',
    'Precedence',
    'Auto-Submitted',
    'Content-Language',
    'Keywords',
    'Comments',
    'Importance',
    'Priority',
    'Sensitivity',
    'Organization',
    'Require-Recipient-Valid-Since',
    'Expires',
    'Reply-By',
    'Archived-At',
  ].map((name) => [name.toLowerCase(), name] as const),
);

/** Headers whose values the service restricts to a few words (headers, allowlist notes). */
const ENUM_VALUES: Record<string, readonly string[]> = {
  precedence: ['bulk', 'list', 'junk'],
  'auto-submitted': ['auto-generated', 'auto-replied', 'auto-notified'],
  importance: ['high', 'normal', 'low'],
  priority: ['normal', 'non-urgent', 'urgent'],
  sensitivity: ['personal', 'private', 'company-confidential'],
};

const X_HEADER_RE = /^X-[A-Za-z0-9_-]+$/i;
const byteLength = (s: string) => utf8(s).length;

/** Every refusal names the service: a recipient it refuses is recorded as an API's bounce, not a relay's. */
const ON_CLOUDFLARE = { provider: 'cloudflare' } as const;

/** A message the service would refuse whatever is retried: a fault of the message, not the address. */
const refuse = (reason: string) => new MailError(`cloudflare: ${reason}`, true, ON_CLOUDFLARE);

/** `Name <a@b>` → `{ name, email }`; a bare address stays a string. */
export function mailboxOf(value: string): Mailbox {
  const m = /^\s*(.*?)\s*<([^<>\s]+@[^<>\s]+)>\s*$/.exec(value);
  if (!m) return value.trim();
  const name = m[1]!.replace(/^"(.*)"$/, '$1').replace(/\\(.)/g, '$1');
  return name === '' ? m[2]! : { email: m[2]!, name };
}

/**
 * The header fields the service accepts, checked here by its published rules so a refusal is the same
 * locally (the local simulator checks none of them) as in production, and names the header at fault.
 * Fields the service writes itself (Message-ID, Date, Return-Path, Feedback-ID…) are left to it.
 */
export function cloudflareHeaders(headers: Record<string, string>): {
  headers: Record<string, string>;
  replyTo?: string | undefined;
} {
  const out: Record<string, string> = {};
  let replyTo: string | undefined;
  let allowlisted = 0;
  let total = 0;
  for (const [rawName, value] of Object.entries(headers)) {
    const lower = rawName.toLowerCase();
    if (PLATFORM_HEADERS.has(lower) || lower.startsWith('arc-')) continue;
    if (lower === 'reply-to') {
      replyTo = value;
      continue;
    }
    if (FIELD_HEADERS.has(lower)) throw refuse(`header ${rawName} must be set through the message's own field`);
    const canonical = ALLOWED_HEADERS.get(lower);
    const isX = X_HEADER_RE.test(rawName);
    if (!canonical && !isX) throw refuse(`header ${rawName} is not on Cloudflare Email Service's allowlist`);
    if (rawName.length > MAX_HEADER_NAME_CHARS) throw refuse(`header name ${rawName.slice(0, 40)}… is too long`);
    if (value.trim() === '' || /[\r\n]/.test(value)) throw refuse(`header ${rawName} is empty or spans lines`);
    if (byteLength(value) > MAX_HEADER_VALUE_BYTES) throw refuse(`header ${rawName} is too long`);
    const allowedValues = ENUM_VALUES[lower];
    if (allowedValues && !allowedValues.includes(value.split(';')[0]!.trim().toLowerCase())) {
      throw refuse(`header ${rawName} must be one of ${allowedValues.join(', ')}`);
    }
    if (canonical) allowlisted++;
    const name = canonical ?? rawName;
    total += byteLength(name) + 2 + byteLength(value) + 2;
    out[name] = value;
  }
  if (allowlisted > MAX_ALLOWLISTED_HEADERS) throw refuse('too many header fields');
  if (total > MAX_HEADERS_BYTES) throw refuse('header fields are too large');

  const unsubscribe = out['List-Unsubscribe'];
  if (unsubscribe !== undefined) {
    const uris = [...unsubscribe.matchAll(/<([^>]*)>/g)].map((m) => m[1]!);
    // RFC 2369 §3.2 targets; the service takes https and mailto only, never plain http.
    if (uris.length === 0 || uris.some((u) => !/^(https:\/\/|mailto:)/i.test(u))) {
      throw refuse('List-Unsubscribe must hold <https://…> and/or <mailto:…> targets only (plain http is refused)');
    }
  }
  const post = out['List-Unsubscribe-Post'];
  if (post !== undefined) {
    // RFC 8058 §3.1's one value, exactly as the service demands, and only beside an https target.
    if (post !== 'List-Unsubscribe=One-Click')
      throw refuse('List-Unsubscribe-Post must be exactly List-Unsubscribe=One-Click');
    if (!unsubscribe || !/<https:\/\//i.test(unsubscribe))
      throw refuse('List-Unsubscribe-Post needs an https List-Unsubscribe target');
  }
  return { headers: out, replyTo };
}

/** The binding's structured message for one of ours. */
export function toCloudflareEmail(m: OutgoingMessage): CloudflareEmailMessage {
  if (m.subject.length > MAX_SUBJECT_CHARS) throw refuse('the subject is too long');
  // The fields, not `raw`: the structured form builds its own MIME. There is no envelope sender to
  // set either (the service writes Return-Path to its own bounce processor), so VERP does not apply.
  const { headers, replyTo } = cloudflareHeaders(m.headers);
  if (byteLength(m.html) + byteLength(m.text) > MAX_MESSAGE_BYTES)
    throw refuse('the message is larger than the service accepts');
  return {
    from: mailboxOf(m.from),
    to: m.to,
    subject: m.subject,
    ...(m.html === '' ? {} : { html: m.html }),
    ...(m.text === '' ? {} : { text: m.text }),
    ...(replyTo === undefined ? {} : { replyTo: mailboxOf(replyTo) }),
    ...(Object.keys(headers).length ? { headers } : {}),
  };
}

/**
 * The binding's errors as MailErrors. It throws an Error whose `code` names the fault (workers-api,
 * "Error codes"); unknown codes, and errors without one, are transient.
 */
export function cloudflareError(err: unknown): MailError {
  if (err instanceof MailError) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as { code?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : undefined;
  const text = typeof e.message === 'string' ? e.message.split('\n')[0]!.slice(0, 300) : String(err).slice(0, 300);
  const message = `cloudflare${code ? ` ${code}` : ''}: ${text}`;
  switch (code) {
    case 'E_VALIDATION_ERROR':
    case 'E_FIELD_MISSING':
    case 'E_TOO_MANY_RECIPIENTS':
    case 'E_TOO_MANY_ATTACHMENTS':
    case 'E_CONTENT_TOO_LARGE':
    case 'E_HEADER_NOT_ALLOWED':
    case 'E_HEADER_USE_API_FIELD':
    case 'E_HEADER_VALUE_INVALID':
    case 'E_HEADER_VALUE_TOO_LONG':
    case 'E_HEADER_NAME_INVALID':
    case 'E_HEADERS_TOO_LARGE':
    case 'E_HEADERS_TOO_MANY':
      // The message as built is refused; sending it again changes nothing.
      return new MailError(message, true, ON_CLOUDFLARE);
    case 'E_RECIPIENT_SUPPRESSED':
      // The service's own suppression list: the address bounced or complained before.
      return new MailError(message, true, { ...ON_CLOUDFLARE, suppressed: true });
    case 'E_RECIPIENT_NOT_ALLOWED':
      // The binding's destination allowlist (or an account that may only send to verified addresses):
      // refused for this address, which may still be a good one.
      return new MailError(message, true, { ...ON_CLOUDFLARE, hardBounce: false });
    case 'E_SENDER_NOT_VERIFIED':
    case 'E_SENDER_DOMAIN_NOT_AVAILABLE':
      // The account's set-up, not this message: nothing can be sent until the domain is onboarded, so
      // treat it like an unreachable relay (retried later, the batch stops, no broadcast error streak).
      return new MailError(message, false, { ...ON_CLOUDFLARE, relayUnavailable: true });
    case 'E_RATE_LIMIT_EXCEEDED':
      return new MailError(message, false, { ...ON_CLOUDFLARE, rateLimited: true });
    case 'E_DAILY_LIMIT_EXCEEDED':
      return new MailError(message, false, { ...ON_CLOUDFLARE, rateLimited: true, retryAfterMs: DAILY_LIMIT_RETRY_MS });
    case 'E_DELIVERY_FAILED':
    case 'E_INTERNAL_SERVER_ERROR':
      return new MailError(message, false, ON_CLOUDFLARE);
    default:
      break;
  }
  // Wrangler's local simulator throws plain Errors for its sender and destination allowlists.
  if (code === undefined && /^email to .* not allowed$/.test(text))
    return new MailError(message, true, { ...ON_CLOUDFLARE, hardBounce: false });
  if (code === undefined && /^email from .* not allowed$/.test(text))
    return new MailError(message, false, { ...ON_CLOUDFLARE, relayUnavailable: true });
  return new MailError(message, false, ON_CLOUDFLARE);
}

export function createCloudflareMailer(opts: CloudflareMailerOptions): CloudflareMailer {
  const { binding, timeoutMs } = opts;

  const withTimeout = <T>(work: Promise<T>): Promise<T> => {
    if (timeoutMs === undefined) return work;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<never>((_, reject) => {
      // The service may still accept it: a plain transient fault, not an unreachable relay.
      timer = setTimeout(
        () => reject(new MailError(`cloudflare: no answer from the send_email binding within ${timeoutMs} ms`, false)),
        timeoutMs,
      );
    });
    return Promise.race([work, expired]).finally(() => clearTimeout(timer));
  };

  const send = async (message: OutgoingMessage): Promise<SendResult> => {
    const email = toCloudflareEmail(message);
    let result: { messageId: string };
    try {
      result = await withTimeout(binding.send(email));
    } catch (err) {
      throw cloudflareError(err);
    }
    // The service writes its own Message-ID (headers, "Platform-controlled headers") and returns it.
    const id = typeof result?.messageId === 'string' && result.messageId !== '' ? result.messageId : undefined;
    return { messageId: id ?? message.messageId, providerMessageId: id };
  };

  return {
    name: 'cloudflare',
    // No batch form: one message per call.
    maxBatch: 1,
    transactionalOnly: true,
    send,
    sendBatch: (messages) => sendEach(send, messages),
    async close() {},
  };
}
