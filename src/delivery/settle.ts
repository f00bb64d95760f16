import type { MailError, OutgoingMessage, SendResult } from '../mail/mailer.js';
import type { DeliveryJob, OutboxStore, SentRow } from './outbox-store.js';
import type { Pacer } from './pacer.js';
import { backoffMs, DEFAULT_THROTTLE_MS, LEASE_MARGIN_MS, SETTLE_GROUP, untilLeaseEnds } from './timing.js';
import type { BatchReport, DeliveryEvents, EngineOptions } from './types.js';

/** Consecutive-failure counters per broadcast, kept for the life of a worker. */
export type ErrorStreaks = Map<string, number>;

/** A request that failed as a whole: its rows are tried again together, at one time, under one key. */
export interface WholeRetry {
  at: Date;
  keepSendKey: boolean;
}

/** How one batch settles its rows: each exactly once, from its own outcome. */
export interface Settler {
  sent(job: DeliveryJob, message: OutgoingMessage, result: SendResult): Promise<void>;
  error(job: DeliveryJob, error: MailError, retry?: WholeRetry): Promise<void>;
  /** Tried and failed without an outcome from the transport (`compose` threw, or a request failed). */
  failure(job: DeliveryJob, error: string, permanent: boolean, retry?: WholeRetry): Promise<void>;
  skipped(job: DeliveryJob, reason: string): Promise<void>;
  /** The lease of a claim, so a sent mark is retried only while the claim's lease holds. */
  claimed(jobs: DeliveryJob[]): void;
  /** Write every sent mark still collecting; resolves when all written so far are. */
  flush(): Promise<unknown>;
  /** The relay cannot be reached: the batch takes no further rows. */
  readonly relayDown: boolean;
}

export function createSettler(
  store: OutboxStore,
  events: DeliveryEvents,
  opts: EngineOptions,
  report: BatchReport,
  streaks: ErrorStreaks,
  paceFor: (job: DeliveryJob) => Pacer,
  /** Rows whose outcome is now written (the engine counts what a worker killed now would send twice). */
  onSettled: (rows: number) => void,
): Settler {
  // Sent rows are marked in groups, off each message's critical path. The price: a worker killed before a
  // group is written sends it again (unless the transport honours the idempotency key). The engine lets no
  // more than a batch be sent and not yet marked (measured by `npm run test:chaos`), so a group is written
  // when it holds half a batch, or SETTLE_GROUP rows.
  const groupSize = Math.max(1, Math.min(SETTLE_GROUP, Math.floor(opts.batchSize / 2)));
  let group: SentRow[] = [];
  let flushing: Promise<unknown> = Promise.resolve();
  let relayDown = false;
  // A sent mark lost while the database is away would send the row again when its lease ends: keep trying
  // while the lease holds (after that another worker may own the row, and the mark would change nothing).
  const leaseEnds = new Map<number, number>();
  const flush = () => {
    const rows = group;
    group = [];
    if (rows.length === 0) return flushing;
    const ends = Math.min(...rows.map((r) => leaseEnds.get(r.job.leaseUntil.getTime()) ?? 0));
    flushing = flushing
      .then(() => untilLeaseEnds(() => store.markSentMany(rows, opts.now()), ends))
      .then(() => onSettled(rows.length));
    return flushing;
  };

  // One error shared by many rows (a request that failed as a whole) is one failure toward a streak: a
  // lost answer to a batch of 100 must not pause a broadcast as 25 failed sends would.
  const noted = new WeakMap<MailError, Set<string>>();
  const noteFailure = async (job: DeliveryJob, error: MailError) => {
    if (!job.broadcastId || job.kind !== 'broadcast') return;
    const seen = noted.get(error) ?? new Set<string>();
    if (seen.has(job.broadcastId)) return;
    noted.set(error, seen.add(job.broadcastId));
    const n = (streaks.get(job.broadcastId) ?? 0) + 1;
    streaks.set(job.broadcastId, n);
    if (n === opts.pauseAfterErrors) await events.errorStreak?.(job.broadcastId, error.message);
  };

  const failure = async (job: DeliveryJob, error: string, permanent: boolean, retry?: WholeRetry) => {
    const at = retry?.at ?? new Date(opts.now().getTime() + backoffMs(job.attempts, opts.random));
    const exhausted = opts.giveUpAt ? at.getTime() > opts.giveUpAt(job).getTime() : job.attempts >= opts.maxAttempts;
    if (permanent || exhausted) {
      await store.markFailed(job, error, 'failed');
      report.failed++;
    } else {
      await store.retryLater(job, error, at, retry?.keepSendKey ?? false);
      report.retried++;
    }
  };

  return {
    get relayDown() {
      return relayDown;
    },
    claimed(jobs) {
      for (const j of jobs) leaseEnds.set(j.leaseUntil.getTime(), performance.now() + opts.leaseMs - LEASE_MARGIN_MS);
    },
    flush,
    failure,
    async skipped(job, reason) {
      await store.markSkipped(job, reason);
      report.skipped++;
    },
    async sent(job, message, result) {
      group.push({
        job,
        messageId: result.messageId || message.messageId,
        providerMessageId: result.providerMessageId ?? null,
      });
      if (group.length >= groupSize) await flush();
      if (job.broadcastId) streaks.set(job.broadcastId, 0);
      report.sent++;
    },
    async error(job, error, retry) {
      await settleError(job, error, retry);
      onSettled(1);
    },
  };

  async function settleError(job: DeliveryJob, error: MailError, retry?: WholeRetry) {
    if (error.rateLimited) {
      // Pace, not failure: the message is fine and the transport will take it later. No attempt is
      // spent, no streak grows, and every lane of this worker waits (the pacer is shared).
      const waitMs = error.retryAfterMs ?? DEFAULT_THROTTLE_MS;
      paceFor(job).hold(waitMs);
      await store.release([job], new Date(opts.now().getTime() + waitMs));
      report.throttled++;
      return;
    }
    if (error.relayUnavailable) {
      // Nothing reached the relay, so this says nothing about the recipient or the message: it does not
      // count toward the broadcast's error streak (a relay restart must not pause a launch). The row is
      // retried with backoff like any transient fault, and the batch takes no further rows.
      report.relayUnreachable++;
      relayDown = true;
      await failure(job, error.message, false, retry);
      return;
    }
    if (error.isHardBounce || error.suppressed) {
      // A bad mailbox is the recipient's problem, not the relay's: it does not count toward a streak.
      await store.markFailed(job, error.message, 'bounced');
      await events.hardBounce(job, error.message, error.provider ? 'api' : 'smtp');
      report.failed++;
      return;
    }
    await failure(job, error.message, error.permanent, retry);
    await noteFailure(job, error);
  }
}
