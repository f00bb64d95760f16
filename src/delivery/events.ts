import { recordBounce } from '../core/bounces.js';
import { completeFinishedBroadcasts, pauseBroadcast } from '../core/broadcasts.js';
import type { CoreDeps } from '../core/deps.js';
import type { DeliveryEvents } from './types.js';

/** The domain's answers to what the sending engine reports. */
export function createDeliveryEvents(deps: CoreDeps): DeliveryEvents {
  return {
    async hardBounce(job, diagnostic, via) {
      await recordBounce(deps, { type: 'hard', source: via, deliveryId: job.id, diagnostic });
    },
    async errorStreak(broadcastId, lastError) {
      await pauseBroadcast(
        deps,
        broadcastId,
        `paused after ${deps.config.BROADCAST_PAUSE_AFTER_ERRORS} consecutive send errors (last: ${lastError.slice(0, 200)})`,
      ).catch(() => {
        // Already paused or cancelled by someone else: nothing to do.
      });
    },
    async batchSettled(broadcastIds) {
      await completeFinishedBroadcasts(deps.db, broadcastIds, deps.now());
    },
  };
}
