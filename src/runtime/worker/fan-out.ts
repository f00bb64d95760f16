import { continueFreezes } from '../../core/audience.js';
import { type DeliveryMessage, dueBroadcasts, planFanOut } from '../../delivery/fan-out.js';
import { errorFields } from '../../log.js';
import type { Services } from '../../services.js';
import type { Runtime } from './runtime.js';

/** The most messages Queue.sendBatch takes. */
const QUEUE_BATCH = 100;

/**
 * Freeze the audiences waiting to be frozen, slice by slice until `deadline` (a freeze cut short goes on
 * at the next cron tick), then fan every sending broadcast out to the delivery queue: the send of a
 * broadcast is followed at once by queue consumers, not by the next tick.
 */
export async function freezeAndFanOut(
  rt: Runtime,
  services: Services,
  queue: Queue<DeliveryMessage> | undefined,
  deadline: number,
): Promise<void> {
  await continueFreezes(services, deadline).catch((err: unknown) =>
    rt.log.error('audience freeze failed', errorFields(err)),
  );
  if (!queue) return;
  const sent = await fanOut(rt, services, queue).catch((err: unknown) => {
    rt.log.error('delivery fan-out failed', errorFields(err));
    return 0;
  });
  if (sent) rt.log.info('delivery fanned out', { messages: sent });
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
