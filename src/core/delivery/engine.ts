import type { Mailer, OutgoingMessage } from '../../mail/mailer.js';
import { classifyMailError } from '../../mail/mailer.js';
import type { DeliveryJob, OutboxStore } from './outbox-store.js';

/** What a composer decides for a claimed row: a message to send, or a reason not to send it. */
export type Composed = { message: OutgoingMessage } | { skip: string };
export type Composer = (job: DeliveryJob) => Promise<Composed>;

export interface BounceHandler {
  /** A permanent 5.1.x failure: suppress the address and record it in the ledger. */
  hardBounce(job: DeliveryJob, diagnostic: string): Promise<void>;
}

export interface EngineOptions {
  batchSize: number;
  concurrency: number;
  /** Messages per second across this worker; 0 for unlimited. */
  rate: number;
  leaseMs: number;
  maxAttempts: number;
  now: () => Date;
  random?: () => number;
}

export interface BatchReport {
  claimed: number;
  sent: number;
  retried: number;
  failed: number;
  skipped: number;
}

/** Exponential backoff with full jitter: 30 s, 1 min, 2 min … capped at 1 h. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(3_600_000, 30_000 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base / 2 + (random() * base) / 2);
}

/** Claim one batch and settle every row in it. Returns what happened, for loops and tests. */
export async function deliverBatch(
  store: OutboxStore,
  mailer: Mailer,
  compose: Composer,
  bounces: BounceHandler,
  opts: EngineOptions,
): Promise<BatchReport> {
  const jobs = await store.claim(opts.batchSize, opts.leaseMs, opts.now());
  const report: BatchReport = { claimed: jobs.length, sent: 0, retried: 0, failed: 0, skipped: 0 };
  const pace = createPacer(opts.rate);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const job = jobs[next++]!;
      await pace();
      await deliverOne(job);
    }
  };

  const deliverOne = async (job: DeliveryJob) => {
    let composed: Composed;
    try {
      composed = await compose(job);
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
    try {
      const result = await mailer.send(composed.message);
      await store.markSent(job, result.messageId || composed.message.messageId, opts.now());
      report.sent++;
    } catch (err) {
      const e = classifyMailError(err);
      if (e.isHardBounce) {
        await store.markFailed(job, e.message, 'bounced');
        await bounces.hardBounce(job, e.message);
        report.failed++;
        return;
      }
      await settleFailure(job, e.message, e.permanent);
    }
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

  await Promise.all(Array.from({ length: Math.min(opts.concurrency, jobs.length) }, worker));
  return report;
}

/** Spaces sends evenly so a worker never exceeds `rate` messages per second. */
function createPacer(rate: number): () => Promise<void> {
  if (rate <= 0) return async () => {};
  const interval = 1000 / rate;
  let nextAt = Date.now();
  return async () => {
    const now = Date.now();
    const wait = nextAt - now;
    nextAt = Math.max(now, nextAt) + interval;
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  };
}
