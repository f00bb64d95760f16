import type { BounceType } from '../../db/schema.js';
import type { BounceReport } from '../bounces.js';
import { classifyFailure } from './classify.js';
import { readComplaint } from './complaints.js';
import { FAMILIES } from './families/index.js';
import { addressesIn, messageIdOf, verpDeliveryId } from './fields.js';
import { isBounceSender, isChallenge, looksLikeBounce } from './gate.js';
import { type MailView, viewMessage } from './message.js';
import { ownAddresses, paragraphAbout } from './prose.js';
import { embeddedStatusFields, readStatusFields } from './rfc3464.js';
import { scanText } from './text-scan.js';
import type { Failure, ProseFailure } from './types.js';

/**
 * The bounce reader. In order: a complaint (RFC 5965 ARF, or a non-ARF loop); the RFC 3464
 * message/delivery-status part; delivery-status fields pasted into the text; the family modules for
 * MTAs that write prose; a generic scan of the text. A message that shows no bounce's marks (an
 * auto-reply, RFC 3834; a newsletter; a DMARC report) never reaches the prose readers.
 */

export interface ReadOptions {
  /** BOUNCE_ADDRESS: broadcasts go out with envelope sender `<local>+<deliveryId>@<domain>` (VERP). */
  bounceAddress?: string | undefined;
}

export interface Reading {
  /** null: neither a delivery status notification nor a feedback report. */
  kind: 'dsn' | 'arf' | null;
  /** What to record; empty for a report that only tells of success. */
  reports: BounceReport[];
  /** Which reader understood it, for the measurements and the logs. */
  reader?: string | undefined;
}

/** More recipients than this in one report is not a bounce of ours. */
const MAX_REPORTS = 100;

export async function readBounce(raw: Buffer | string, opts: ReadOptions = {}): Promise<Reading> {
  const mail = await viewMessage(raw);
  const complaint = readComplaint(mail, opts.bounceAddress);
  if (complaint) return { kind: 'arf', reports: complaint.reports, reader: 'arf' };
  if (isChallenge(mail)) return { kind: null, reports: [] };

  let perMessage = new Map<string, string>();
  let failures: Failure[] = [];
  let successes = 0;
  const contextFor = (email: string | undefined) => (email ? paragraphAbout(mail.report, email) : '');
  for (const part of mail.statusParts) {
    const reading = readStatusFields(part, contextFor);
    if (reading.perMessage.size && !perMessage.size) perMessage = reading.perMessage;
    failures.push(...reading.failures);
    successes += reading.successes;
  }
  let reader = failures.length ? 'rfc3464' : undefined;
  if (failures.length === 0 && successes > 0) return { kind: 'dsn', reports: [], reader: 'rfc3464' };
  if (!looksLikeBounce(mail)) return { kind: null, reports: [] };

  const own = ownAddresses(mail);
  if (failures.length === 0) {
    const embedded = embeddedStatusFields(mail.body);
    if (embedded) {
      failures = readStatusFields(embedded, contextFor).failures;
      reader = 'rfc3464-in-text';
    }
  }
  if (failures.length === 0 || failures.some((f) => !f.email)) {
    const prose = readProse(mail, own);
    if (failures.length === 0) {
      failures = prose.failures;
      reader = prose.reader;
    } else fillAddresses(failures, prose.failures, addressesIn(mail.header('x-failed-recipients')));
  }
  if (failures.length === 0) return { kind: mail.statusParts.length ? 'dsn' : null, reports: [] };
  return { kind: 'dsn', reports: toReports(failures, mail, perMessage, opts), reader };
}

function readProse(mail: MailView, own: Set<string>): { failures: Failure[]; reader: string | undefined } {
  for (const family of FAMILIES) {
    if (!family.matches(mail)) continue;
    const found = classified(family.read(mail, own));
    if (found.length) return { failures: found, reader: family.name };
  }
  return { failures: isBounceSender(mail) ? classified(scanText(mail, own)) : [], reader: 'text' };
}

function classified(found: ProseFailure[]): Failure[] {
  const out: Failure[] = [];
  for (const f of found) {
    const type: BounceType | null = classifyFailure({
      action: 'failed',
      status: f.status,
      diagnostic: f.diagnostic,
      hint: f.hint,
    });
    if (type && f.email) out.push({ type, email: f.email, diagnostic: f.diagnostic.slice(0, 1000) });
  }
  return out;
}

/** A delivery-status part that lost its recipients: the prose or X-Failed-Recipients name them. */
function fillAddresses(failures: Failure[], prose: Failure[], failed: string[]) {
  const names = [...prose.map((p) => p.email), ...failed].filter((e): e is string => !!e);
  let i = 0;
  for (const f of failures) if (!f.email) f.email = names[i++] ?? names[0];
}

function toReports(
  failures: Failure[],
  mail: MailView,
  perMessage: Map<string, string>,
  opts: ReadOptions,
): BounceReport[] {
  const original = mail.original;
  const deliveryId = verpDeliveryId(
    [...mail.ownHeaders, perMessage.get('x-postfix-sender'), original?.get('return-path')],
    opts.bounceAddress,
  );
  const messageId =
    messageIdOf(original?.get('message-id')) ??
    messageIdOf(perMessage.get('x-original-message-id')) ??
    messageIdOf(mail.inReplyTo);
  const capped = failures.slice(0, MAX_REPORTS);
  // A message of ours has one recipient: when the report names the message, its recipient blocks (an
  // alias that expanded, say) all come back to that one delivery. Record it once, at its worst.
  if (deliveryId || messageId) {
    const worst = capped.find((f) => f.type === 'hard') ?? capped[0]!;
    return [
      { type: worst.type, source: 'dsn', deliveryId, messageId, email: worst.email, diagnostic: worst.diagnostic },
    ];
  }
  return capped.map((f) => ({
    type: f.type,
    source: 'dsn',
    deliveryId: undefined,
    messageId: undefined,
    email: f.email,
    diagnostic: f.diagnostic,
  }));
}
