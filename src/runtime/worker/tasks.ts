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
