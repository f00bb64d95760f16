import { startDueBroadcasts } from '../../core/broadcasts.js';
import { type DeliveryMessage, dueBroadcasts, planFanOut } from '../../delivery/fan-out.js';
import { errorFields } from '../../log.js';
import type { Services } from '../../services.js';
import { checkpointStoreFor } from './checkpoints.js';
import type { Env } from './env.js';
import { type Runtime, runtimeFor } from './runtime.js';
import { openScope } from './scope.js';
import { checkpoint, deliver, seal } from './tasks.js';

/** The cron handler stops starting new batches after this (a cron invocation may run far longer). */
const CRON_BUDGET_MS = 25_000;
/** The most messages Queue.sendBatch takes. */
const QUEUE_BATCH = 100;

/**
 * The cron, every minute: seal pending consent events (and keep a checkpoint when one is due), start due
 * broadcasts, fan sending broadcasts out to the delivery queue so many invocations share the sending, and
 * deliver due mail within a time budget.
 */
export async function scheduledHandler(controller: ScheduledController, env: Env): Promise<void> {
  const deadline = Date.now() + CRON_BUDGET_MS;
  const rt = runtimeFor(env);
  const scope = await openScope(rt, env, 'delivery');
  try {
    const { services } = scope;
    await seal(services, rt.log, `cron ${controller.cron}`);
    await checkpoint(services, checkpointStoreFor(env.LEDGER_CHECKPOINTS), rt.log, `cron ${controller.cron}`);
    // Scheduled broadcasts whose time has come start sending first, so this tick's fan-out covers them.
    await startDueBroadcasts(services);
    if (env.DELIVERY_QUEUE) {
      const sent = await fanOut(rt, services, env.DELIVERY_QUEUE).catch((err: unknown) => {
        rt.log.error('delivery fan-out failed', errorFields(err));
        return 0;
      });
      if (sent) rt.log.info('delivery fanned out', { messages: sent });
    }
    // Then deliver here too (transactional mail first), with rate-limit housekeeping, within the budget.
    await deliver(services, rt.log, `cron ${controller.cron}`, { deadline });
  } finally {
    await scope.close();
  }
}

async function fanOut(rt: Runtime, services: Services, queue: Queue<DeliveryMessage>): Promise<number> {
  const { QUEUE_FANOUT, QUEUE_SLICE_SECONDS, DELIVERY_RATE } = rt.config;
  if (QUEUE_FANOUT === 0) return 0;
  const messages = planFanOut(await dueBroadcasts(services.db, services.now()), {
    fanout: QUEUE_FANOUT,
    sliceSeconds: QUEUE_SLICE_SECONDS,
    rate: DELIVERY_RATE,
  });
  for (let i = 0; i < messages.length; i += QUEUE_BATCH)
    await queue.sendBatch(messages.slice(i, i + QUEUE_BATCH).map((body) => ({ body })));
  return messages.length;
}
