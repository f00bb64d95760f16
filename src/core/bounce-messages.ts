import { readBounce } from './bounce-reading/index.js';
import { type BounceOutcome, type BounceReport, recordBounce } from './bounces.js';
import type { CoreDeps } from './deps.js';

/**
 * Bounce and complaint messages as they arrive by mail. The reading lives in ./bounce-reading/:
 * - DSN, RFC 3464: `multipart/report; report-type=delivery-status` with a `message/delivery-status` part
 *   (RFC 6533's `message/global-*` forms as well), and the same fields wherever a broken report left them;
 * - the plain-prose reports of the MTAs that send no DSN (qmail, Exim, Exchange, Gmail, Yahoo, gateways…);
 * - ARF, RFC 5965: `multipart/report; report-type=feedback-report`, and Hotmail's non-ARF complaints.
 * Auto-replies (RFC 3834), delivery success reports and DMARC reports yield nothing.
 */

export { classifyDeliveryStatus } from './bounce-reading/classify.js';

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

/** Parse a raw message into the bounce reports it carries; [] for a message that is no DSN or ARF report. */
export async function parseBounceMessage(raw: Buffer | string, opts: BounceParseOptions = {}): Promise<BounceReport[]> {
  return (await analyseBounceMessage(raw, opts)).reports;
}

/** Like parseBounceMessage, and also says whether the message was a report at all. */
export async function analyseBounceMessage(
  raw: Buffer | string,
  opts: BounceParseOptions = {},
): Promise<BounceMessageAnalysis> {
  const { kind, reports } = await readBounce(raw, opts);
  return { kind, reports };
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
export async function recordBounceReports(
  deps: Pick<CoreDeps, 'db' | 'secret' | 'now'>,
  reports: BounceReport[],
): Promise<BounceTally> {
  const tally: BounceTally = { received: reports.length, suppressed: 0, unknown: 0 };
  for (const report of reports) {
    const outcome: BounceOutcome = await recordBounce(deps, report);
    if (outcome === 'suppressed') tally.suppressed++;
    else if (outcome === 'unknown_recipient') tally.unknown++;
  }
  return tally;
}
