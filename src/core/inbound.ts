import type { Config } from '../config.js';
import { analyseBounceMessage, recordBounceReports } from './bounce-messages.js';
import type { BounceReport } from './bounces.js';
import type { CoreDeps } from './deps.js';
import { verifyLinkToken } from './tokens.js';
import { type UnsubscribeOutcome, unsubscribe } from './unsubscribe.js';

/**
 * Mail that comes back to quire, whichever way it arrives (a Worker's email() handler, the Node SMTP
 * listener, `quire inbound` behind Postfix). Two addresses take mail:
 * - `unsubscribe@<MAIL_FROM's domain>`, the mailto target of List-Unsubscribe (RFC 2369 §3.2): any message
 *   to it is an opt-out, whatever its body (RFC 8058 §3.2 asks the same of the mailto form; CAN-SPAM and
 *   the Gmail/Yahoo bulk-sender rules ask that no opt-out be lost). The signed link token says who.
 * - `<BOUNCE_ADDRESS local>+<delivery id>@<domain>`, the VERP envelope sender of every delivery: delivery
 *   status notifications (RFC 3464) and feedback reports (RFC 5965) come back to it (RFC 5321 §4.5.5).
 * Everything else is rejected. A malformed message never throws: it is dropped with the reason. Only a
 * database failure throws, so the caller answers "try again later" and the sender keeps the message.
 *
 * The two addresses are built by src/mail/headers.ts (unsubscribeMailto, verpAddress), which core may not
 * import (core-sends-nothing); tests/integration/inbound.test.ts checks that what it builds is read here.
 */

export type InboundRoute = { kind: 'unsubscribe' } | { kind: 'bounce'; deliveryId: string | undefined };

export type InboundOutcome =
  | { status: 'done'; route: 'unsubscribe'; reason: UnsubscribeOutcome }
  | { status: 'done'; route: 'bounce'; reason: 'dsn' | 'arf'; reports: number; suppressed: number; unknown: number }
  | { status: 'dropped'; route: 'unsubscribe'; reason: 'no_token' | 'token_expired' }
  | { status: 'dropped'; route: 'bounce'; reason: 'not_a_report' | 'unreadable' }
  | { status: 'rejected'; route: null; reason: 'unknown_recipient' | 'too_large' };

export interface InboundMessage {
  /** The message as received (RFC 5322), headers and body. */
  raw: Uint8Array | string;
  /** The envelope recipient (RCPT TO), not a header: only the envelope says which address was used. */
  to: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A link token as tokens.ts writes it (base64url, 51 characters), standing alone. */
const TOKEN = /(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{50,52}(?![A-Za-z0-9_-])/g;
/** The subject the mailto URI asks for: `unsubscribe <token>` (a client may leave the %20 encoded). */
const SUBJECT_TOKEN = /\bunsubscribe(?:\s|%20)+([A-Za-z0-9_-]{50,52})(?![A-Za-z0-9_-])/i;
/** Tokens tried per message: each is one HMAC, and a message full of token-shaped strings is no opt-out. */
const MAX_CANDIDATES = 20;

/** Which of our addresses `recipient` is, or undefined when it is not ours. */
export function inboundRoute(
  config: Pick<Config, 'MAIL_FROM' | 'BOUNCE_ADDRESS'>,
  recipient: string,
): InboundRoute | undefined {
  const to = splitAddress(recipient.trim().replace(/^<(.*)>$/, '$1'));
  if (!to) return undefined;
  const bounce = config.BOUNCE_ADDRESS ? splitAddress(config.BOUNCE_ADDRESS) : undefined;
  // VERP (and RFC 5233 subaddressing, which Email Routing applies): `<local>+<detail>@<domain>`.
  if (bounce && to.domain === bounce.domain && to.local.startsWith(`${bounce.local}+`)) {
    const detail = to.local.slice(bounce.local.length + 1);
    return { kind: 'bounce', deliveryId: UUID.test(detail) ? detail : undefined };
  }
  if (bounce && to.domain === bounce.domain && to.local === bounce.local)
    return { kind: 'bounce', deliveryId: undefined };
  const from = splitAddress(/<([^<>\s]+@[^<>\s]+)>\s*$/.exec(config.MAIL_FROM)?.[1] ?? config.MAIL_FROM.trim());
  if (from && to.domain === from.domain && to.local === 'unsubscribe') return { kind: 'unsubscribe' };
  return undefined;
}

/**
 * What can be refused before the message is read: a recipient that is not ours, or a declared size over
 * INBOUND_MAX_BYTES. Undefined: go on and read it.
 */
export function screenInbound(
  config: Pick<Config, 'MAIL_FROM' | 'BOUNCE_ADDRESS' | 'INBOUND_MAX_BYTES'>,
  recipient: string,
  size?: number,
): InboundOutcome | undefined {
  if (!inboundRoute(config, recipient)) return { status: 'rejected', route: null, reason: 'unknown_recipient' };
  if (size !== undefined && size > config.INBOUND_MAX_BYTES)
    return { status: 'rejected', route: null, reason: 'too_large' };
  return undefined;
}

/** Decide what a message to one of our addresses means, and act on it. */
export async function receiveInbound(deps: CoreDeps, message: InboundMessage): Promise<InboundOutcome> {
  const raw =
    typeof message.raw === 'string'
      ? Buffer.from(message.raw, 'utf8')
      : Buffer.from(message.raw.buffer, message.raw.byteOffset, message.raw.byteLength);
  const route = inboundRoute(deps.config, message.to);
  if (!route) return { status: 'rejected', route: null, reason: 'unknown_recipient' };
  if (raw.byteLength > deps.config.INBOUND_MAX_BYTES) return { status: 'rejected', route: null, reason: 'too_large' };
  return route.kind === 'unsubscribe' ? mailtoUnsubscribe(deps, raw) : bounceReport(deps, raw, route.deliveryId);
}

/** Any message to the unsubscribe address counts; the token in its subject (or, failing that, anywhere in it) says who. */
async function mailtoUnsubscribe(deps: CoreDeps, raw: Buffer): Promise<InboundOutcome> {
  let expired = false;
  for (const token of await tokenCandidates(raw)) {
    const check = verifyLinkToken(deps.secret, 'unsubscribe', token, deps.now());
    if (check.ok) {
      // The one-click path: status, suppression and the ledger event in one transaction.
      const reason = await unsubscribe(deps, check.subscriberId, {}, 'mailto');
      return { status: 'done', route: 'unsubscribe', reason };
    }
    if (check.reason === 'expired') expired = true;
  }
  return { status: 'dropped', route: 'unsubscribe', reason: expired ? 'token_expired' : 'no_token' };
}

/** Token-shaped strings: the subject's `unsubscribe <token>` first, then the subject, the body and the raw text. */
async function tokenCandidates(raw: Buffer): Promise<string[]> {
  let subject = '';
  let body = '';
  try {
    // Loaded on first use, as the bounce reader does: decoded subject (RFC 2047) and bodies (QP, base64).
    const { simpleParser } = await import('mailparser');
    const mail = await simpleParser(raw, {
      skipHtmlToText: true,
      skipTextToHtml: true,
      skipTextLinks: true,
      skipImageLinks: true,
    });
    subject = mail.subject ?? '';
    body = `${mail.text ?? ''}\n${typeof mail.html === 'string' ? mail.html : ''}`;
  } catch {
    // Unparseable MIME: the raw text below is still searched.
  }
  const found = new Set<string>();
  const first = SUBJECT_TOKEN.exec(subject)?.[1];
  if (first) found.add(first);
  for (const text of [subject, body, raw.toString('latin1')]) {
    for (const m of text.replace(/%20/gi, ' ').matchAll(TOKEN)) {
      if (found.size >= MAX_CANDIDATES) return [...found];
      found.add(m[0]);
    }
  }
  return [...found];
}

async function bounceReport(deps: CoreDeps, raw: Buffer, deliveryId: string | undefined): Promise<InboundOutcome> {
  let analysis: Awaited<ReturnType<typeof analyseBounceMessage>>;
  try {
    analysis = await analyseBounceMessage(raw, { bounceAddress: deps.config.BOUNCE_ADDRESS });
  } catch {
    return { status: 'dropped', route: 'bounce', reason: 'unreadable' };
  }
  // Auto-replies go to the envelope sender too (RFC 3834 §4): they are no bounce.
  if (!analysis.kind) return { status: 'dropped', route: 'bounce', reason: 'not_a_report' };
  const tally = await recordBounceReports(deps, ownReports(analysis.reports, deliveryId));
  return {
    status: 'done',
    route: 'bounce',
    reason: analysis.kind,
    reports: tally.received,
    suppressed: tally.suppressed,
    unknown: tally.unknown,
  };
}

/**
 * Anyone can send mail to the bounce address, so a report is matched only through what our own mail
 * carried — the delivery id (VERP) or Message-ID, both random per delivery — never through the address
 * it names: otherwise a forged report could suppress any subscriber. The delivery id of the envelope
 * address is the surest: a message of ours has one recipient, so every report in it is about that
 * delivery, recorded once, at its worst.
 */
function ownReports(reports: BounceReport[], deliveryId: string | undefined): BounceReport[] {
  const matchable = reports.map((r) => ({ ...r, email: undefined }));
  const [first] = matchable;
  if (!deliveryId || !first) return matchable;
  const worst = matchable.find((r) => r.type === 'complaint') ?? matchable.find((r) => r.type === 'hard') ?? first;
  return [{ ...worst, deliveryId }];
}

/** One line on what happened, for a reject reason, an SMTP reply or the CLI: no address, token or id in it. */
export function describeInbound(outcome: InboundOutcome, config: Pick<Config, 'INBOUND_MAX_BYTES'>): string {
  switch (outcome.reason) {
    case 'unknown_recipient':
      return 'This address takes no mail: only the unsubscribe and bounce addresses are read here.';
    case 'too_large':
      return `Message larger than ${config.INBOUND_MAX_BYTES} bytes.`;
    case 'unsubscribed':
      return 'Unsubscribed.';
    case 'already_unsubscribed':
      return 'Already unsubscribed.';
    case 'no_token':
      return 'No valid unsubscribe token in the subject or body; nothing was changed. Use the unsubscribe link in the newsletter.';
    case 'token_expired':
      return 'The unsubscribe token has expired; nothing was changed. Use the unsubscribe link in a recent newsletter.';
    case 'not_a_report':
      return 'Not a delivery status notification or feedback report; dropped.';
    case 'unreadable':
      return 'Unreadable message; dropped.';
    default: {
      const o = outcome as Extract<InboundOutcome, { route: 'bounce'; status: 'done' }>;
      return `${o.reason === 'dsn' ? 'Delivery status notification' : 'Feedback report'}: ${o.reports} report(s), ${o.suppressed} suppressed, ${o.unknown} not matched.`;
    }
  }
}

function splitAddress(address: string): { local: string; domain: string } | undefined {
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) return undefined;
  // Local parts are compared case-insensitively, as every mailbox provider does in practice (RFC 5321 §2.4 allows it).
  return { local: address.slice(0, at).toLowerCase(), domain: address.slice(at + 1).toLowerCase() };
}
