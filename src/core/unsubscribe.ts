import { and, eq, isNull } from 'drizzle-orm';
import type { Tx } from '../db/client.js';
import { confirmTokens, subscribers, subscriptions } from '../db/schema.js';
import { appendConsentEvent } from './consent.js';
import type { CoreDeps, RequestMeta } from './deps.js';
import { ipHashFor } from './identity.js';
import { liftSuppressions, suppress } from './suppression.js';

export type UnsubscribeOutcome = 'unsubscribed' | 'already_unsubscribed';

/**
 * One-click unsubscribe (RFC 8058 §3.2): idempotent, and a success even for a subscriber who no longer
 * exists, so a mail provider's POST never sees an error it would retry or report.
 */
export async function unsubscribe(
  deps: CoreDeps,
  subscriberId: string,
  meta: RequestMeta,
  source = 'one-click',
): Promise<UnsubscribeOutcome> {
  const now = deps.now();
  return deps.db.transaction(async (tx) => {
    const [sub] = await tx.select().from(subscribers).where(eq(subscribers.id, subscriberId)).for('update');
    if (!sub || (sub.status !== 'active' && sub.status !== 'pending')) return 'already_unsubscribed' as const;
    await tx
      .update(subscribers)
      .set({ status: 'unsubscribed', statusChangedAt: now })
      .where(eq(subscribers.id, sub.id));
    await suppress(tx, sub.emailHash, 'unsubscribed', now);
    // A confirmation link still in the inbox must not undo this unsubscribe.
    await tx
      .update(confirmTokens)
      .set({ usedAt: now })
      .where(and(eq(confirmTokens.subscriberId, sub.id), isNull(confirmTokens.usedAt)));
    await recordStatusEvent(deps, tx, sub, 'unsubscribed', source, meta, now);
    return 'unsubscribed' as const;
  });
}

/** "Changed your mind?" from the unsubscribe page: the link proves the mailbox, so no new opt-in mail. */
export async function resubscribe(
  deps: CoreDeps,
  subscriberId: string,
  meta: RequestMeta,
  source = 'unsubscribe-page',
): Promise<'resubscribed' | 'unchanged'> {
  const now = deps.now();
  return deps.db.transaction(async (tx) => {
    const [sub] = await tx.select().from(subscribers).where(eq(subscribers.id, subscriberId)).for('update');
    if (sub?.status !== 'unsubscribed' || !sub.confirmedAt) return 'unchanged' as const;
    await tx.update(subscribers).set({ status: 'active', statusChangedAt: now }).where(eq(subscribers.id, sub.id));
    await liftSuppressions(tx, sub.emailHash, ['unsubscribed']);
    await recordStatusEvent(deps, tx, sub, 'resubscribed', source, meta, now);
    return 'resubscribed' as const;
  });
}

/** The ledger event of a status change, naming the topics the subscriber had chosen at that moment. */
async function recordStatusEvent(
  deps: CoreDeps,
  tx: Tx,
  sub: { id: string; emailHash: string },
  kind: 'unsubscribed' | 'resubscribed',
  source: string,
  meta: RequestMeta,
  now: Date,
) {
  const topics = await tx
    .select({ topic: subscriptions.topic })
    .from(subscriptions)
    .where(and(eq(subscriptions.subscriberId, sub.id), eq(subscriptions.subscribed, true)));
  await appendConsentEvent(tx, {
    subscriberId: sub.id,
    emailHash: sub.emailHash,
    kind,
    topics: topics.map((t) => t.topic),
    source,
    ipHash: ipHashFor(deps.secret, meta.ip),
    userAgent: meta.userAgent ?? null,
    occurredAt: now,
  });
}
