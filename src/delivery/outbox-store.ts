import { and, eq, inArray, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { rowsOf } from '../db/client.js';
import { broadcastAudience, broadcasts, type DeliveryKind, deliveries } from '../db/schema.js';

export interface DeliveryJob {
  id: string;
  kind: DeliveryKind;
  subscriberId: string | null;
  confirmTokenId: string | null;
  broadcastId: string | null;
  to: string | null;
  attempts: number;
  leaseUntil: Date;
  /** Set while the row belongs to a request that may have reached the transport (see `assignSendKey`). */
  sendKey: string | null;
  /** When the row was queued: how long it is worth retrying counts from here. */
  createdAt: Date;
}

/** A row the transport accepted: our Message-ID, and the provider's own id when it gave one. */
export interface SentRow {
  job: DeliveryJob;
  messageId: string;
  providerMessageId: string | null;
}

/** The delivery engine's view of the outbox: claim, then settle each claimed row exactly once. */
export interface OutboxStore {
  claim(limit: number, leaseMs: number, now: Date): Promise<DeliveryJob[]>;
  /** Settle sent rows, many in one statement; a row whose lease another worker took is left alone. */
  markSentMany(sent: SentRow[], now: Date): Promise<number>;
  markSkipped(job: DeliveryJob, reason: string): Promise<void>;
  /** Try again at `at`; `keepSendKey` when the request may have been accepted (it must be repeated whole). */
  retryLater(job: DeliveryJob, error: string, at: Date, keepSendKey?: boolean): Promise<void>;
  markFailed(job: DeliveryJob, error: string, status: 'failed' | 'bounced'): Promise<void>;
  /**
   * Give back claimed rows that were never tried, or that the transport asked to send later: queued
   * again (due at `at`, or at once), the claim's attempt undone.
   */
  release(jobs: DeliveryJob[], at?: Date): Promise<void>;
  /**
   * Mark rows as sent in one request, before it is made, for transports that deduplicate by request: if
   * this worker dies, the rows are claimed again together (`claim` takes a key's rows whole) and make the
   * same request.
   */
  assignSendKey(jobs: DeliveryJob[], key: string): Promise<void>;
  /** Whether rows of `key` other than `jobs` are still to be sent (another worker holds part of the request). */
  sendKeyShared(key: string, jobs: DeliveryJob[]): Promise<boolean>;
}

export function createOutboxStore(db: Db): OutboxStore {
  // Only the worker holding the lease may settle a row: if its lease ran out and another worker took
  // the row, the late settle changes nothing.
  const held = (job: DeliveryJob) =>
    and(eq(deliveries.id, job.id), eq(deliveries.status, 'sending'), eq(deliveries.leaseUntil, job.leaseUntil));

  return {
    async claim(limit, leaseMs, now) {
      const leaseUntil = new Date(now.getTime() + leaseMs);
      // Raw SQL parameters go to the driver as-is: pass ISO strings, which both drivers bind the same way.
      const due = (filter: SQL, n: number) => sql`
        update ${deliveries} d
           set status = 'sending', lease_until = ${leaseUntil.toISOString()}, attempts = d.attempts + 1
         where d.id in (
           select id from ${deliveries}
            where ((status = 'queued' and next_attempt_at <= ${now.toISOString()})
               or (status = 'sending' and lease_until < ${now.toISOString()}))
              and ${filter}
            order by next_attempt_at
            limit ${n}
            for update skip locked)
        returning d.id, d.kind, d.subscriber_id, d.confirm_token_id, d.broadcast_id, d."to", d.attempts, d.send_key, d.created_at`;
      // The frozen audience not yet in the outbox (core/audience.ts): take ids off the front of a chunk and
      // write them as rows already claimed, in one statement. The chunk's row lock (SKIP LOCKED) keeps
      // concurrent claims on different chunks, and the ids leave the chunk in the statement that writes
      // their rows, so each becomes one row once. The address is read now, as the freeze would have.
      const fresh = (broadcastId: string, n: number) => sql`
        with c as (
          select a.id, a.subscriber_ids[1:${n}::int] as ids, cardinality(a.subscriber_ids) > ${n}::int as more
            from ${broadcastAudience} a
           where a.broadcast_id = ${broadcastId}
             and exists (select 1 from ${broadcasts} b where b.id = ${broadcastId} and b.status = 'sending')
           order by a.id
           limit 1
           for update skip locked),
        rest as (
          update ${broadcastAudience} a set subscriber_ids = a.subscriber_ids[${n + 1}::int:]
            from c where a.id = c.id and c.more),
        gone as (delete from ${broadcastAudience} a using c where a.id = c.id and not c.more)
        insert into ${deliveries} (kind, broadcast_id, subscriber_id, "to", status, attempts, lease_until, next_attempt_at, created_at)
        select 'broadcast', ${broadcastId}::uuid, u.id, s.email, 'sending', 1, ${leaseUntil.toISOString()}, ${now.toISOString()}, ${now.toISOString()}
          from c cross join unnest(c.ids) as u(id)
          left join subscribers s on s.id = u.id
        returning id, kind, subscriber_id, confirm_token_id, broadcast_id, "to", attempts, send_key, created_at`;
      // SKIP LOCKED lets any number of workers claim disjoint batches; an expired lease (a crashed
      // worker) makes its rows claimable again. Transactional mail first, then broadcasts that are
      // sending (a paused or cancelled broadcast's rows stay where they are): rows due again before
      // audience not yet claimed.
      const rows = rowsOf<Record<string, unknown>>(await db.execute(due(sql`kind <> 'broadcast'`, limit)));
      if (rows.length < limit) {
        const active = await db.select({ id: broadcasts.id }).from(broadcasts).where(eq(broadcasts.status, 'sending'));
        for (const b of active) {
          if (rows.length >= limit) break;
          const more = await db.execute(
            due(
              sql`kind = 'broadcast' and broadcast_id = ${b.id} and exists (select 1 from ${broadcasts} b where b.id = ${b.id} and b.status = 'sending')`,
              limit - rows.length,
            ),
          );
          rows.push(...rowsOf<Record<string, unknown>>(more));
          while (rows.length < limit) {
            const taken = rowsOf<Record<string, unknown>>(await db.execute(fresh(b.id, limit - rows.length)));
            if (taken.length === 0) break;
            rows.push(...taken);
          }
        }
      }
      // Rows of one request to a deduplicating transport are taken whole, whatever the limit cut off.
      const keys = [...new Set(rows.map((r) => r.send_key as string | null).filter((k): k is string => k !== null))];
      if (keys.length) {
        const taken = sql.join(
          rows.map((r) => sql`${r.id as string}::uuid`),
          sql`, `,
        );
        const keyList = sql.join(
          keys.map((k) => sql`${k}::uuid`),
          sql`, `,
        );
        rows.push(
          ...rowsOf<Record<string, unknown>>(
            await db.execute(due(sql`send_key in (${keyList}) and id not in (${taken})`, 10_000)),
          ),
        );
      }
      return rows.map((r) => ({
        id: r.id as string,
        kind: r.kind as DeliveryKind,
        subscriberId: (r.subscriber_id as string | null) ?? null,
        confirmTokenId: (r.confirm_token_id as string | null) ?? null,
        broadcastId: (r.broadcast_id as string | null) ?? null,
        to: (r.to as string | null) ?? null,
        attempts: Number(r.attempts),
        leaseUntil,
        sendKey: (r.send_key as string | null) ?? null,
        createdAt: new Date(r.created_at as string | Date),
      }));
    },
    async markSentMany(sent, now) {
      if (sent.length === 0) return 0;
      const values = sql.join(
        sent.map(
          ({ job, messageId, providerMessageId }) =>
            sql`(${job.id}::uuid, ${messageId}, ${providerMessageId}::text, ${job.leaseUntil.toISOString()}::timestamptz)`,
        ),
        sql`, `,
      );
      const result = await db.execute(sql`
        update ${deliveries} d
           set status = 'sent', message_id = v.message_id, provider_message_id = v.provider_message_id, send_key = null,
               sent_at = ${now.toISOString()}, lease_until = null, last_error = null
          from (values ${values}) as v(id, message_id, provider_message_id, lease)
         where d.id = v.id and d.status = 'sending' and d.lease_until = v.lease
        returning d.id`);
      return rowsOf(result).length;
    },
    async markSkipped(job, reason) {
      await db
        .update(deliveries)
        .set({ status: 'skipped', lastError: reason, leaseUntil: null, sendKey: null })
        .where(held(job));
    },
    async retryLater(job, error, at, keepSendKey = false) {
      await db
        .update(deliveries)
        .set({
          status: 'queued',
          lastError: error,
          nextAttemptAt: at,
          leaseUntil: null,
          ...(keepSendKey ? {} : { sendKey: null }),
        })
        .where(held(job));
    },
    async markFailed(job, error, status) {
      await db.update(deliveries).set({ status, lastError: error, leaseUntil: null, sendKey: null }).where(held(job));
    },
    async release(jobs, at) {
      // One statement per lease (a batch shares one); rows whose lease another worker took are left alone.
      for (const lease of new Set(jobs.map((j) => j.leaseUntil.getTime()))) {
        const ids = jobs.filter((j) => j.leaseUntil.getTime() === lease).map((j) => j.id);
        await db
          .update(deliveries)
          .set({
            status: 'queued',
            attempts: sql`greatest(${deliveries.attempts} - 1, 0)`,
            leaseUntil: null,
            ...(at ? { nextAttemptAt: at } : {}),
          })
          .where(
            and(
              inArray(deliveries.id, ids),
              eq(deliveries.status, 'sending'),
              eq(deliveries.leaseUntil, new Date(lease)),
            ),
          );
      }
    },
    async assignSendKey(jobs, key) {
      if (jobs.length === 0) return;
      await db
        .update(deliveries)
        .set({ sendKey: key })
        .where(
          and(
            inArray(
              deliveries.id,
              jobs.map((j) => j.id),
            ),
            eq(deliveries.status, 'sending'),
            eq(deliveries.leaseUntil, jobs[0]!.leaseUntil),
          ),
        );
      for (const job of jobs) job.sendKey = key;
    },
    async sendKeyShared(key, jobs) {
      const rows = await db
        .select({ id: deliveries.id })
        .from(deliveries)
        .where(
          and(
            eq(deliveries.sendKey, key),
            inArray(deliveries.status, ['queued', 'sending']),
            sql`${deliveries.id} not in (${sql.join(
              jobs.map((j) => sql`${j.id}::uuid`),
              sql`, `,
            )})`,
          ),
        )
        .limit(1);
      return rows.length > 0;
    },
  };
}
