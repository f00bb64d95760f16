import { desc, eq, inArray } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { broadcasts, consentTexts, deliveries } from '../db/schema.js';
import { getSubscriber } from './subscribers.js';
import { listTopics } from './topics.js';

/** How many of a subscriber's messages the console lists, newest first. */
const DELIVERIES_SHOWN = 100;

/**
 * Everything the console shows about one subscriber: the profile and topics, the consent timeline with
 * the exact wording each event's consent text version showed, and the messages sent to them.
 */
export async function subscriberRecord(db: Db, id: string) {
  const sub = await getSubscriber(db, id);
  const versions = [
    ...new Set(sub.consentHistory.map((e) => e.consentTextVersion).filter((v): v is number => v !== null)),
  ];
  const [texts, topics, sent] = await Promise.all([
    versions.length
      ? db
          .select({ version: consentTexts.version, text: consentTexts.text })
          .from(consentTexts)
          .where(inArray(consentTexts.version, versions))
      : [],
    listTopics(db),
    db
      .select({
        id: deliveries.id,
        kind: deliveries.kind,
        status: deliveries.status,
        attempts: deliveries.attempts,
        lastError: deliveries.lastError,
        createdAt: deliveries.createdAt,
        sentAt: deliveries.sentAt,
        broadcastId: deliveries.broadcastId,
        subject: broadcasts.subject,
      })
      .from(deliveries)
      .leftJoin(broadcasts, eq(broadcasts.id, deliveries.broadcastId))
      .where(eq(deliveries.subscriberId, id))
      .orderBy(desc(deliveries.createdAt))
      .limit(DELIVERIES_SHOWN + 1),
  ]);
  const wording = new Map(texts.map((t) => [t.version, t.text]));
  const chosen = new Map(sub.subscriptions.map((s) => [s.topic, s]));
  return {
    ...sub,
    topics: topics.map((t) => ({
      slug: t.slug,
      name: t.name,
      subscribed: chosen.get(t.slug)?.subscribed ?? false,
      changedAt: chosen.get(t.slug)?.changedAt ?? null,
    })),
    consentHistory: sub.consentHistory.map((e) => ({
      ...e,
      consentText: e.consentTextVersion === null ? null : (wording.get(e.consentTextVersion) ?? null),
    })),
    deliveries: sent.slice(0, DELIVERIES_SHOWN),
    moreDeliveries: sent.length > DELIVERIES_SHOWN,
  };
}

export type SubscriberRecord = Awaited<ReturnType<typeof subscriberRecord>>;
