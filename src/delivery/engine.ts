import {
  asMailError,
  type BatchOutcome,
  type MailError,
  type Mailer,
  type OutgoingMessage,
  type SendResult,
} from '../mail/mailer.js';
import type { DeliveryJob, OutboxStore, SentRow } from './outbox-store.js';
import {
  backoffMs,
  DEFAULT_THROTTLE_MS,
  LEASE_MARGIN_MS,
  MAX_IN_LANE_TRIES,
  MAX_IN_LANE_WAIT_MS,
  SETTLE_GROUP,
  untilLeaseEnds,
} from './timing.js';
import {
  type BatchReport,
  type Composed,
  type Composer,
  type DeliveryEvents,
  type EngineOptions,
  emptyReport,
  type MailerFor,
} from './types.js';

/** Consecutive-failure counters per broadcast, kept for the life of a worker. */
export type ErrorStreaks = Map<string, number>;

/** Claim one batch and settle every row in it exactly once. Returns what happened, for loops and tests. */
export async function deliverBatch(
  store: OutboxStore,
  mailers: MailerFor,
  composer: Composer,
  events: DeliveryEvents,
  opts: EngineOptions,
  streaks: ErrorStreaks = new Map(),
): Promise<BatchReport> {
  const jobs = await store.claim(opts.batchSize, opts.leaseMs, opts.now());
  const report: BatchReport = { ...emptyReport(), claimed: jobs.length };
  if (jobs.length === 0) return report;
  await composer.prepare?.(jobs);
  const mailerFor = typeof mailers === 'function' ? mailers : () => mailers;
  const paceOf = (mailer: Mailer) => opts.paceFor?.(mailer) ?? opts.pace;

  // Sent rows are marked in groups, off each message's critical path. The price: a worker killed before a
  // group is written sends it again (unless the transport honours the idempotency key) — with the group
  // filling, one group per lane waiting on its flush and a unit per lane on the wire, at most
  // (concurrency + 1) × max(SETTLE_GROUP, batch) − 1 messages (measured by `npm run test:chaos`).
  let sent: SentRow[] = [];
  let flushing: Promise<unknown> = Promise.resolve();
  // A sent mark lost while the database is away would send the row again when its lease ends: keep trying
  // while the lease holds (after that another worker may own the row, and the mark would change nothing).
  const leaseEnds = performance.now() + opts.leaseMs - LEASE_MARGIN_MS;
  const flush = () => {
    const group = sent;
    sent = [];
    flushing = flushing.then(() => untilLeaseEnds(() => store.markSentMany(group, opts.now()), leaseEnds));
    return flushing;
  };
  let stop = false;

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

  /** `retry`: one time for every row of a request that failed as a whole, keeping its send key with it. */
  const settleFailure = async (
    job: DeliveryJob,
    error: string,
    permanent: boolean,
    retry?: { at: Date; keepSendKey: boolean },
  ) => {
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

  const settleSent = async (job: DeliveryJob, message: OutgoingMessage, result: SendResult) => {
    sent.push({
      job,
      messageId: result.messageId || message.messageId,
      providerMessageId: result.providerMessageId ?? null,
    });
    if (sent.length >= SETTLE_GROUP) await flush();
    if (job.broadcastId) streaks.set(job.broadcastId, 0);
    report.sent++;
  };

  const settleError = async (job: DeliveryJob, error: MailError, retry?: { at: Date; keepSendKey: boolean }) => {
    if (error.rateLimited) {
      // Pace, not failure: the message is fine and the transport will take it later. No attempt is
      // spent, no streak grows, and every lane of this worker waits (the pacer is shared).
      const waitMs = error.retryAfterMs ?? DEFAULT_THROTTLE_MS;
      paceOf(mailerFor(job)).hold(waitMs);
      await store.release([job], new Date(opts.now().getTime() + waitMs));
      report.throttled++;
      return;
    }
    if (error.relayUnavailable) {
      // Nothing reached the relay, so this says nothing about the recipient or the message: it does not
      // count toward the broadcast's error streak (a relay restart must not pause a launch). The row is
      // retried with backoff like any transient fault, and the batch takes no further rows.
      report.relayUnreachable++;
      stop = true;
      await settleFailure(job, error.message, false, retry);
      return;
    }
    if (error.isHardBounce || error.suppressed) {
      // A bad mailbox is the recipient's problem, not the relay's: it does not count toward a streak.
      await store.markFailed(job, error.message, 'bounced');
      await events.hardBounce(job, error.message);
      report.failed++;
      return;
    }
    await settleFailure(job, error.message, error.permanent, retry);
    await noteFailure(job, error);
  };

  /** Compose a unit of rows, then send what is left of it in one call of its transport. */
  const deliverUnit = async (unit: DeliveryJob[], mailer: Mailer) => {
    const ready: { job: DeliveryJob; message: OutgoingMessage }[] = [];
    for (const job of unit) {
      let composed: Composed;
      try {
        composed = await composer.compose(job);
      } catch (err) {
        // A rendering bug must not loop for as long as an outage may: a few attempts, then give up.
        await settleFailure(job, `compose: ${(err as Error).message}`.slice(0, 300), job.attempts >= opts.maxAttempts);
        continue;
      }
      if ('skip' in composed) {
        await store.markSkipped(job, composed.skip);
        report.skipped++;
      } else ready.push({ job, message: composed.message });
    }
    if (ready.length === 0) return;
    const jobsOf = ready.map((r) => r.job);
    const sendKey = await requestKey(jobsOf, mailer);
    const pace = paceOf(mailer);
    let outcomes: BatchOutcome[];
    let whole: { at: Date; keepSendKey: boolean } | undefined;
    for (let tries = 1; ; tries++) {
      await pace(ready.length);
      try {
        if (sendKey)
          outcomes = await mailer.sendBatch(
            ready.map((r) => r.message),
            { idempotencyKey: sendKey },
          );
        else if (ready.length === 1) outcomes = [{ ok: true, result: await mailer.send(ready[0]!.message) }];
        else outcomes = await mailer.sendBatch(ready.map((r) => r.message));
        break;
      } catch (err) {
        const error = asMailError(err);
        // Rate limited as a whole, briefly: wait in the lane (every lane of this transport waits with it)
        // and make the same request again, at the pace the provider sets. A long wait releases the rows.
        const waitMs = error.retryAfterMs ?? DEFAULT_THROTTLE_MS;
        if (error.rateLimited && waitMs <= MAX_IN_LANE_WAIT_MS && tries < MAX_IN_LANE_TRIES) {
          pace.hold(waitMs);
          continue;
        }
        outcomes = ready.map(() => ({ ok: false, error }));
        // The request failed as a whole, perhaps after the transport accepted it: its rows are tried again
        // together, at one time, and under the same key where the transport deduplicates by it.
        const first = jobsOf[0]!;
        whole = {
          at: new Date(opts.now().getTime() + backoffMs(first.attempts, opts.random)),
          keepSendKey: sendKey !== undefined,
        };
        break;
      }
    }
    for (const [i, { job, message }] of ready.entries()) {
      const outcome = outcomes[i] ?? {
        ok: false as const,
        error: asMailError(new Error('the transport gave no result for this message')),
      };
      if (outcome.ok) await settleSent(job, message, outcome.result);
      else await settleError(job, outcome.error, whole);
    }
  };

  /**
   * The key of this request, for transports that deduplicate batches by one: the rows' own key when they
   * come back from a request that may have been accepted, or a new one, written to the rows before the
   * request is made. A key whose other rows another worker holds is not reused: that part of the request
   * goes under a new key (a possible repeat, never a loss).
   */
  const requestKey = async (jobs: DeliveryJob[], mailer: Mailer): Promise<string | undefined> => {
    if (!mailer.idempotentBatches) return undefined;
    const known = jobs[0]!.sendKey;
    if (known && jobs.every((j) => j.sendKey === known) && !(await store.sendKeyShared(known, jobs))) return known;
    if (jobs.length === 1 && !known) return undefined; // one row: the transport keys it by the row itself
    const key = crypto.randomUUID();
    await store.assignSendKey(jobs, key);
    return key;
  };

  // Units: rows for one transport, as many as it takes in one call; rows of one earlier request together.
  const units: { jobs: DeliveryJob[]; mailer: Mailer }[] = [];
  const keyed = new Map<string, DeliveryJob[]>();
  for (const job of jobs) {
    if (!job.sendKey) continue;
    const unit = keyed.get(job.sendKey);
    if (unit) unit.push(job);
    else {
      keyed.set(job.sendKey, [job]);
      units.push({ jobs: keyed.get(job.sendKey)!, mailer: mailerFor(job) });
    }
  }
  const open = new Map<Mailer, DeliveryJob[]>();
  for (const job of jobs) {
    if (job.sendKey) continue;
    const mailer = mailerFor(job);
    const unit = open.get(mailer) ?? [];
    if (unit.length === 0) {
      open.set(mailer, unit);
      units.push({ jobs: unit, mailer });
    }
    unit.push(job);
    if (unit.length >= Math.max(1, mailer.maxBatch)) open.set(mailer, []);
  }

  let next = 0;
  const lane = async () => {
    while (next < units.length && !stop) {
      const unit = units[next++]!;
      try {
        await deliverUnit(unit.jobs, unit.mailer);
      } catch (err) {
        stop = true; // the database is failing: take no more rows
        throw err;
      }
    }
  };
  const lanes = await Promise.allSettled(Array.from({ length: Math.min(opts.concurrency, units.length) }, lane));
  // Whatever went out is marked sent, even when a lane failed on the database meanwhile.
  await flush();
  const failed = lanes.find((l): l is PromiseRejectedResult => l.status === 'rejected');
  if (failed) throw failed.reason;
  // The relay is down: rows never tried go back to the queue as they were, their claim's attempt returned.
  if (next < units.length) await store.release(units.slice(next).flatMap((u) => u.jobs));

  const broadcastIds = [
    ...new Set(jobs.filter((j) => j.kind === 'broadcast' && j.broadcastId).map((j) => j.broadcastId!)),
  ];
  if (broadcastIds.length) await events.batchSettled?.(broadcastIds);
  return report;
}
