import { eq, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.js';
import { rowsOf } from '../db/client.js';
import { broadcasts, type DeliveryStatus, deliveries } from '../db/schema.js';
import { unclaimedAudience } from './audience.js';

/** Where a broadcast's recipients stand: the figures the API, the console and the CLI show. */
export type DeliveryCounts = Record<'queued' | 'sending' | 'sent' | 'failed' | 'bounced' | 'skipped', number> & {
  /** Of `queued`: rows that failed before and wait for another attempt (an outage of the relay or provider). */
  retrying: number;
  /** When the next of those is due, or null. */
  nextAttemptAt: string | null;
};

export async function deliveryCounts(db: DbOrTx, broadcastId: string): Promise<DeliveryCounts> {
  const rows = rowsOf<{
    status: DeliveryStatus;
    n: number | string;
    retrying: number | string;
    next: string | Date | null;
  }>(
    await db.execute(sql`select status, count(*) as n,
        count(*) filter (where status = 'queued' and last_error is not null) as retrying,
        min(next_attempt_at) filter (where status = 'queued' and last_error is not null) as next
      from ${deliveries}
      where broadcast_id = ${broadcastId} and kind = 'broadcast' group by status`),
  );
  const counts: DeliveryCounts = {
    queued: 0,
    sending: 0,
    sent: 0,
    failed: 0,
    bounced: 0,
    skipped: 0,
    retrying: 0,
    nextAttemptAt: null,
  };
  for (const r of rows) {
    counts[r.status] = Number(r.n);
    if (r.status === 'queued') {
      counts.retrying = Number(r.retrying);
      counts.nextAttemptAt = r.next === null ? null : new Date(r.next).toISOString();
    }
  }
  // Frozen recipients no worker has claimed yet have no outbox row: queued, or skipped once cancelled.
  const unclaimed = await unclaimedAudience(db, broadcastId);
  if (unclaimed > 0) {
    const [b] = await db.select({ status: broadcasts.status }).from(broadcasts).where(eq(broadcasts.id, broadcastId));
    counts[b?.status === 'cancelled' ? 'skipped' : 'queued'] += unclaimed;
  }
  return counts;
}
