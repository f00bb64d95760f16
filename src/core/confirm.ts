import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Tx } from '../db/client.js';
import { confirmTokens, subscribers, subscriptions } from '../db/schema.js';
import { appendConsentEvent } from './consent.js';
import type { CoreDeps, RequestMeta } from './deps.js';
import { AppError } from './errors.js';
import { ipHashFor } from './identity.js';
import { enqueueDelivery } from './outbox.js';
import { liftedByConfirmation, liftSuppressions, suppressionReasonsFor } from './suppression.js';
import { hashToken } from './tokens.js';

export type ConfirmOutcome = 'confirmed' | 'already_confirmed';

export const invalidConfirmLink = () =>
  new AppError('invalid_token', 'This confirmation link is not valid. Please sign up again to get a new one.');

/** Look a confirmation token up without changing anything (the GET page). */
export async function inspectConfirmToken(deps: CoreDeps, token: string): Promise<'valid' | 'used' | 'expired'> {
  if (!isPlausibleToken(token)) throw invalidConfirmLink();
  const [row] = await deps.db
    .select()
    .from(confirmTokens)
    .where(eq(confirmTokens.tokenHash, hashToken(token)));
  if (!row) throw invalidConfirmLink();
  if (row.usedAt) return 'used';
  if (row.expiresAt.getTime() <= deps.now().getTime()) return 'expired';
  return 'valid';
}

/** POST /confirm/:token — single use, expires, and the only thing that makes a subscriber active. */
export async function confirmSubscription(deps: CoreDeps, token: string, meta: RequestMeta): Promise<ConfirmOutcome> {
  if (!isPlausibleToken(token)) throw invalidConfirmLink();
  const now = deps.now();
  const outcome = await deps.db.transaction(async (tx) => {
    const [row] = await tx
      .select()
      .from(confirmTokens)
      .where(eq(confirmTokens.tokenHash, hashToken(token)))
      .for('update');
    if (!row) throw invalidConfirmLink();
    if (row.usedAt) return 'already_confirmed' as const;
    if (row.expiresAt.getTime() <= now.getTime()) {
      throw new AppError('token_expired', 'This confirmation link has expired. Please sign up again to get a new one.');
    }
    const [sub] = await tx.select().from(subscribers).where(eq(subscribers.id, row.subscriberId)).for('update');
    if (!sub || sub.status === 'erased') throw invalidConfirmLink();

    // Spend every outstanding link of this subscriber, not just this one: an older mail's link must not
    // reactivate someone who confirms now and unsubscribes later.
    await tx
      .update(confirmTokens)
      .set({ usedAt: now })
      .where(and(eq(confirmTokens.subscriberId, row.subscriberId), isNull(confirmTokens.usedAt)));
    if (sub.status === 'active') return 'already_confirmed' as const;

    const reasons = await suppressionReasonsFor(tx, sub.emailHash);
    // An address the author blocked stays blocked; the link is spent but nothing else changes.
    if (reasons.includes('manual')) return 'already_confirmed' as const;

    const wasUnsubscribed = sub.status === 'unsubscribed';
    await tx
      .update(subscribers)
      .set({ status: 'active', confirmedAt: now, statusChangedAt: now })
      .where(eq(subscribers.id, sub.id));
    await setTopics(tx, sub.id, row.topics, now);
    await liftSuppressions(tx, sub.emailHash, liftedByConfirmation);
    await enqueueDelivery(tx, { kind: 'welcome', subscriberId: sub.id }, now);
    await appendConsentEvent(tx, {
      subscriberId: sub.id,
      emailHash: sub.emailHash,
      kind: 'confirmed',
      consentTextVersion: row.consentTextVersion,
      topics: row.topics,
      source: wasUnsubscribed ? 'resubscribe-confirmation' : row.source,
      ipHash: ipHashFor(deps.secret, meta.ip),
      userAgent: meta.userAgent ?? null,
      occurredAt: now,
    });
    return 'confirmed' as const;
  });
  if (outcome === 'confirmed') deps.outboxChanged?.();
  return outcome;
}

/** Subscribe to exactly these topics (others keep their recorded choice). */
export async function setTopics(tx: Tx, subscriberId: string, slugs: string[], now: Date): Promise<void> {
  if (slugs.length === 0) return;
  await tx
    .insert(subscriptions)
    .values(slugs.map((topic) => ({ subscriberId, topic, subscribed: true, changedAt: now })))
    .onConflictDoUpdate({
      target: [subscriptions.subscriberId, subscriptions.topic],
      set: { subscribed: true, changedAt: sql`excluded.changed_at` },
    });
}

const isPlausibleToken = (token: string) => /^[A-Za-z0-9_-]{20,100}$/.test(token);
