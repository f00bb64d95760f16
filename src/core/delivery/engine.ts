import type { Mailer, OutgoingMessage } from '../../mail/mailer.js';
import { classifyMailError, type MailError } from '../../mail/mailer.js';
import type { DeliveryJob, OutboxStore } from './outbox-store.js';

/** What a composer decides for a claimed row: a message to send, or a reason not to send it. */
export type Composed = { message: OutgoingMessage } | { skip: string };

export interface Composer {
  /** Load what a whole batch needs in a few queries (recipients, rendered broadcasts). */
  prepare?(jobs: DeliveryJob[]): Promise<void>;
  compose(job: DeliveryJob): Promise<Composed>;
}

/** What the engine reports back to the domain. */
export interface DeliveryEvents {
  /** A permanent 5.1.x failure: suppress the address and record it in the ledger. */
  hardBounce(job: DeliveryJob, diagnostic: string): Promise<void>;
  /** Too many failures in a row for one broadcast: pause it for the author to look at. */
  errorStreak?(broadcastId: string, lastError: string): Promise<void>;
  /** After a batch: broadcasts that had rows in it may now be complete. */
  batchSettled?(broadcastIds: string[]): Promise<void>;
}

export interface EngineOptions {
  batchSize: number;
  concurrency: number;
  leaseMs: number;
  maxAttempts: number;
  /** Consecutive failures of one broadcast that pause it. */
  pauseAfterErrors: number;
  now: () => Date;
  /** Shared across batches so the rate holds for the worker, not per batch. */
  pace: () => Promise<void>;
  random?: () => number;
}

export interface BatchReport {
  claimed: number;
  sent: number;
  retried: number;
  failed: number;
  skipped: number;
  /**
   * Sends that failed because the relay could not be reached (counted in `retried` too). The batch then
   * stops early, its untried rows go back to the queue, and a loop waits before claiming again.
   */
  relayUnreachable: number;
}

/** Exponential backoff with full jitter: 30 s, 1 min, 2 min … capped at 1 h. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(3_600_000, 30_000 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base / 2 + (random() * base) / 2);
}

/** How many sent rows are marked in one statement. */
export const SETTLE_GROUP = 32;

/** Consecutive-failure counters per broadcast, kept for the life of a worker. */
export type ErrorStreaks = Map<string, number>;

/** Claim one batch and settle every row in it exactly once. Returns what happened, for loops and tests. */
export async function deliverBatch(
  store: OutboxStore,
  mailer: Mailer,
  composer: Composer,
  events: DeliveryEvents,
  opts: EngineOptions,
  streaks: ErrorStreaks = new Map(),
): Promise<BatchReport> {
  const jobs = await store.claim(opts.batchSize, opts.leaseMs, opts.now());
  const report: BatchReport = { claimed: jobs.length, sent: 0, retried: 0, failed: 0, skipped: 0, relayUnreachable: 0 };
  if (jobs.length === 0) return report;
  await composer.prepare?.(jobs);

  // Sent rows are marked in groups, off each message's critical path. The price: a worker killed before a
  // group is written sends it again — with the group filling, one group per lane waiting on its flush and
  // a message per lane on the wire, at most (concurrency + 1) × SETTLE_GROUP − 1 messages (measured by
  // `npm run test:chaos`, docs/reliability.md).
  let sent: { job: DeliveryJob; messageId: string }[] = [];
  let flushing: Promise<unknown> = Promise.resolve();
  const flush = () => {
    const group = sent;
    sent = [];
    flushing = flushing.then(() => store.markSentMany(group, opts.now()));
    return flushing;
  };

  const noteFailure = async (job: DeliveryJob, error: string) => {
    if (!job.broadcastId || job.kind !== 'broadcast') return;
    const n = (streaks.get(job.broadcastId) ?? 0) + 1;
    streaks.set(job.broadcastId, n);
    if (n === opts.pauseAfterErrors) await events.errorStreak?.(job.broadcastId, error);
  };

  const settleFailure = async (job: DeliveryJob, error: string, permanent: boolean) => {
    if (permanent || job.attempts >= opts.maxAttempts) {
      await store.markFailed(job, error, 'failed');
      report.failed++;
    } else {
      await store.retryLater(job, error, new Date(opts.now().getTime() + backoffMs(job.attempts, opts.random)));
      report.retried++;
    }
  };

  const deliverOne = async (job: DeliveryJob) => {
    let composed: Composed;
    try {
      composed = await composer.compose(job);
    } catch (err) {
      // A rendering bug must not loop forever: retry like a transient fault, then give up.
      await settleFailure(job, `compose: ${(err as Error).message}`.slice(0, 300), false);
      return;
    }
    if ('skip' in composed) {
      await store.markSkipped(job, composed.skip);
      report.skipped++;
      return;
    }
    await opts.pace();
    let error: MailError;
    try {
      const result = await mailer.send(composed.message);
      sent.push({ job, messageId: result.messageId || composed.message.messageId });
      if (sent.length >= SETTLE_GROUP) await flush();
      if (job.broadcastId) streaks.set(job.broadcastId, 0);
      report.sent++;
      return;
    } catch (err) {
      error = classifyMailError(err);
    }
    if (error.relayUnavailable) {
      // Nothing reached the relay, so this says nothing about the recipient or the message: it does not
      // count toward the broadcast's error streak (a relay restart must not pause a launch). The row is
      // retried with backoff like any transient fault, and the batch takes no further rows.
      report.relayUnreachable++;
      await settleFailure(job, error.message, false);
      return;
    }
    if (error.isHardBounce) {
      // A bad mailbox is the recipient's problem, not the relay's: it does not count toward a streak.
      await store.markFailed(job, error.message, 'bounced');
      await events.hardBounce(job, error.message);
      report.failed++;
      return;
    }
    await settleFailure(job, error.message, error.permanent);
    await noteFailure(job, error.message);
  };

  let next = 0;
  const worker = async () => {
    while (next < jobs.length && report.relayUnreachable === 0) await deliverOne(jobs[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency, jobs.length) }, worker));
  await flush();
  // The relay is down: rows never tried go back to the queue as they were, their claim's attempt returned.
  if (next < jobs.length) await store.release(jobs.slice(next));

  const broadcastIds = [...new Set(jobs.filter((j) => j.kind === 'broadcast' && j.broadcastId).map((j) => j.broadcastId!))];
  if (broadcastIds.length) await events.batchSettled?.(broadcastIds);
  return report;
}

/** Spaces sends evenly so a worker never exceeds `rate` messages per second. */
export function createPacer(rate: number): () => Promise<void> {
  if (rate <= 0) return async () => {};
  const interval = 1000 / rate;
  let nextAt = 0;
  return async () => {
    const now = performance.now();
    const at = Math.max(now, nextAt);
    nextAt = at + interval;
    if (at > now) await new Promise((r) => setTimeout(r, at - now));
  };
}
