import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.js';
import { bounceEvents, confirmTokens, deliveries, subscribers, subscriptions } from '../db/schema.js';
import { appendConsentEvent, consentHistory } from './consent.js';
import type { CoreDeps, RequestMeta } from './deps.js';
import { AppError } from './errors.js';
import { ipHashFor } from './identity.js';
import { suppress } from './suppression.js';
import { listTopics } from './topics.js';
import { unsubscribe } from './unsubscribe.js';

export interface Preferences {
  email: string;
  name: string | null;
  locale: string;
  status: string;
  topics: { slug: string; name: string; description: string; subscribed: boolean }[];
}

export interface PreferencesUpdate {
  name?: string | null | undefined;
  /** The complete set of topics the subscriber wants; topics left out are turned off. */
  topics?: string[] | undefined;
  unsubscribeAll?: boolean | undefined;
}

const gone = () => new AppError('invalid_token', 'This link is not valid.');

async function loadSubscriber(db: DbOrTx, id: string, lock = false) {
  const q = db.select().from(subscribers).where(eq(subscribers.id, id));
  const [sub] = lock ? await q.for('update') : await q;
  if (!sub || sub.status === 'erased' || sub.email === null) throw gone();
  return { ...sub, email: sub.email };
}

export async function getPreferences(deps: CoreDeps, subscriberId: string): Promise<Preferences> {
  const sub = await loadSubscriber(deps.db, subscriberId);
  return describe(deps.db, sub);
}

async function describe(
  db: DbOrTx,
  sub: { id: string; email: string; name: string | null; locale: string; status: string },
) {
  const [all, mine] = await Promise.all([
    listTopics(db),
    db.select().from(subscriptions).where(eq(subscriptions.subscriberId, sub.id)),
  ]);
  const on = new Set(mine.filter((s) => s.subscribed).map((s) => s.topic));
  return {
    email: sub.email,
    name: sub.name,
    locale: sub.locale,
    status: sub.status,
    topics: all.map((t) => ({ slug: t.slug, name: t.name, description: t.description, subscribed: on.has(t.slug) })),
  };
}

export async function updatePreferences(
  deps: CoreDeps,
  subscriberId: string,
  update: PreferencesUpdate,
  meta: RequestMeta,
): Promise<Preferences> {
  if (update.unsubscribeAll) {
    // Validate first: the unsubscribe commits on its own, and a 422 must not have side effects.
    if (update.topics !== undefined) {
      const known = new Set((await listTopics(deps.db)).map((t) => t.slug));
      const unknown = update.topics.filter((t) => !known.has(t));
      if (unknown.length > 0) {
        throw new AppError('unknown_topic', `Unknown topic: ${unknown.join(', ')}.`, {
          fields: [{ path: 'topics', message: 'unknown topic' }],
        });
      }
    }
    await unsubscribe(deps, subscriberId, meta, 'preferences');
  }
  const now = deps.now();
  await deps.db.transaction(async (tx) => {
    const sub = await loadSubscriber(tx, subscriberId, true);
    if (update.name !== undefined && update.name !== sub.name) {
      await tx.update(subscribers).set({ name: update.name }).where(eq(subscribers.id, sub.id));
    }
    if (update.topics === undefined) return;
    const all = await listTopics(tx);
    const known = new Set(all.map((t) => t.slug));
    const unknown = update.topics.filter((t) => !known.has(t));
    if (unknown.length > 0) {
      throw new AppError('unknown_topic', `Unknown topic: ${unknown.join(', ')}.`, {
        fields: [{ path: 'topics', message: 'unknown topic' }],
      });
    }
    const wanted = new Set(update.topics);
    const current = await tx.select().from(subscriptions).where(eq(subscriptions.subscriberId, sub.id));
    const was = new Set(current.filter((s) => s.subscribed).map((s) => s.topic));
    const changed = all.some((t) => wanted.has(t.slug) !== was.has(t.slug));
    if (!changed) return;
    await tx
      .insert(subscriptions)
      .values(all.map((t) => ({ subscriberId: sub.id, topic: t.slug, subscribed: wanted.has(t.slug), changedAt: now })))
      .onConflictDoUpdate({
        target: [subscriptions.subscriberId, subscriptions.topic],
        set: { subscribed: sql`excluded.subscribed`, changedAt: sql`excluded.changed_at` },
      });
    await appendConsentEvent(tx, {
      subscriberId: sub.id,
      emailHash: sub.emailHash,
      kind: 'topics_changed',
      topics: [...wanted].sort(),
      source: 'preferences',
      ipHash: ipHashFor(deps.secret, meta.ip),
      userAgent: meta.userAgent ?? null,
      occurredAt: now,
    });
  });
  return getPreferences(deps, subscriberId);
}

/** Everything held about one subscriber (GDPR art. 15 and 20), as one JSON document. */
export async function exportSubscriberData(deps: CoreDeps, subscriberId: string) {
  const sub = await loadSubscriber(deps.db, subscriberId);
  const [prefs, history, sent] = await Promise.all([
    describe(deps.db, sub),
    consentHistory(deps.db, sub.id),
    deps.db
      .select({
        kind: deliveries.kind,
        status: deliveries.status,
        createdAt: deliveries.createdAt,
        sentAt: deliveries.sentAt,
        messageId: deliveries.messageId,
      })
      .from(deliveries)
      .where(eq(deliveries.subscriberId, sub.id))
      .orderBy(asc(deliveries.createdAt)),
  ]);
  return {
    exportedAt: deps.now().toISOString(),
    profile: {
      id: sub.id,
      email: sub.email,
      name: sub.name,
      locale: sub.locale,
      status: sub.status,
      source: sub.source,
      createdAt: sub.createdAt.toISOString(),
      confirmedAt: sub.confirmedAt?.toISOString() ?? null,
    },
    subscriptions: prefs.topics.map((t) => ({ topic: t.slug, name: t.name, subscribed: t.subscribed })),
    consentHistory: history.map((e) => ({ ...e, occurredAt: e.occurredAt.toISOString() })),
    deliveries: sent.map((d) => ({
      ...d,
      createdAt: d.createdAt.toISOString(),
      sentAt: d.sentAt?.toISOString() ?? null,
    })),
  };
}

/**
 * Erasure (GDPR art. 17): the address, name and everything personal go; what remains is the keyed hash
 * in the suppression list (so an old import cannot bring the address back without consent) and the
 * pseudonymous ledger, which never held an address: its events lose their details (source, user agent,
 * IP hash), which the chain covers only by digest, and keep what was decided and when. Events sealed
 * before erasable details existed (canonical form 1) keep theirs: their links cover the text. A later
 * signup needs a fresh double opt-in.
 */
export async function eraseSubscriber(
  deps: CoreDeps,
  subscriberId: string,
  _meta: RequestMeta,
  source = 'subscriber',
): Promise<'erased' | 'already_erased'> {
  const now = deps.now();
  return deps.db.transaction(async (tx) => {
    const [sub] = await tx.select().from(subscribers).where(eq(subscribers.id, subscriberId)).for('update');
    if (!sub) throw new AppError('not_found', 'Subscriber not found.');
    if (sub.status === 'erased') return 'already_erased' as const;
    // SMTP replies often echo the recipient ("550 5.1.1 <reader@…>: unknown"), so last_error goes with `to`.
    await tx.update(deliveries).set({ to: null, lastError: null }).where(eq(deliveries.subscriberId, sub.id));
    // …and so do bounce diagnostics ("452 4.2.2 <reader@…>: mailbox full"); the events themselves stay, keyed by hash.
    await tx.update(bounceEvents).set({ diagnostic: null }).where(eq(bounceEvents.emailHash, sub.emailHash));
    await tx
      .update(deliveries)
      .set({ status: 'skipped', lastError: 'subscriber erased', leaseUntil: null })
      .where(and(eq(deliveries.subscriberId, sub.id), inArray(deliveries.status, ['queued', 'sending'])));
    // A test send to this address belongs to no subscriber. Settled ones have lost it already (drizzle/0008);
    // one still waiting is not sent.
    if (sub.email !== null) {
      await tx
        .update(deliveries)
        .set({ to: null, lastError: null, status: 'skipped', leaseUntil: null })
        .where(
          and(
            eq(deliveries.kind, 'test'),
            inArray(deliveries.status, ['queued', 'sending']),
            sql`lower(${deliveries.to}) = lower(${sub.email})`,
          ),
        );
    }
    await tx.execute(sql`select consent_events_erase_details(${sub.id}::uuid)`);
    await tx.delete(confirmTokens).where(eq(confirmTokens.subscriberId, sub.id));
    await tx.delete(subscriptions).where(eq(subscriptions.subscriberId, sub.id));
    await tx
      .update(subscribers)
      .set({ email: null, name: null, source: null, status: 'erased', statusChangedAt: now })
      .where(eq(subscribers.id, sub.id));
    await suppress(tx, sub.emailHash, 'erased', now);
    // Who asked (subscriber, admin) is recorded; where from is not: it would be the very trace erased.
    await appendConsentEvent(tx, {
      subscriberId: sub.id,
      emailHash: sub.emailHash,
      kind: 'erased',
      source,
      occurredAt: now,
    });
    return 'erased' as const;
  });
}
