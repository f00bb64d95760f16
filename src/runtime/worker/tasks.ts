import { type CheckpointStore, checkpointIfDue } from '../../core/consent-checkpoints.js';
import { sealPendingConsentEvents } from '../../core/consent-sealer.js';
import type { DrainLimits } from '../../delivery/loop.js';
import type { BatchReport } from '../../delivery/types.js';
import { errorFields, type Logger } from '../../log.js';
import type { Services } from '../../services.js';

/** Seal pending consent events into the ledger's chain; a failure is logged (the next cron tick tries again). */
export async function seal(services: Services, log: Logger, trigger: string): Promise<void> {
  try {
    await sealPendingConsentEvents(services.db);
  } catch (err) {
    log.error('consent ledger sealing failed', { trigger, ...errorFields(err) });
  }
}

/**
 * Keep a checkpoint of the consent ledger in the LEDGER_CHECKPOINTS binding when one is due (every
 * LEDGER_CHECKPOINT_INTERVAL_MINUTES while the ledger grows); a failure is logged.
 */
export async function checkpoint(
  services: Services,
  store: CheckpointStore | undefined,
  log: Logger,
  trigger: string,
): Promise<void> {
  const intervalMs = services.config.LEDGER_CHECKPOINT_INTERVAL_MINUTES * 60_000;
  if (!store || !services.ledgerKey || intervalMs === 0) return;
  try {
    const kept = await checkpointIfDue(services.db, services.ledgerKey, store, services.now(), intervalMs);
    if (kept) log.info('consent ledger checkpoint kept', { trigger, seq: kept.seq });
  } catch (err) {
    log.error('consent ledger checkpoint failed', { trigger, ...errorFields(err) });
  }
}

/** Deliver due mail within `limits`; a failure is logged, not thrown. */
export async function deliver(
  services: Services,
  log: Logger,
  trigger: string,
  limits: DrainLimits,
): Promise<BatchReport | undefined> {
  try {
    const report = await services.delivery.drain(limits);
    if (report.claimed > 0) log.info('delivery drained', { trigger, ...report });
    return report;
  } catch (err) {
    // Nothing is lost: claimed rows return to the pool when their lease ends, and the cron runs again.
    log.error('delivery failed', { trigger, ...errorFields(err) });
    return undefined;
  }
}
