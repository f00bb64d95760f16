import { sql } from 'drizzle-orm';
import type { Db, DbOrTx } from '../db/client.js';
import { rowsOf } from '../db/client.js';
import { consentEvents } from '../db/schema.js';
import { type Broadcast, type DeliveryCounts, deliveryCounts, listBroadcasts } from './broadcasts.js';
import { chainHash, detailsMatch } from './consent-canonical.js';
import { subscriberStats } from './subscribers.js';
import { listTopics } from './topics.js';

/**
 * The figures of the author's overview: who is waiting, how the list grows, how many signups confirm,
 * what the last broadcasts did, and the state of the consent ledger. Every figure is exact; stats-cache.ts
 * decides when a list is large enough that they are worth keeping for a minute.
 */

export const GROWTH_DAYS = 90;
const DAY_MS = 86_400_000;
/** Counting unsealed events stops here: normally a handful, and the page only needs to say "many". */
const PENDING_CAP = 100_000;
/** How many of the newest links the overview re-checks on every load (the whole chain is a button away). */
export const TAIL_LINKS = 200;

export interface GrowthDay {
  /** UTC day, YYYY-MM-DD. */
  day: string;
  confirmed: number;
  unsubscribed: number;
}

export interface LedgerState {
  /** Events in the hash chain (its head's position: positions run from 1 without gaps). */
  sealed: number;
  /** Events written but not sealed yet; `pendingCapped` when there are at least this many. */
  pending: number;
  pendingCapped: boolean;
  oldestPendingAt: Date | null;
  /** The newest links, re-computed: `checked` of them, and where the first mismatch is when one is. */
  tail: { checked: number; ok: boolean; brokenAt?: number | undefined };
}

export interface OverviewBroadcast
  extends Pick<Broadcast, 'id' | 'subject' | 'template' | 'topic' | 'status' | 'audienceCount' | 'createdAt'> {
  completedAt: Date | null;
  counts: DeliveryCounts;
}

export interface Overview {
  computedAt: Date;
  total: number;
  byStatus: Record<string, number>;
  topics: { slug: string; name: string; active: number }[];
  growth: { days: GrowthDay[]; confirmed: number; unsubscribed: number };
  /**
   * Signup requests in the growth window (a signup, or an import without consent evidence, each asking
   * for a confirmation) and the confirmations of the same window.
   */
  confirmation: { asked: number; confirmed: number };
  broadcasts: OverviewBroadcast[];
  ledger: LedgerState;
}

const utcDay = (d: Date) => d.toISOString().slice(0, 10);

/** The first instant of the growth window: midnight UTC, `days - 1` days before today. */
export function growthSince(now: Date, days = GROWTH_DAYS): Date {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return new Date(today - (days - 1) * DAY_MS);
}

/**
 * Confirmed signups and unsubscribes per UTC day, and the signup requests of the same days, from the
 * ledger (erasing someone never rewrites the past), in one statement.
 */
export async function growth(
  db: DbOrTx,
  now: Date,
  days = GROWTH_DAYS,
): Promise<{ growth: Overview['growth']; confirmation: Overview['confirmation'] }> {
  const since = growthSince(now, days);
  // One count per kind and day, each a range of the (kind, occurred_at) index read from the index alone:
  // several times cheaper on a large ledger than grouping every event of the window by its day.
  const rows = rowsOf<{ i: number | string; kind: 'requested' | 'confirmed' | 'unsubscribed'; n: number | string }>(
    await db.execute(sql`
      select d.i, k.kind,
             (select count(*) from ${consentEvents} e
               where e.kind = k.kind and e.occurred_at >= d.start and e.occurred_at < d.start + interval '24 hours') as n
        from (select i, ${since.toISOString()}::timestamptz + i * interval '24 hours' as start
                from generate_series(0, ${days - 1}::integer) i) d
       cross join (values ('requested'), ('confirmed'), ('unsubscribed')) k(kind)`),
  );
  const list: GrowthDay[] = Array.from({ length: days }, (_, i) => ({
    day: utcDay(new Date(since.getTime() + i * DAY_MS)),
    confirmed: 0,
    unsubscribed: 0,
  }));
  let asked = 0;
  for (const r of rows) {
    const n = Number(r.n);
    if (r.kind === 'requested') asked += n;
    const entry = list[Number(r.i)];
    if (entry && r.kind !== 'requested') entry[r.kind] = n;
  }
  const confirmed = list.reduce((a, d) => a + d.confirmed, 0);
  return {
    growth: { days: list, confirmed, unsubscribed: list.reduce((a, d) => a + d.unsubscribed, 0) },
    confirmation: { asked, confirmed },
  };
}

/** The newest broadcasts with their delivery figures. */
export async function recentBroadcasts(db: Db, limit = 5): Promise<OverviewBroadcast[]> {
  const rows = await listBroadcasts(db, limit);
  return Promise.all(
    rows.map(async (b) => ({
      id: b.id,
      subject: b.subject,
      template: b.template,
      topic: b.topic,
      status: b.status,
      audienceCount: b.audienceCount,
      createdAt: b.createdAt,
      completedAt: b.completedAt,
      counts: await deliveryCounts(db, b.id),
    })),
  );
}

/** Where the ledger stands, cheaply: the chain's length, what waits to be sealed, and its newest links checked. */
export async function ledgerState(db: Db, tailLinks = TAIL_LINKS): Promise<LedgerState> {
  const [head] = rowsOf<{ sealed: number | string | null; pending: number | string; oldest: string | Date | null }>(
    await db.execute(sql`
      select (select max(chain_seq) from ${consentEvents}) as sealed,
             (select count(*) from (select 1 from ${consentEvents} where chain_seq is null limit ${PENDING_CAP}) p) as pending,
             (select occurred_at from ${consentEvents} where chain_seq is null order by seq limit 1) as oldest`),
  );
  const sealed = Number(head?.sealed ?? 0);
  const pending = Number(head?.pending ?? 0);
  return {
    sealed,
    pending,
    pendingCapped: pending >= PENDING_CAP,
    oldestPendingAt: head?.oldest ? new Date(head.oldest) : null,
    tail: await verifyTail(db, sealed, tailLinks),
  };
}

/**
 * Re-compute the newest `links` links of the chain from their own rows: each must name the hash before it
 * and hash to its own. Catches an edit of a recent event at a glance; the whole chain is
 * verifyConsentChain's job (consent.ts).
 */
async function verifyTail(db: Db, sealed: number, links: number): Promise<LedgerState['tail']> {
  if (sealed === 0) return { checked: 0, ok: true };
  const from = Math.max(1, sealed - links + 1);
  const rows = await db
    .select()
    .from(consentEvents)
    .where(sql`${consentEvents.chainSeq} >= ${from}`)
    .orderBy(consentEvents.chainSeq);
  let prev: string | null = null;
  for (const row of rows) {
    const linked = prev === null || row.prevHash === prev;
    if (!linked || !detailsMatch(row) || chainHash(row.prevHash!, row) !== row.hash) {
      return { checked: rows.length, ok: false, brokenAt: row.chainSeq! };
    }
    prev = row.hash;
  }
  return { checked: rows.length, ok: true };
}

/**
 * A read that takes seconds on a list of a million: its own transaction, with room past the per-statement
 * DB_TIMEOUT_MS that keeps public requests short.
 */
function longRead<T>(db: Db, read: (tx: Db) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`set local statement_timeout = '2min'`);
    return read(tx);
  });
}

/** Every figure of the overview, the queries run side by side. */
export async function overview(db: Db, now: Date): Promise<Overview> {
  const [stats, topics, window, broadcasts, ledger] = await Promise.all([
    longRead(db, (tx) => subscriberStats(tx)),
    listTopics(db),
    longRead(db, (tx) => growth(tx, now)),
    longRead(db, (tx) => recentBroadcasts(tx)),
    ledgerState(db),
  ]);
  return {
    computedAt: now,
    total: stats.total,
    byStatus: stats.byStatus,
    topics: topics.map((t) => ({ slug: t.slug, name: t.name, active: stats.activeByTopic[t.slug] ?? 0 })),
    growth: window.growth,
    confirmation: window.confirmation,
    broadcasts,
    ledger,
  };
}
