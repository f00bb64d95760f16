import { and, desc, eq, ilike, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { rowsOf } from '../db/client.js';
import { type SubscriberStatus, subscribers, subscriptions } from '../db/schema.js';
import { consentHistory } from './consent.js';
import { AppError } from './errors.js';

export interface SubscriberQuery {
  status?: SubscriberStatus | undefined;
  topic?: string | undefined;
  q?: string | undefined;
  /** The console's search: the start of an address, or of an address or a name (case-insensitive). */
  search?: string | undefined;
  source?: string | undefined;
  cursor?: string | undefined;
  limit: number;
}

// The cursor keeps created_at at the database's microsecond precision: a JS Date (milliseconds) would
// skip rows created within the same millisecond as a page's last row.
const cursorOf = (createdAt: string, id: string) => Buffer.from(`${createdAt}|${id}`).toString('base64url');
const createdAtMicros = sql<string>`to_char(${subscribers.createdAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

function parseCursor(cursor: string): { createdAt: string; id: string } {
  const [iso, id] = Buffer.from(cursor, 'base64url').toString().split('|');
  const valid =
    iso && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/.test(iso) && !Number.isNaN(new Date(iso).getTime());
  if (!valid || !id || !/^[0-9a-f-]{36}$/.test(id)) {
    throw new AppError('validation_failed', 'Invalid cursor.', { fields: [{ path: 'cursor', message: 'invalid' }] });
  }
  return { createdAt: iso, id };
}

/**
 * Addresses by their start, through the unique index on lower(email): a range the index can seek, then
 * starts_with for the exact answer. Text without an @ may also be the start of a name, which no index
 * covers: on a very large list that search reads the whole table.
 */
function searchCondition(text: string): SQL {
  const prefix = text.trim().toLowerCase();
  const address = sql`(lower(${subscribers.email}) >= ${prefix} and lower(${subscribers.email}) < ${`${prefix}\u{10FFFF}`}
    and starts_with(lower(${subscribers.email}), ${prefix}))`;
  if (prefix.includes('@')) return address;
  return sql`(${address} or starts_with(lower(${subscribers.name}), ${prefix}))`;
}

/** Newest first, keyset-paginated on (created_at, id) so page N costs the same as page 1. */
export async function listSubscribers(db: Db, query: SubscriberQuery) {
  const where: SQL[] = [];
  if (query.status) where.push(eq(subscribers.status, query.status));
  if (query.q) where.push(ilike(subscribers.email, `%${query.q.replace(/[\\%_]/g, (m) => `\\${m}`)}%`));
  if (query.search) where.push(searchCondition(query.search));
  if (query.source) where.push(eq(subscribers.source, query.source));
  if (query.topic) {
    where.push(
      sql`exists (select 1 from ${subscriptions} where ${subscriptions.subscriberId} = ${subscribers.id}
          and ${subscriptions.topic} = ${query.topic} and ${subscriptions.subscribed})`,
    );
  }
  if (query.cursor) {
    const c = parseCursor(query.cursor);
    const at = sql`${c.createdAt}::timestamptz`;
    // A row comparison, not `a < x or (a = x and b < y)`: PostgreSQL starts the (created_at, id) index
    // scan at the cursor only for the row form; the OR form reads every newer row first, so page N
    // cost N pages (docs/benchmarks.md).
    where.push(sql`(${subscribers.createdAt}, ${subscribers.id}) < (${at}, ${c.id}::uuid)`);
  }
  const rows = await db
    .select({
      id: subscribers.id,
      email: subscribers.email,
      name: subscribers.name,
      status: subscribers.status,
      locale: subscribers.locale,
      source: subscribers.source,
      createdAt: subscribers.createdAt,
      confirmedAt: subscribers.confirmedAt,
      cursorAt: createdAtMicros,
    })
    .from(subscribers)
    .where(where.length ? and(...where) : undefined)
    .orderBy(desc(subscribers.createdAt), desc(subscribers.id))
    .limit(query.limit + 1);
  const page = rows.slice(0, query.limit);
  const last = page[page.length - 1];
  return {
    data: page.map(({ cursorAt: _cursorAt, ...row }) => row),
    nextCursor: rows.length > query.limit && last ? cursorOf(last.cursorAt, last.id) : null,
  };
}

export async function getSubscriber(db: Db, id: string) {
  const [sub] = await db.select().from(subscribers).where(eq(subscribers.id, id));
  if (!sub) throw new AppError('not_found', 'Subscriber not found.');
  const [subs, history] = await Promise.all([
    db
      .select({ topic: subscriptions.topic, subscribed: subscriptions.subscribed, changedAt: subscriptions.changedAt })
      .from(subscriptions)
      .where(eq(subscriptions.subscriberId, id)),
    consentHistory(db, id),
  ]);
  const { emailHash: _hash, ...profile } = sub;
  return { ...profile, subscriptions: subs, consentHistory: history };
}

/** Counts for the dashboard: by status, and active subscribers per topic. */
export async function subscriberStats(db: Db) {
  const byStatus = rowsOf<{ status: string; n: string | number }>(
    await db.execute(sql`select status, count(*) as n from ${subscribers} group by status`),
  );
  const byTopic = rowsOf<{ topic: string; n: string | number }>(
    await db.execute(sql`select s.topic, count(*) as n from ${subscriptions} s join ${subscribers} u on u.id = s.subscriber_id
      where s.subscribed and u.status = 'active' group by s.topic`),
  );
  const statuses = Object.fromEntries(
    ['pending', 'active', 'unsubscribed', 'bounced', 'complained', 'erased'].map((s) => [s, 0]),
  );
  for (const r of byStatus) statuses[r.status] = Number(r.n);
  return {
    total: Object.values(statuses).reduce((a, b) => a + b, 0),
    byStatus: statuses,
    activeByTopic: Object.fromEntries(byTopic.map((r) => [r.topic, Number(r.n)])),
  };
}
