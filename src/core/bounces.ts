import { and, eq, gte, sql } from 'drizzle-orm';
import type { Tx } from '../db/client.js';
import { type BounceType, bounceEvents, deliveries, subscribers } from '../db/schema.js';
import { appendConsentEvent } from './consent.js';
import type { CoreDeps } from './deps.js';
import { checkEmail } from './email-address.js';
import { emailHashFor } from './identity.js';
import { suppress } from './suppression.js';

/** Soft bounces suppress only when they persist: this many, spread over more than this many days. */
export const SOFT_BOUNCE_LIMIT = 3;
export const SOFT_BOUNCE_SPAN_DAYS = 14;

export interface BounceReport {
  type: BounceType;
  /** `smtp` and `api`: the relay or the provider's API refused the message when it was sent. */
  source: 'smtp' | 'api' | 'webhook' | 'dsn' | 'arf';
  /** How the bounce names its recipient: any one is enough. */
  deliveryId?: string | undefined;
  messageId?: string | undefined;
  email?: string | undefined;
  diagnostic?: string | undefined;
}

export type BounceOutcome = 'suppressed' | 'recorded' | 'unknown_recipient';

/**
 * Record a bounce or complaint from any source. Hard bounces and complaints suppress the address at
 * once; soft bounces when they persist. Suppression, subscriber status and ledger event share one
 * transaction.
 */
export async function recordBounce(
  deps: Pick<CoreDeps, 'db' | 'secret' | 'now'>,
  report: BounceReport,
): Promise<BounceOutcome> {
  const now = deps.now();
  return deps.db.transaction(async (tx) => {
    const target = await resolveRecipient(tx, deps.secret, report);
    if (!target) return 'unknown_recipient' as const;
    // Relay text is anyone's text: PostgreSQL refuses NUL in a text column, and other control characters have no use here.
    const diagnostic =
      report.diagnostic
        ?.split('\n')[0]
        // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this pattern finds
        ?.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, ' ')
        .slice(0, 500) ?? null;
    await tx.insert(bounceEvents).values({
      emailHash: target.emailHash,
      deliveryId: target.deliveryId,
      type: report.type,
      source: report.source,
      diagnostic,
      at: now,
    });
    if (target.deliveryId && report.type !== 'soft') {
      await tx
        .update(deliveries)
        .set({ status: 'bounced', lastError: diagnostic })
        .where(eq(deliveries.id, target.deliveryId));
    }

    let suppressReason: 'hard_bounce' | 'complaint' | undefined;
    if (report.type === 'complaint') suppressReason = 'complaint';
    else if (report.type === 'hard') suppressReason = 'hard_bounce';
    else if (await softBouncesPersist(tx, target.emailHash, now)) suppressReason = 'hard_bounce';
    if (!suppressReason) return 'recorded' as const;

    await suppress(tx, target.emailHash, suppressReason, now);
    if (target.subscriberId) await markSubscriber(tx, target.subscriberId, suppressReason, report, now);
    return 'suppressed' as const;
  });
}

async function softBouncesPersist(tx: Tx, emailHash: string, now: Date): Promise<boolean> {
  const windowStart = new Date(now.getTime() - 365 * 86_400_000);
  const [row] = await tx
    .select({
      n: sql<number>`count(*)::int`,
      first: sql<string>`min(${bounceEvents.at})`,
      last: sql<string>`max(${bounceEvents.at})`,
    })
    .from(bounceEvents)
    .where(
      and(eq(bounceEvents.emailHash, emailHash), eq(bounceEvents.type, 'soft'), gte(bounceEvents.at, windowStart)),
    );
  if (!row || row.n < SOFT_BOUNCE_LIMIT) return false;
  return new Date(row.last).getTime() - new Date(row.first).getTime() > SOFT_BOUNCE_SPAN_DAYS * 86_400_000;
}

async function markSubscriber(
  tx: Tx,
  subscriberId: string,
  reason: 'hard_bounce' | 'complaint',
  report: BounceReport,
  now: Date,
) {
  const [sub] = await tx.select().from(subscribers).where(eq(subscribers.id, subscriberId)).for('update');
  if (!sub || sub.status === 'erased') return;
  const status = reason === 'complaint' ? 'complained' : 'bounced';
  if (sub.status === status) return;
  await tx.update(subscribers).set({ status, statusChangedAt: now }).where(eq(subscribers.id, sub.id));
  await appendConsentEvent(tx, {
    subscriberId: sub.id,
    emailHash: sub.emailHash,
    kind: 'suppressed',
    source: `${report.source}:${report.type === 'soft' ? 'soft_bounces' : reason}`,
    occurredAt: now,
  });
}

async function resolveRecipient(tx: Tx, secret: string, r: BounceReport) {
  const byDelivery = async (where: ReturnType<typeof eq>) => {
    const [row] = await tx
      .select({ deliveryId: deliveries.id, subscriberId: deliveries.subscriberId, emailHash: subscribers.emailHash })
      .from(deliveries)
      .leftJoin(subscribers, eq(subscribers.id, deliveries.subscriberId))
      .where(where)
      .limit(1);
    return row?.emailHash
      ? { deliveryId: row.deliveryId, subscriberId: row.subscriberId, emailHash: row.emailHash }
      : undefined;
  };
  if (r.deliveryId && /^[0-9a-f-]{36}$/i.test(r.deliveryId)) {
    const found = await byDelivery(eq(deliveries.id, r.deliveryId));
    if (found) return found;
  }
  // A Message-ID never holds a control character (RFC 5322 §3.6.4); one with NUL would fail the query, not just miss.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this pattern finds
  if (r.messageId && !/[\u0000-\u001f\u007f]/.test(r.messageId.trim())) {
    const id = r.messageId.trim().startsWith('<') ? r.messageId.trim() : `<${r.messageId.trim()}>`;
    const found = await byDelivery(eq(deliveries.messageId, id));
    if (found) return found;
  }
  if (r.email) {
    const checked = checkEmail(r.email);
    if (!checked.ok) return undefined;
    const emailHash = emailHashFor(secret, checked.key);
    const [sub] = await tx
      .select({ id: subscribers.id })
      .from(subscribers)
      .where(eq(subscribers.emailHash, emailHash))
      .limit(1);
    // An address we never held is nobody of ours: keep no hash of it (a report can name anyone).
    if (!sub) return undefined;
    return { deliveryId: null, subscriberId: sub.id, emailHash };
  }
  return undefined;
}
