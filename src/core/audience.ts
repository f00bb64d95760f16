import { eq, sql } from 'drizzle-orm';
import type { DbOrTx, Tx } from '../db/client.js';
import { rowsOf } from '../db/client.js';
import { broadcastAudience, broadcasts } from '../db/schema.js';
import type { CoreDeps } from './deps.js';
import { excludedFromBroadcasts, suppressedSql } from './suppression.js';

/**
 * A broadcast's audience: who would receive it now, and freezing it when the send is accepted.
 *
 * The freeze writes subscriber ids in chunks into `broadcast_audience` with one INSERT … SELECT per
 * slice; workers turn a chunk into outbox rows as they claim (src/delivery/outbox-store.ts). A million
 * recipients are then a few thousand rows to write, with no foreign-key check or outbox index per
 * recipient (docs/benchmarks.md, "scale"). Integrity without foreign keys: the ids are read from
 * `subscribers` in the statement that writes them, under the broadcast's row lock, and subscribers are
 * never deleted (erasure blanks the row; a blanked recipient is skipped at send time).
 */

/** Subscribers a chunk holds: a claim takes part of one, or one after another. */
export const AUDIENCE_CHUNK = 500;
/** About this many subscribers per slice, so each slice is well inside Hyperdrive's 60 s query cap. */
const SLICE_SUBSCRIBERS = 1_000_000;

/** Whether subscriber `s` is suppressed for broadcasts (one rule: core/suppression.ts). */
const SUPPRESSED = suppressedSql(sql`s.email_hash`, excludedFromBroadcasts);

/** Who would receive a broadcast to `topic` now, and why the others would not. */
export async function audienceOf(db: DbOrTx, topic: string) {
  const [row] = rowsOf<Record<string, number | string>>(
    await db.execute(sql`
      select count(*) filter (where s.status = 'active' and t.subscribed is true and not q.suppressed) as audience,
             count(*) filter (where s.status = 'pending') as pending,
             count(*) filter (where s.status = 'unsubscribed') as unsubscribed,
             count(*) filter (where s.status in ('bounced', 'complained') or (s.status = 'active' and q.suppressed)) as suppressed,
             count(*) filter (where s.status = 'active' and not q.suppressed and t.subscribed is not true) as not_in_topic
        from subscribers s
        left join subscriptions t on t.subscriber_id = s.id and t.topic = ${topic}
        cross join lateral (select ${SUPPRESSED} as suppressed) q
       where s.status <> 'erased'`),
  );
  const n = (k: string) => Number(row?.[k] ?? 0);
  return {
    audience: n('audience'),
    excluded: {
      pending: n('pending'),
      unsubscribed: n('unsubscribed'),
      suppressed: n('suppressed'),
      notInTopic: n('not_in_topic'),
    },
  };
}

/**
 * Accept a send: the broadcast is `freezing` from here until its last slice is written. Called under the
 * broadcast's row lock, from a state with no audience yet. The slice count comes from the planner's
 * estimate of the list's size (free to read); a list up to SLICE_SUBSCRIBERS is one statement.
 */
export async function beginFreeze(tx: Tx, id: string, now: Date): Promise<void> {
  const [size] = rowsOf<{ n: number | string }>(
    await tx.execute(sql`select greatest(reltuples, 0) as n from pg_class where oid = 'subscribers'::regclass`),
  );
  const slices = Math.min(256, Math.max(1, Math.ceil(Number(size?.n ?? 0) / SLICE_SUBSCRIBERS)));
  await tx
    .update(broadcasts)
    .set({
      status: 'freezing',
      // The moment the send began: the links of every message are signed as of now.
      audienceFrozenAt: now,
      audienceCount: 0,
      audienceSlices: slices,
      audienceSlicesDone: 0,
      statusReason: null,
      updatedAt: now,
    })
    .where(eq(broadcasts.id, id));
}

/** The ids of slice `i` of `k`: an equal share of the uuid space, by its first 32 bits. */
function sliceOf(i: number, k: number) {
  if (k === 1) return sql`true`;
  const bound = (j: number) =>
    `${Math.floor((j * 2 ** 32) / k)
      .toString(16)
      .padStart(8, '0')}-0000-0000-0000-000000000000`;
  const lo = i === 0 ? sql`true` : sql`s.id >= ${bound(i)}::uuid`;
  const hi = i === k - 1 ? sql`true` : sql`s.id < ${bound(i + 1)}::uuid`;
  return sql`${lo} and ${hi}`;
}

type SliceOutcome = 'more' | 'done' | 'busy';

/**
 * Freeze the next slice of a `freezing` broadcast in one transaction: its rows and the progress are
 * committed together, so a freeze cut short (a crash, a Worker's time running out) goes on from the
 * last whole slice. `busy`: another process holds the broadcast (it is freezing it).
 */
async function freezeNextSlice(deps: CoreDeps, id: string): Promise<SliceOutcome> {
  return deps.db.transaction(async (tx) => {
    const [b] = await tx.select().from(broadcasts).where(eq(broadcasts.id, id)).for('update', { skipLocked: true });
    if (!b) return 'busy';
    if (b.status !== 'freezing') return 'done';
    const slices = b.audienceSlices ?? 1;
    const slice = b.audienceSlicesDone ?? 0;
    // A slice may take seconds: DB_TIMEOUT_MS keeps requests short and would cancel it.
    await tx.execute(sql`set local statement_timeout = '15min'`);
    const [row] = rowsOf<{ n: number | string }>(
      await tx.execute(sql`
        with picked as (
          select s.id, (row_number() over () - 1) / ${AUDIENCE_CHUNK} as chunk
            from subscribers s
            join subscriptions t on t.subscriber_id = s.id and t.topic = ${b.topic} and t.subscribed
           where s.status = 'active'
             and not ${SUPPRESSED}
             and ${sliceOf(slice, slices)}),
        chunks as (
          insert into ${broadcastAudience} (broadcast_id, subscriber_ids)
          select ${b.id}, array_agg(id order by id) from picked group by chunk
          returning cardinality(subscriber_ids) as n)
        select coalesce(sum(n), 0) as n from chunks`),
    );
    const done = slice + 1 >= slices;
    await tx
      .update(broadcasts)
      .set({
        audienceCount: (b.audienceCount ?? 0) + Number(row?.n ?? 0),
        audienceSlicesDone: slice + 1,
        ...(done ? { status: 'sending' as const } : {}),
        updatedAt: deps.now(),
      })
      .where(eq(broadcasts.id, id));
    return done ? 'done' : 'more';
  });
}

/**
 * Freeze what is left of a broadcast's audience, slice by slice, until it is sending or `deadline`
 * (epoch ms) passes. Returns true when this call finished the freeze.
 */
export async function freezeAudience(deps: CoreDeps, id: string, deadline = Number.POSITIVE_INFINITY) {
  for (;;) {
    const outcome = await freezeNextSlice(deps, id);
    if (outcome === 'done') {
      deps.outboxChanged?.();
      return true;
    }
    if (outcome === 'busy' || Date.now() >= deadline) return false;
  }
}

/** Go on with every freeze that is not running (one cut short by a crash); returns the broadcasts finished. */
export async function continueFreezes(deps: CoreDeps, deadline = Number.POSITIVE_INFINITY): Promise<string[]> {
  const rows = await deps.db.select({ id: broadcasts.id }).from(broadcasts).where(eq(broadcasts.status, 'freezing'));
  const finished: string[] = [];
  for (const { id } of rows) {
    if (Date.now() >= deadline) break;
    if (await freezeAudience(deps, id, deadline)) finished.push(id);
  }
  return finished;
}

/** In the background where the runtime runs one (the request answers at once), here and now otherwise. */
export async function requestFreeze(deps: CoreDeps, id: string): Promise<void> {
  if (deps.freezeRequested) deps.freezeRequested(id);
  else await freezeAudience(deps, id);
}

/** Recipients frozen but not yet in the outbox: queued, or skipped once the broadcast is cancelled. */
export async function unclaimedAudience(db: DbOrTx, broadcastId: string): Promise<number> {
  const [row] = rowsOf<{ n: number | string }>(
    await db.execute(sql`
      select coalesce(sum(cardinality(subscriber_ids)), 0) as n from ${broadcastAudience} where broadcast_id = ${broadcastId}`),
  );
  return Number(row?.n ?? 0);
}
