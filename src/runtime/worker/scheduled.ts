import { startDueBroadcasts } from '../../core/broadcasts.js';
import { checkpointStoreFor } from './checkpoints.js';
import type { Env } from './env.js';
import { freezeAndFanOut } from './fan-out.js';
import { runtimeFor } from './runtime.js';
import { openScope } from './scope.js';
import { checkpoint, deliver, seal } from './tasks.js';

/** The cron handler stops starting new batches after this (a cron invocation may run far longer). */
const CRON_BUDGET_MS = 25_000;

/**
 * The cron, every minute: seal pending consent events (and keep a checkpoint when one is due), start due
 * broadcasts and freeze their audiences, fan sending broadcasts out to the delivery queue so many
 * invocations share the sending, and deliver due mail within a time budget.
 */
export async function scheduledHandler(controller: ScheduledController, env: Env): Promise<void> {
  const deadline = Date.now() + CRON_BUDGET_MS;
  const rt = runtimeFor(env);
  // Audiences are frozen here, before the fan-out, not beside it.
  const scope = await openScope(rt, env, 'delivery', undefined, () => {});
  try {
    const { services } = scope;
    await seal(services, rt.log, `cron ${controller.cron}`);
    await checkpoint(services, checkpointStoreFor(env.LEDGER_CHECKPOINTS), rt.log, `cron ${controller.cron}`);
    // Scheduled broadcasts whose time has come start sending first, so this tick's fan-out covers them.
    await startDueBroadcasts(services);
    await freezeAndFanOut(rt, services, env.DELIVERY_QUEUE, deadline);
    // Then deliver here too (transactional mail first), with rate-limit housekeeping, within the budget.
    await deliver(services, rt.log, `cron ${controller.cron}`, { deadline });
  } finally {
    await scope.close();
  }
}
