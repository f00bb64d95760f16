import { deliverBatch, type ErrorStreaks } from './engine.js';
import type { OutboxStore } from './outbox-store.js';
import {
  type BatchReport,
  type Composer,
  type DeliveryEvents,
  type EngineOptions,
  emptyReport,
  type MailerFor,
} from './types.js';

/** How long one batch of the loop goes on claiming before the loop runs its housekeeping again. */
const STREAM_MS = 5_000;

export interface LoopOptions extends EngineOptions {
  /** How long to sleep when the outbox is empty, unless woken earlier. */
  idleMs: number;
  onError?: (err: unknown) => void;
  onBatch?: (report: BatchReport) => void;
  /** Runs before claiming, at most every `tickEveryMs` (due scheduled broadcasts). */
  tick?: () => Promise<void>;
  tickEveryMs?: number;
  /** Periodic housekeeping (expired rate-limit windows and the like). */
  maintenance?: () => Promise<void>;
  maintenanceEveryMs?: number;
}

export interface DeliveryLoop {
  start(): void;
  /** Wake an idle loop now (called after a transaction queued mail). */
  wake(): void;
  /** Finish the rows in hand (the batch takes no new claim), then stop. */
  stop(): Promise<void>;
  /** Run due schedules, then deliver everything due now; for tests and one-shot runs (cron). */
  drain(limits?: DrainLimits): Promise<BatchReport>;
}

/** Bounds for a one-shot drain (Workers: a request's waitUntil, a cron tick, a queue message). */
export interface DrainLimits {
  /** Start no new batch at or after this time (epoch ms, real time); the batch in hand finishes. */
  deadline?: number;
  maxBatches?: number;
  /** Run due schedules and maintenance first (default true). */
  housekeeping?: boolean;
}

export function createDeliveryLoop(
  store: OutboxStore,
  mailer: MailerFor,
  composer: Composer,
  events: DeliveryEvents,
  opts: LoopOptions,
): DeliveryLoop {
  let running = false;
  let loopDone: Promise<void> | undefined;
  let wakeUp: (() => void) | undefined;
  let woken = false;
  let lastMaintenance = 0;
  let lastTick = 0;
  /** While the relay is down, new mail (wake) does not cut the wait short; stop() still does. */
  let holdUntil = 0;
  const streaks: ErrorStreaks = new Map();

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (woken) {
        woken = false;
        return resolve();
      }
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wakeUp = undefined;
        woken = false;
        resolve();
      }
      wakeUp = done;
    });

  const batch = (keepClaiming?: () => boolean) =>
    deliverBatch(store, mailer, composer, events, opts, streaks, keepClaiming);

  async function housekeeping(force = false) {
    const now = Date.now();
    if (opts.tick && (force || now - lastTick >= (opts.tickEveryMs ?? 1000))) {
      lastTick = now;
      await opts.tick();
    }
    if (opts.maintenance && now - lastMaintenance > (opts.maintenanceEveryMs ?? 60_000)) {
      lastMaintenance = now;
      await opts.maintenance();
    }
  }

  async function run() {
    while (running) {
      try {
        await housekeeping();
        // One batch streams claims for a while; between batches the loop looks at schedules again.
        const until = performance.now() + STREAM_MS;
        const report = await batch(() => running && performance.now() < until);
        if (report.claimed > 0) opts.onBatch?.(report);
        if (report.relayUnreachable > 0) {
          // The SMTP relay is down: wait as after any fault, then try again with the next batch.
          opts.onError?.(new Error('the SMTP relay could not be reached; retrying shortly'));
          const wait = Math.min(opts.idleMs * 5, 10_000);
          holdUntil = Date.now() + wait;
          woken = false;
          if (running) await sleep(wait);
        } else if (report.claimed === 0 && running) await sleep(opts.idleMs);
      } catch (err) {
        // The database or transport is down: report, back off, and keep going; nothing is lost because
        // claimed rows return to the pool when their lease expires.
        opts.onError?.(err);
        if (running) await sleep(Math.min(opts.idleMs * 5, 10_000));
      }
    }
  }

  return {
    start() {
      if (running) return;
      running = true;
      loopDone = run();
    },
    wake() {
      if (Date.now() < holdUntil) return;
      if (wakeUp) wakeUp();
      else woken = true;
    },
    async stop() {
      running = false;
      wakeUp?.();
      await loopDone;
    },
    async drain(limits = {}) {
      if (limits.housekeeping !== false) await housekeeping(true);
      const total: BatchReport = emptyReport();
      // Bounded by batches, a drain claims once per batch; bounded by time (or not at all), it streams.
      const keepClaiming =
        limits.maxBatches === undefined
          ? () => limits.deadline === undefined || Date.now() < limits.deadline
          : undefined;
      for (let n = 0; ; n++) {
        if (limits.maxBatches !== undefined && n >= limits.maxBatches) return total;
        if (limits.deadline !== undefined && Date.now() >= limits.deadline) return total;
        const r = await batch(keepClaiming);
        for (const k of Object.keys(total) as (keyof BatchReport)[]) total[k] += r[k];
        if (r.claimed === 0 || r.relayUnreachable > 0) return total;
      }
    },
  };
}
