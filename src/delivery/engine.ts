import { asMailError, type BatchOutcome, type Mailer, type OutgoingMessage } from '../mail/mailer.js';
import type { DeliveryJob, OutboxStore } from './outbox-store.js';
import { createSettler, type ErrorStreaks, type WholeRetry } from './settle.js';
import { backoffMs, DEFAULT_THROTTLE_MS, MAX_IN_LANE_TRIES, MAX_IN_LANE_WAIT_MS } from './timing.js';
import {
  type BatchReport,
  type Composed,
  type Composer,
  type DeliveryEvents,
  type EngineOptions,
  emptyReport,
  type MailerFor,
} from './types.js';

export type { ErrorStreaks } from './settle.js';

/**
 * Claim a batch and settle every row in it exactly once. With `keepClaiming`, the batch is a stream: the
 * next claim is made while the lanes still have work, for as long as it says so, so the transport never
 * waits for the database between claims. Returns what happened, for loops and tests.
 */
export async function deliverBatch(
  store: OutboxStore,
  mailers: MailerFor,
  composer: Composer,
  events: DeliveryEvents,
  opts: EngineOptions,
  streaks: ErrorStreaks = new Map(),
  keepClaiming?: () => boolean,
): Promise<BatchReport> {
  const report: BatchReport = emptyReport();
  const mailerFor = typeof mailers === 'function' ? mailers : () => mailers;
  const paceOf = (mailer: Mailer) => opts.paceFor?.(mailer) ?? opts.pace;
  // Rows handed to a transport and not yet settled: what a worker killed now would send twice. Kept at
  // most one batch (the bound tests/chaos and the crash tests measure), while claims run ahead.
  let exposed = 0;
  let wake = () => {};
  let changed = new Promise<void>((r) => (wake = r));
  const notify = () => {
    const woken = wake;
    changed = new Promise<void>((r) => (wake = r));
    woken();
  };
  const settle = createSettler(
    store,
    events,
    opts,
    report,
    streaks,
    (job) => paceOf(mailerFor(job)),
    (rows) => {
      exposed -= rows;
      notify();
    },
  );
  /** Wait until `n` more rows may go out; a group still collecting is written first, to free its rows. */
  const gate = async (n: number) => {
    while (exposed > 0 && exposed + n > opts.batchSize) {
      const waiting = changed;
      await settle.flush();
      if (exposed > 0 && exposed + n > opts.batchSize) await waiting;
    }
    exposed += n;
  };
  const units: { jobs: DeliveryJob[]; mailer: Mailer }[] = [];
  const broadcastIds = new Set<string>();
  let exhausted = false;
  let stop = false;

  /** Units: rows for one transport, as many as it takes in one call; rows of one earlier request together. */
  const plan = (jobs: DeliveryJob[]) => {
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
  };

  const claim = async () => {
    const jobs = await store.claim(opts.batchSize, opts.leaseMs, opts.now());
    report.claimed += jobs.length;
    if (jobs.length === 0) {
      exhausted = true;
      return;
    }
    settle.claimed(jobs);
    await composer.prepare?.(jobs);
    for (const j of jobs) if (j.kind === 'broadcast' && j.broadcastId) broadcastIds.add(j.broadcastId);
    plan(jobs);
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
        const error = `compose: ${(err as Error).message}`.slice(0, 300);
        await settle.failure(job, error, job.attempts >= opts.maxAttempts);
        continue;
      }
      if ('skip' in composed) await settle.skipped(job, composed.skip);
      else ready.push({ job, message: composed.message });
    }
    if (ready.length === 0) return;
    const jobsOf = ready.map((r) => r.job);
    const sendKey = await requestKey(jobsOf, mailer);
    const pace = paceOf(mailer);
    await gate(ready.length);
    let outcomes: BatchOutcome[];
    let whole: WholeRetry | undefined;
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
      if (outcome.ok) await settle.sent(job, message, outcome.result);
      else await settle.error(job, outcome.error, whole);
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

  await claim();
  if (report.claimed === 0) return report;

  // The next claim starts when no more units are left than lanes to take them; a failed claim stops the
  // batch (the database is failing) and is thrown once what went out is marked.
  let next = 0;
  let refill: Promise<void> | undefined;
  let claimError: unknown;
  const lane = async () => {
    for (;;) {
      if (stop || settle.relayDown) return;
      if (!refill && !exhausted && units.length - next <= opts.concurrency && keepClaiming?.()) {
        refill = claim()
          .catch((err: unknown) => {
            claimError = err;
            stop = true;
          })
          .finally(() => {
            refill = undefined;
            notify();
          });
      }
      if (next < units.length) {
        const unit = units[next++]!;
        try {
          await deliverUnit(unit.jobs, unit.mailer);
        } catch (err) {
          stop = true; // the database is failing: take no more rows
          throw err;
        } finally {
          notify(); // a lane waiting at the gate writes what this unit left collecting
        }
      } else if (refill) await refill;
      else return;
    }
  };
  const lanes = await Promise.allSettled(Array.from({ length: Math.max(1, opts.concurrency) }, lane));
  if (refill) await refill;
  // Whatever went out is marked sent, even when a lane failed on the database meanwhile.
  await settle.flush();
  const failed = lanes.find((l): l is PromiseRejectedResult => l.status === 'rejected');
  if (failed) throw failed.reason;
  if (claimError) throw claimError;
  // The relay is down: rows never tried go back to the queue as they were, their claim's attempt returned.
  if (next < units.length) await store.release(units.slice(next).flatMap((u) => u.jobs));

  if (broadcastIds.size) await events.batchSettled?.([...broadcastIds]);
  return report;
}
