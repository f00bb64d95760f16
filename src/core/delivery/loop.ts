import type { Mailer } from '../../mail/mailer.js';
import { deliverBatch, type BatchReport, type BounceHandler, type Composer, type EngineOptions } from './engine.js';
import type { OutboxStore } from './outbox-store.js';

export interface LoopOptions extends EngineOptions {
  /** How long to sleep when the outbox is empty, unless woken earlier. */
  idleMs: number;
  onError?: (err: unknown) => void;
  onBatch?: (report: BatchReport) => void;
  /** Periodic housekeeping (expired rate-limit windows and the like). */
  maintenance?: () => Promise<void>;
  maintenanceEveryMs?: number;
}

export interface DeliveryLoop {
  start(): void;
  /** Wake an idle loop now (called after a transaction queued mail). */
  wake(): void;
  /** Finish the batch in hand, then stop. */
  stop(): Promise<void>;
  /** Drain everything due now; for tests and one-shot runs (cron). */
  drain(): Promise<BatchReport>;
}

export function createDeliveryLoop(
  store: OutboxStore,
  mailer: Mailer,
  compose: Composer,
  bounces: BounceHandler,
  opts: LoopOptions,
): DeliveryLoop {
  let running = false;
  let loopDone: Promise<void> | undefined;
  let wakeUp: (() => void) | undefined;
  let woken = false;
  let lastMaintenance = 0;

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

  const batch = () => deliverBatch(store, mailer, compose, bounces, opts);

  async function run() {
    while (running) {
      try {
        if (opts.maintenance && Date.now() - lastMaintenance > (opts.maintenanceEveryMs ?? 60_000)) {
          lastMaintenance = Date.now();
          await opts.maintenance();
        }
        const report = await batch();
        if (report.claimed > 0) opts.onBatch?.(report);
        if (report.claimed === 0 && running) await sleep(opts.idleMs);
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
      if (wakeUp) wakeUp();
      else woken = true;
    },
    async stop() {
      running = false;
      wakeUp?.();
      await loopDone;
    },
    async drain() {
      const total: BatchReport = { claimed: 0, sent: 0, retried: 0, failed: 0, skipped: 0 };
      for (;;) {
        const r = await batch();
        for (const k of Object.keys(total) as (keyof BatchReport)[]) total[k] += r[k];
        if (r.claimed === 0) return total;
      }
    },
  };
}
