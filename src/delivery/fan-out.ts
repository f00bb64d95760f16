import { eq, sql } from 'drizzle-orm';
import { type Db, rowsOf } from '../db/client.js';
import { broadcastAudience, broadcasts, deliveries } from '../db/schema.js';

/**
 * Fanning a sending broadcast out to many invocations (Workers: the cron produces queue messages, each
 * queue invocation delivers for a while). The outbox's SKIP LOCKED claims keep the invocations apart,
 * so a message delivered twice only adds an invocation that finds less to claim.
 */

/** A queue message: deliver due mail, on behalf of broadcast `broadcastId`, for at most `seconds`. */
export interface DeliveryMessage {
  kind: 'deliver';
  broadcastId: string;
  seconds: number;
}

/** The longest slice a message may ask for. */
const MAX_SLICE_SECONDS = 600;

export interface DueBroadcast {
  id: string;
  /** Rows due now: queued and due, or leased by an invocation whose lease ran out. */
  due: number;
}

/** Broadcasts that are sending, with how many of their rows are due now (the audience not yet claimed too). */
export async function dueBroadcasts(db: Db, now: Date): Promise<DueBroadcast[]> {
  const at = now.toISOString();
  const rows = rowsOf<{ id: string; due: number | string }>(
    await db.execute(sql`
      select b.id,
             (select count(*) from ${deliveries} d
               where d.broadcast_id = b.id and d.kind = 'broadcast'
                 and ((d.status = 'queued' and d.next_attempt_at <= ${at}) or (d.status = 'sending' and d.lease_until < ${at})))
           + (select coalesce(sum(cardinality(a.subscriber_ids)), 0) from ${broadcastAudience} a where a.broadcast_id = b.id) as due
        from ${broadcasts} b
       where b.status = 'sending'`),
  );
  return rows.map((r) => ({ id: r.id, due: Number(r.due) })).filter((r) => r.due > 0);
}

export interface FanOutOptions {
  /** Most messages per broadcast in one plan (QUEUE_FANOUT). */
  fanout: number;
  /** What each message asks for (QUEUE_SLICE_SECONDS). */
  sliceSeconds: number;
  /** Messages per second one invocation sends (DELIVERY_RATE). */
  rate: number;
}

/**
 * The messages for one tick. Each covers about `rate × sliceSeconds` rows, so a broadcast gets
 * ceil(due / that) of them, at most `fanout`. The next tick looks again, so a backlog is worked off in
 * waves.
 */
export function planFanOut(due: DueBroadcast[], opts: FanOutOptions): DeliveryMessage[] {
  const perMessage = Math.max(1, opts.rate * opts.sliceSeconds);
  const messages: DeliveryMessage[] = [];
  for (const b of due) {
    const k = Math.min(opts.fanout, Math.ceil(b.due / perMessage));
    for (let i = 0; i < k; i++) messages.push({ kind: 'deliver', broadcastId: b.id, seconds: opts.sliceSeconds });
  }
  return messages;
}

/**
 * A queue message's body as a DeliveryMessage, or undefined when it is not one (it is then acknowledged
 * and dropped). A missing or odd `seconds` falls back to `defaultSeconds`; any is kept within bounds.
 */
export function readDeliveryMessage(body: unknown, defaultSeconds: number): DeliveryMessage | undefined {
  const m = body as Partial<DeliveryMessage> | null;
  if (m?.kind !== 'deliver' || typeof m.broadcastId !== 'string' || !/^[0-9a-f-]{36}$/i.test(m.broadcastId))
    return undefined;
  const seconds = Math.min(Math.max(1, Number(m.seconds) || defaultSeconds), MAX_SLICE_SECONDS);
  return { kind: 'deliver', broadcastId: m.broadcastId, seconds };
}

/** Whether a message's broadcast still sends (a message may arrive after it finished, paused or was cancelled). */
export async function stillSending(db: Db, broadcastId: string): Promise<boolean> {
  const [row] = await db.select({ status: broadcasts.status }).from(broadcasts).where(eq(broadcasts.id, broadcastId));
  return row?.status === 'sending';
}
