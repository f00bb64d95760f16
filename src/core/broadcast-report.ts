import { desc, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.js';
import { rowsOf } from '../db/client.js';
import { broadcasts } from '../db/schema.js';
import { type Broadcast, type DeliveryCounts, deliveryCounts, getBroadcastRow } from './broadcasts.js';

/** What became of a broadcast, read back from the outbox, the bounce records and the consent ledger. */
export interface BroadcastReport {
  /** Accepted by the transport and not bounced since. */
  delivered: number;
  /** Refused outright, or bounced back after acceptance (a DSN or a provider event), not complaints. */
  bounced: number;
  /** Marked as spam by the recipient (an ARF report or a provider event). */
  complained: number;
  /** Recipients who unsubscribed after the send began, from any link or address. */
  unsubscribed: number;
  failed: number;
  skipped: number;
}

export async function broadcastReport(db: DbOrTx, id: string): Promise<BroadcastReport> {
  const b = await getBroadcastRow(db, id);
  const since = (b.audienceFrozenAt ?? b.createdAt).toISOString();
  const [row] = rowsOf<Record<string, number | string>>(
    await db.execute(sql`
      with mine as (
        select d.id, d.status, d.subscriber_id,
               exists (select 1 from bounce_events e where e.delivery_id = d.id and e.type = 'complaint') as complained
          from deliveries d
         where d.broadcast_id = ${id} and d.kind = 'broadcast')
      select count(*) filter (where status = 'sent') as delivered,
             count(*) filter (where status = 'bounced' and not complained) as bounced,
             count(*) filter (where complained) as complained,
             count(*) filter (where status = 'failed') as failed,
             count(*) filter (where status = 'skipped') as skipped,
             (select count(distinct c.subscriber_id) from consent_events c
               where c.kind = 'unsubscribed' and c.occurred_at >= ${since}
                 and c.subscriber_id in (select subscriber_id from mine)) as unsubscribed
        from mine`),
  );
  const n = (k: string) => Number(row?.[k] ?? 0);
  return {
    delivered: n('delivered'),
    bounced: n('bounced'),
    complained: n('complained'),
    unsubscribed: n('unsubscribed'),
    failed: n('failed'),
    skipped: n('skipped'),
  };
}

export type BroadcastSummary = Broadcast & { counts: Omit<DeliveryCounts, 'retrying' | 'nextAttemptAt'> };

/** The newest broadcasts with their delivery counts, in two queries whatever their number. */
export async function listBroadcastSummaries(db: DbOrTx, limit = 50): Promise<BroadcastSummary[]> {
  const list = await db.select().from(broadcasts).orderBy(desc(broadcasts.createdAt)).limit(limit);
  if (list.length === 0) return [];
  const ids = sql.join(
    list.map((b) => sql`${b.id}::uuid`),
    sql`, `,
  );
  const rows = rowsOf<{ broadcast_id: string; status: keyof BroadcastSummary['counts']; n: number | string }>(
    await db.execute(sql`select broadcast_id, status, count(*) as n from deliveries
      where kind = 'broadcast' and broadcast_id in (${ids}) group by broadcast_id, status`),
  );
  const empty = () => ({ queued: 0, sending: 0, sent: 0, failed: 0, bounced: 0, skipped: 0 });
  const counts = new Map(list.map((b) => [b.id, empty()]));
  for (const r of rows) {
    const c = counts.get(r.broadcast_id);
    if (c) c[r.status] = Number(r.n);
  }
  return list.map((b) => ({ ...b, counts: counts.get(b.id) ?? empty() }));
}

/** Live figures for the progress view: counts, and the send rate over the last minute of sending. */
export async function broadcastProgress(db: DbOrTx, id: string, now: Date) {
  const b = await getBroadcastRow(db, id);
  const counts = await deliveryCounts(db, id);
  const started = b.audienceFrozenAt?.getTime() ?? now.getTime();
  // A send that began seconds ago is measured over those seconds, not over a whole minute.
  const windowMs = Math.max(1_000, Math.min(60_000, now.getTime() - started));
  const [recent] = rowsOf<{ n: number | string }>(
    await db.execute(sql`select count(*) as n from deliveries
      where broadcast_id = ${id} and kind = 'broadcast' and status = 'sent'
        and sent_at > ${new Date(now.getTime() - windowMs).toISOString()}`),
  );
  const perSecond = (Number(recent?.n ?? 0) * 1000) / windowMs;
  const total = b.audienceCount ?? counts.queued + counts.sending + counts.sent + counts.failed + counts.bounced;
  const remaining = counts.queued + counts.sending;
  return {
    broadcast: b,
    counts,
    total,
    remaining,
    perSecond,
    etaSeconds: remaining > 0 && perSecond > 0 ? Math.ceil(remaining / perSecond) : null,
  };
}

export type BroadcastProgress = Awaited<ReturnType<typeof broadcastProgress>>;
