import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import { templates } from '../../emails/index.js';
import type { Db, DbOrTx, Tx } from '../db/client.js';
import { broadcastAudience, broadcasts, deliveries, topics } from '../db/schema.js';
import { beginFreeze, requestFreeze } from './audience.js';
import type { CoreDeps } from './deps.js';
import { checkEmail } from './email-address.js';
import { AppError } from './errors.js';
import { enqueueDelivery } from './outbox.js';
import { TEXTS } from './texts.js';

export { audienceOf } from './audience.js';
export { type DeliveryCounts, deliveryCounts } from './broadcast-counts.js';

import { deliveryCounts } from './broadcast-counts.js';

export type Broadcast = typeof broadcasts.$inferSelect;

export interface BroadcastInput {
  template: string;
  topic: string;
  subject: string;
  preheader?: string | undefined;
  props: Record<string, unknown>;
}

export function broadcastTemplate(name: string) {
  const t = templates[name];
  if (t?.kind !== 'broadcast') {
    const known = Object.values(templates)
      .filter((d) => d.kind === 'broadcast')
      .map((d) => d.name);
    throw new AppError('validation_failed', `Unknown template "${name}".`, {
      fields: [{ path: 'template', message: `one of: ${known.join(', ')}` }],
    });
  }
  return t;
}

/** Validate the author's props against the template's own zod schema; field errors point into `props`. */
export function validateProps(template: string, props: unknown): Record<string, unknown> {
  // The render-once placeholders must never come from the author's own text.
  if (JSON.stringify(props ?? null).includes('QUIREz')) {
    throw new AppError('validation_failed', 'The props contain a reserved word.', {
      fields: [{ path: 'props', message: 'must not contain "QUIREz"' }],
    });
  }
  const parsed = broadcastTemplate(template).schema.safeParse(props);
  if (!parsed.success) {
    throw new AppError('validation_failed', `The props do not fit the ${template} template.`, {
      fields: parsed.error.issues.map((i) => ({
        path: ['props', ...i.path.map(String)].join('.'),
        message: i.message,
      })),
    });
  }
  return parsed.data;
}

export async function createBroadcast(deps: CoreDeps, input: BroadcastInput): Promise<Broadcast> {
  const props = validateProps(input.template, input.props);
  const [topic] = await deps.db.select().from(topics).where(eq(topics.slug, input.topic));
  if (!topic)
    throw new AppError('unknown_topic', `Unknown topic: ${input.topic}.`, {
      fields: [{ path: 'topic', message: 'unknown topic' }],
    });
  const now = deps.now();
  const [row] = await deps.db
    .insert(broadcasts)
    .values({
      template: input.template,
      topic: input.topic,
      subject: input.subject,
      preheader: input.preheader ?? '',
      props,
      status: 'draft',
      createdAt: now,
      updatedAt: now,
    })
    .returning();
  return row!;
}

export async function getBroadcastRow(db: DbOrTx, id: string, lock = false): Promise<Broadcast> {
  const q = db.select().from(broadcasts).where(eq(broadcasts.id, id));
  const [row] = lock ? await q.for('update') : await q;
  if (!row) throw new AppError('not_found', 'Broadcast not found.');
  return row;
}

export async function describeBroadcast(db: DbOrTx, id: string) {
  const b = await getBroadcastRow(db, id);
  return { ...b, counts: await deliveryCounts(db, id) };
}

export async function listBroadcasts(db: Db, limit = 100) {
  return db.select().from(broadcasts).orderBy(desc(broadcasts.createdAt)).limit(limit);
}

/**
 * Send now, or schedule for `at`. Sending now answers `freezing` where the audience is frozen in the
 * background (core/audience.ts), `sending` otherwise. Repeating the call while it sends changes nothing.
 */
export async function sendBroadcast(deps: CoreDeps, id: string, at?: Date): Promise<Broadcast> {
  const now = deps.now();
  if (deps.broadcastsRefused) throw new AppError('invalid_state', deps.broadcastsRefused);
  const result = await deps.db.transaction(async (tx) => {
    const b = await getBroadcastRow(tx, id, true);
    if (b.status === 'freezing' || b.status === 'sending' || b.status === 'sent') return b;
    if (b.status !== 'draft' && b.status !== 'scheduled') {
      throw new AppError(
        'invalid_state',
        `A ${b.status} broadcast cannot be sent; ${b.status === 'paused' ? 'resume it' : 'create a new one'}.`,
      );
    }
    if (at && at.getTime() > now.getTime()) {
      const [row] = await tx
        .update(broadcasts)
        .set({ status: 'scheduled', scheduledAt: at, updatedAt: now })
        .where(eq(broadcasts.id, id))
        .returning();
      return row!;
    }
    await beginFreeze(tx, b.id, now);
    return getBroadcastRow(tx, id);
  });
  if (result.status !== 'freezing') return result;
  await requestFreeze(deps, id);
  return deps.freezeRequested ? result : getBroadcastRow(deps.db, id);
}

export async function pauseBroadcast(deps: CoreDeps, id: string, reason = 'paused by the author'): Promise<Broadcast> {
  return transition(deps, id, ['sending', 'scheduled'], async (tx, b, now) => {
    await tx
      .update(broadcasts)
      .set({ status: 'paused', statusReason: reason, updatedAt: now })
      .where(eq(broadcasts.id, b.id));
  });
}

export async function resumeBroadcast(deps: CoreDeps, id: string): Promise<Broadcast> {
  const b = await transition(deps, id, ['paused'], async (tx, row, now) => {
    if (!row.audienceFrozenAt) await beginFreeze(tx, row.id, now);
    else
      await tx
        .update(broadcasts)
        .set({ status: 'sending', statusReason: null, updatedAt: now })
        .where(eq(broadcasts.id, row.id));
  });
  if (b.status === 'freezing') {
    await requestFreeze(deps, id);
    return deps.freezeRequested ? b : getBroadcastRow(deps.db, id);
  }
  deps.outboxChanged?.();
  return b;
}

/** Rows queued in the outbox are skipped; the audience not yet claimed stays where it is, counted as skipped. */
export async function cancelBroadcast(deps: CoreDeps, id: string): Promise<Broadcast> {
  return transition(deps, id, ['draft', 'scheduled', 'freezing', 'sending', 'paused'], async (tx, b, now) => {
    await tx
      .update(broadcasts)
      .set({ status: 'cancelled', statusReason: 'cancelled by the author', updatedAt: now })
      .where(eq(broadcasts.id, b.id));
    await tx
      .update(deliveries)
      .set({ status: 'skipped', lastError: 'broadcast cancelled' })
      .where(and(eq(deliveries.broadcastId, b.id), eq(deliveries.kind, 'broadcast'), eq(deliveries.status, 'queued')));
  });
}

/** Put failed (not bounced) messages back in the queue; a finished broadcast resumes sending. */
export async function retryFailed(deps: CoreDeps, id: string): Promise<{ broadcast: Broadcast; requeued: number }> {
  let requeued = 0;
  const broadcast = await transition(deps, id, ['sending', 'paused', 'sent'], async (tx, b, now) => {
    const rows = await tx
      .update(deliveries)
      .set({ status: 'queued', attempts: 0, nextAttemptAt: now, lastError: null, leaseUntil: null })
      .where(and(eq(deliveries.broadcastId, b.id), eq(deliveries.kind, 'broadcast'), eq(deliveries.status, 'failed')))
      .returning({ id: deliveries.id });
    requeued = rows.length;
    if (requeued > 0 && b.status === 'sent') {
      await tx
        .update(broadcasts)
        .set({ status: 'sending', completedAt: null, updatedAt: now })
        .where(eq(broadcasts.id, b.id));
    }
  });
  deps.outboxChanged?.();
  return { broadcast, requeued };
}

async function transition(
  deps: CoreDeps,
  id: string,
  from: Broadcast['status'][],
  apply: (tx: Tx, b: Broadcast, now: Date) => Promise<void>,
) {
  const now = deps.now();
  return deps.db.transaction(async (tx) => {
    const b = await getBroadcastRow(tx, id, true);
    if (!from.includes(b.status))
      throw new AppError('invalid_state', `The broadcast is ${b.status}; this needs it to be ${from.join(' or ')}.`);
    await apply(tx, b, now);
    return getBroadcastRow(tx, id);
  });
}

/** Queue test sends of a broadcast to given addresses (marked as tests: "[Test]" subject, no subscriber). */
export async function queueTestSend(deps: CoreDeps, id: string, addresses: string[]): Promise<number> {
  const checked = addresses.map((a) => ({ a, c: checkEmail(a) }));
  const bad = checked.filter((x) => !x.c.ok);
  if (bad.length) {
    throw new AppError('invalid_email', TEXTS.invalidEmail, {
      fields: bad.map((x) => ({ path: 'to', message: `invalid: ${x.a.slice(0, 80)}` })),
    });
  }
  const now = deps.now();
  await deps.db.transaction(async (tx) => {
    await getBroadcastRow(tx, id);
    for (const x of checked)
      if (x.c.ok) await enqueueDelivery(tx, { kind: 'test', broadcastId: id, to: x.c.email }, now);
  });
  deps.outboxChanged?.();
  return checked.length;
}

/**
 * Start scheduled broadcasts that are due. One whose time passed more than the grace period ago (the
 * system was down) is paused instead, so it never goes out late without the author deciding.
 */
export async function startDueBroadcasts(deps: CoreDeps): Promise<number> {
  const now = deps.now();
  const due = await deps.db
    .select({ id: broadcasts.id, scheduledAt: broadcasts.scheduledAt })
    .from(broadcasts)
    .where(and(eq(broadcasts.status, 'scheduled'), sql`${broadcasts.scheduledAt} <= ${now.toISOString()}`));
  let started = 0;
  for (const b of due) {
    const lateMs = now.getTime() - (b.scheduledAt?.getTime() ?? now.getTime());
    if (lateMs > deps.config.SCHEDULE_GRACE_MINUTES * 60_000) {
      await pauseBroadcast(
        deps,
        b.id,
        `missed its scheduled time by ${Math.round(lateMs / 60_000)} minutes; resume to send`,
      ).catch(() => {});
      continue;
    }
    const began = await deps.db.transaction(async (tx) => {
      const row = await getBroadcastRow(tx, b.id, true);
      if (row.status !== 'scheduled') return false;
      await beginFreeze(tx, row.id, now);
      return true;
    });
    if (began) await requestFreeze(deps, b.id);
    started++;
  }
  return started;
}

/** Mark broadcasts sent once nothing of theirs is queued, in flight or still to be claimed. */
export async function completeFinishedBroadcasts(db: Db, ids: string[], now: Date): Promise<void> {
  if (ids.length === 0) return;
  await db
    .update(broadcasts)
    .set({ status: 'sent', completedAt: now, updatedAt: now })
    .where(
      and(
        inArray(broadcasts.id, ids),
        eq(broadcasts.status, 'sending'),
        sql`not exists (select 1 from ${deliveries} d where d.broadcast_id = ${broadcasts.id} and d.kind = 'broadcast' and d.status in ('queued', 'sending'))`,
        sql`not exists (select 1 from ${broadcastAudience} a where a.broadcast_id = ${broadcasts.id})`,
      ),
    );
}
