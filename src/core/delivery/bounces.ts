import { eq } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { subscribers } from '../../db/schema.js';
import { appendConsentEvent } from '../consent.js';
import { suppress } from '../suppression.js';
import type { BounceHandler } from './engine.js';

/** A hard bounce (5.1.x) suppresses the address and marks the subscriber, with its ledger event. */
export function createBounceHandler(db: Db, now: () => Date): BounceHandler {
  return {
    async hardBounce(job) {
      if (!job.subscriberId) return;
      const at = now();
      await db.transaction(async (tx) => {
        const [sub] = await tx.select().from(subscribers).where(eq(subscribers.id, job.subscriberId!)).for('update');
        if (!sub || sub.status === 'erased') return;
        await suppress(tx, sub.emailHash, 'hard_bounce', at);
        if (sub.status === 'bounced') return;
        await tx.update(subscribers).set({ status: 'bounced', statusChangedAt: at }).where(eq(subscribers.id, sub.id));
        await appendConsentEvent(tx, {
          subscriberId: sub.id,
          emailHash: sub.emailHash,
          kind: 'suppressed',
          source: 'hard_bounce',
          occurredAt: at,
        });
      });
    },
  };
}
