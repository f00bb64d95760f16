import type { Attachment } from 'mailparser';
import type { BounceType } from '../db/schema.js';
import { recordBounce, type BounceOutcome, type BounceReport } from './bounces.js';
import type { CoreDeps } from './deps.js';

/**
 * Bounce and complaint messages as they arrive by mail:
 * - DSN, RFC 3464: `multipart/report; report-type=delivery-status` with a `message/delivery-status` part
 *   (one block of per-message fields, then one block per recipient) and usually the original message or
 *   its headers (`message/rfc822`, `text/rfc822-headers`). RFC 6533's `message/global-*` forms as well.
 * - ARF, RFC 5965: `multipart/report; report-type=feedback-report` with a `message/feedback-report`
 *   part and the original message or its headers.
 * Anything else (auto-replies, challenge mails, plain text "your mail bounced") yields nothing.
 */

export interface BounceParseOptions {
  /** BOUNCE_ADDRESS: broadcasts go out with envelope sender `<local>+<deliveryId>@<domain>` (VERP). */
  bounceAddress?: string | undefined;
}

export type BounceMessageKind = 'dsn' | 'arf';

export interface BounceMessageAnalysis {
  /** null: neither a delivery status notification nor a feedback report. */
  kind: BounceMessageKind | null;
  /** What to record; empty for a DSN that only reports success (delivered, relayed, expanded). */
  reports: BounceReport[];
}

/** More recipients than this in one report is not a bounce of ours. */
const MAX_REPORTS = 100;

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const VERP = new RegExp(`^(.+)\\+(${UUID})@[^@]+$`, 'i');
const ADDRESS = /[^\s<>,;:"()[\]]+@[^\s<>,;:"()[\]]+/g;

const DELIVERY_STATUS_TYPES = new Set(['message/delivery-status', 'message/global-delivery-status']);
const FEEDBACK_TYPES = new Set(['message/feedback-report']);
const ORIGINAL_TYPES = new Set(['message/rfc822', 'text/rfc822-headers', 'message/global', 'message/global-headers']);

/** Feedback types that are a recipient's complaint. `not-spam` is the opposite; `auth-failure` (RFC 6591) is a DMARC/SPF report. */
const COMPLAINT_FEEDBACK_TYPES = new Set(['abuse', 'fraud', 'virus', 'other']);

/** Parse a raw message into the bounce reports it carries; [] for a message that is no DSN or ARF report. */
export async function parseBounceMessage(raw: Buffer | string, opts: BounceParseOptions = {}): Promise<BounceReport[]> {
  return (await analyseBounceMessage(raw, opts)).reports;
}

/** Like parseBounceMessage, and also says whether the message was a report at all. */
export async function analyseBounceMessage(raw: Buffer | string, opts: BounceParseOptions = {}): Promise<BounceMessageAnalysis> {
  // Loaded on first use: only the bounce routes need a MIME parser.
  const { simpleParser } = await import('mailparser');
  const mail = await simpleParser(raw, {
    // Without this, mailparser folds the delivery-status part into the text body.
    keepDeliveryStatus: true,
    skipHtmlToText: true,
    skipTextToHtml: true,
    skipTextLinks: true,
    skipImageLinks: true,
  });
  const reportType = mail.headers.get('content-type') as { value?: string; params?: Record<string, string> } | undefined;
  const declared = reportType?.value?.toLowerCase() === 'multipart/report' ? reportType.params?.['report-type']?.toLowerCase() : undefined;

  const partOf = (types: Set<string>) => mail.attachments.find((a) => types.has(a.contentType.toLowerCase()));
  const status = partOf(DELIVERY_STATUS_TYPES);
  const feedback = partOf(FEEDBACK_TYPES);
  const original = originalHeaders(partOf(ORIGINAL_TYPES));
  // The envelope addresses this report was delivered to: where VERP puts the delivery id.
  const ownHeaders = mail.headerLines
    .filter((h) => ['to', 'delivered-to', 'x-original-to', 'envelope-to', 'x-envelope-to'].includes(h.key))
    .map((h) => h.line.slice(h.line.indexOf(':') + 1));

  if (feedback && (declared === 'feedback-report' || !status)) {
    return { kind: 'arf', reports: feedbackReports(text(feedback), original, ownHeaders, opts) };
  }
  if (status) {
    const inReplyTo = typeof mail.inReplyTo === 'string' ? mail.inReplyTo : undefined;
    return { kind: 'dsn', reports: deliveryStatusReports(text(status), original, ownHeaders, inReplyTo, opts) };
  }
  return { kind: null, reports: [] };
}

function deliveryStatusReports(
  body: string,
  original: FieldBlock | undefined,
  ownHeaders: string[],
  inReplyTo: string | undefined,
  opts: BounceParseOptions,
): BounceReport[] {
  const [perMessage = new Map<string, string>(), ...perRecipient] = parseFieldBlocks(body);
  const deliveryId = verpDeliveryId([...ownHeaders, perMessage.get('x-postfix-sender'), original?.get('return-path')], opts.bounceAddress);
  const messageId = messageIdOf(original?.get('message-id')) ?? messageIdOf(perMessage.get('x-original-message-id')) ?? messageIdOf(inReplyTo);

  const failures: { type: BounceType; email: string | undefined; diagnostic: string }[] = [];
  for (const block of perRecipient.slice(0, MAX_REPORTS)) {
    const action = block.get('action')?.toLowerCase();
    const diagnosticCode = block.get('diagnostic-code');
    const code = statusCode(block.get('status')) ?? statusCode(diagnosticCode);
    const type = classifyDeliveryStatus(action, code);
    if (!type) continue;
    const email = addressOf(block.get('final-recipient')) ?? addressOf(block.get('original-recipient'));
    failures.push({ type, email, diagnostic: diagnosticCode ?? `${action ?? 'failed'} ${code ?? '(no status)'}` });
  }
  if (failures.length === 0) return [];

  // A message of ours has one recipient: when the report names the message, its recipient blocks (an
  // alias that expanded, say) all come back to that one delivery. Record it once, at its worst.
  if (deliveryId || messageId) {
    const worst = failures.find((f) => f.type === 'hard') ?? failures[0]!;
    return [{ type: worst.type, source: 'dsn', deliveryId, messageId, email: worst.email, diagnostic: worst.diagnostic }];
  }
  return failures.map((f) => ({ type: f.type, source: 'dsn', deliveryId: undefined, messageId: undefined, email: f.email, diagnostic: f.diagnostic }));
}

function feedbackReports(body: string, original: FieldBlock | undefined, ownHeaders: string[], opts: BounceParseOptions): BounceReport[] {
  const [fields] = parseFieldBlocks(body);
  const feedbackType = fields?.get('feedback-type')?.toLowerCase();
  if (!fields || !feedbackType || !COMPLAINT_FEEDBACK_TYPES.has(feedbackType)) return [];
  // Providers often redact the recipient; the original Message-ID or the VERP return path still names it.
  const deliveryId = verpDeliveryId([fields.get('original-mail-from'), original?.get('return-path'), ...ownHeaders], opts.bounceAddress);
  const messageId = messageIdOf(original?.get('message-id'));
  const email = addressOf(fields.get('original-rcpt-to')) ?? addressOf(original?.get('to'));
  const agent = fields.get('user-agent');
  return [{ type: 'complaint', source: 'arf', deliveryId, messageId, email, diagnostic: `feedback-type ${feedbackType}${agent ? ` (${agent})` : ''}` }];
}

/**
 * What a DSN recipient block means for the address (RFC 3464 §2.3.3 Action, RFC 3463 status codes).
 *
 * Only failures that say the address itself is bad are hard: 5.1.x (bad destination mailbox, system or
 * syntax, mailbox moved, null MX) except 5.1.7/5.1.8, which are about *our* sender address, and 5.1.5/5.1.9,
 * which are not failures; and 5.2.1 (mailbox disabled). Every other permanent failure is recorded as soft:
 * 5.2.2 (mailbox full), 5.3.x/5.4.x (their system, routing), 5.5.x (protocol), 5.6.x (content) and 5.7.x
 * (policy: spam filters, blocklists, DMARC) describe this message or our sending, not whether the reader
 * exists — suppressing on them would empty the list after one blocklisting. If they persist, the soft
 * bounce rule in bounces.ts suppresses. Delays (4.x.x, Action delayed) and failures with a 4.x.x status
 * (a queue that gave up) are soft too. Delivered, relayed and expanded are no bounce at all.
 */
export function classifyDeliveryStatus(action: string | undefined, code: string | undefined): BounceType | null {
  const [klass, subject, detail] = (code ?? '').split('.').map(Number);
  if (action === 'delivered' || action === 'relayed' || action === 'expanded') return null;
  if (action === 'delayed') return 'soft';
  if (action !== 'failed') {
    // No or an unknown action: go by the status class alone.
    if (klass === 4) return 'soft';
    if (klass !== 5) return null;
  }
  if (klass === 5 && ((subject === 1 && ![5, 7, 8, 9].includes(detail!)) || (subject === 2 && detail === 1))) return 'hard';
  return 'soft';
}

// --- field blocks (RFC 822-style header blocks separated by blank lines) ---

export type FieldBlock = Map<string, string>;

/**
 * `Name: value` lines grouped into blocks at blank lines, names lower-cased, continuation lines unfolded.
 * The first occurrence of a repeated field wins.
 */
export function parseFieldBlocks(body: string): FieldBlock[] {
  const blocks: FieldBlock[] = [];
  let current: FieldBlock | undefined;
  let last: string | undefined;
  for (const line of body.replace(/\r\n?/g, '\n').split('\n')) {
    if (line.trim() === '') {
      if (current?.size) blocks.push(current);
      current = undefined;
      last = undefined;
    } else if (/^[ \t]/.test(line)) {
      if (current && last) current.set(last, `${current.get(last)} ${line.trim()}`.trim());
    } else {
      const m = /^([!-9;-~]+)[ \t]*:(.*)$/.exec(line);
      if (!m) {
        last = undefined;
        continue;
      }
      current ??= new Map();
      const name = m[1]!.toLowerCase();
      if (current.has(name)) {
        last = undefined;
        continue;
      }
      current.set(name, m[2]!.trim());
      last = name;
    }
  }
  if (current?.size) blocks.push(current);
  return blocks;
}

const text = (a: Attachment) => a.content.toString('utf8');

/** The header block of the returned original message (message/rfc822 or text/rfc822-headers). */
function originalHeaders(part: Attachment | undefined): FieldBlock | undefined {
  if (!part) return undefined;
  const body = text(part).replace(/\r\n?/g, '\n');
  const end = body.search(/\n[ \t]*\n/);
  return parseFieldBlocks(end === -1 ? body : body.slice(0, end))[0];
}

/** `rfc822; reader@example.com` (or `utf-8; …`, or a bare address) → the address. */
function addressOf(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const bare = value.includes(';') ? value.slice(value.indexOf(';') + 1) : value;
  return bare.match(ADDRESS)?.[0];
}

/** `5.1.1` from a Status field, or the first enhanced status code in a diagnostic. */
function statusCode(value: string | undefined): string | undefined {
  return value ? /\b([245]\.\d{1,3}\.\d{1,3})\b/.exec(value)?.[1] : undefined;
}

function messageIdOf(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const bracketed = /<[^<>\s]+@[^<>\s]+>/.exec(value)?.[0];
  if (bracketed) return bracketed;
  const bare = value.trim();
  return /^[^<>\s]+@[^<>\s]+$/.test(bare) ? `<${bare}>` : undefined;
}

/**
 * The delivery id from a VERP address (`bounces+<uuid>@domain`) among these header values. With
 * BOUNCE_ADDRESS set, only its local part counts; without it, any `+<uuid>@`.
 */
function verpDeliveryId(values: (string | undefined)[], bounceAddress: string | undefined): string | undefined {
  const local = bounceAddress?.slice(0, bounceAddress.lastIndexOf('@')).toLowerCase();
  for (const value of values) {
    for (const address of value?.match(ADDRESS) ?? []) {
      const m = VERP.exec(address);
      if (m && (local === undefined || m[1]!.toLowerCase() === local)) return m[2]!.toLowerCase();
    }
  }
  return undefined;
}

// --- recording ---

export interface BounceTally {
  /** Reports handed in. */
  received: number;
  /** Reports whose address is now suppressed (already suppressed ones included). */
  suppressed: number;
  /** Reports naming nobody we know. */
  unknown: number;
}

/** Record each report (each in its own transaction) and count the outcomes. */
export async function recordBounceReports(deps: Pick<CoreDeps, 'db' | 'secret' | 'now'>, reports: BounceReport[]): Promise<BounceTally> {
  const tally: BounceTally = { received: reports.length, suppressed: 0, unknown: 0 };
  for (const report of reports) {
    const outcome: BounceOutcome = await recordBounce(deps, report);
    if (outcome === 'suppressed') tally.suppressed++;
    else if (outcome === 'unknown_recipient') tally.unknown++;
  }
  return tally;
}
