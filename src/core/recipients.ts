import { and, eq, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.js';
import { rowsOf } from '../db/client.js';
import { type DeliveryKind, type SubscriberStatus, subscribers, subscriptions, topics } from '../db/schema.js';
import { excludedFromBroadcasts, isBlocked, suppressedSql } from './suppression.js';

/**
 * Who may be sent what, decided when a mail is written and again when it is sent: a person who
 * unsubscribed, bounced or was erased after their mail was queued gets nothing.
 */
const RECEIVES: Record<DeliveryKind, readonly SubscriberStatus[]> = {
  // Someone who can still change something: confirm, re-subscribe, or change topics.
  preferences_link: ['active', 'pending', 'unsubscribed'],
  // Unsubscribed people may sign up again, through a new double opt-in.
  confirmation: ['pending', 'unsubscribed'],
  welcome: ['active'],
  broadcast: ['active'],
  // A test send goes to an address the author typed, not to a subscriber.
  test: [],
};

export const mayReceive = (kind: DeliveryKind, status: SubscriberStatus): boolean => RECEIVES[kind].includes(status);

export type Subscriber = typeof subscribers.$inferSelect;

/** A subscriber as the lifecycle mails need them, with whether their address is blocked. */
export async function lifecycleRecipient(
  db: DbOrTx,
  subscriberId: string,
): Promise<{ subscriber: Subscriber; blocked: boolean } | undefined> {
  const [subscriber] = await db.select().from(subscribers).where(eq(subscribers.id, subscriberId));
  if (!subscriber || subscriber.email === null) return undefined;
  return { subscriber, blocked: await isBlocked(db, subscriber.emailHash) };
}

/** The names of the topics a subscriber receives, for the welcome mail. */
export async function subscribedTopicNames(db: DbOrTx, subscriberId: string): Promise<string[]> {
  const rows = await db
    .select({ name: topics.name })
    .from(subscriptions)
    .innerJoin(topics, eq(topics.slug, subscriptions.topic))
    .where(and(eq(subscriptions.subscriberId, subscriberId), eq(subscriptions.subscribed, true)));
  return rows.map((r) => r.name);
}

export interface BroadcastRecipient {
  id: string;
  email: string | null;
  name: string | null;
  status: SubscriberStatus;
  subscribed: boolean;
  suppressed: boolean;
}

/** A batch of a broadcast's recipients, read in one query, with what decides whether each still gets it. */
export async function broadcastRecipients(
  db: DbOrTx,
  topic: string,
  subscriberIds: string[],
): Promise<BroadcastRecipient[]> {
  if (subscriberIds.length === 0) return [];
  return rowsOf<BroadcastRecipient>(
    await db.execute(sql`
      select s.id, s.email, s.name, s.status,
             coalesce(t.subscribed, false) as subscribed,
             ${suppressedSql(sql`s.email_hash`, excludedFromBroadcasts)} as suppressed
        from ${subscribers} s
        left join ${subscriptions} t on t.subscriber_id = s.id and t.topic = ${topic}
       where s.id in (${sql.join(
         subscriberIds.map((id) => sql`${id}`),
         sql`, `,
       )})`),
  );
}

/** Why a broadcast recipient no longer gets it, or undefined when they do. */
export function broadcastSkipReason(r: BroadcastRecipient | undefined): string | undefined {
  if (!r || r.email === null) return 'subscriber erased';
  if (!mayReceive('broadcast', r.status)) return `subscriber is ${r.status}`;
  if (r.suppressed) return 'suppressed';
  if (!r.subscribed) return 'left the topic';
  return undefined;
}
