import type { DbOrTx } from '../db/client.js';
import { type DeliveryKind, deliveries } from '../db/schema.js';

export interface OutboxEntry {
  kind: DeliveryKind;
  subscriberId?: string | null;
  confirmTokenId?: string | null;
  broadcastId?: string | null;
  to?: string | null;
}

/** Queue one email. It is sent by whichever delivery worker claims it first, after this transaction commits. */
export async function enqueueDelivery(tx: DbOrTx, entry: OutboxEntry, now: Date): Promise<string> {
  const [row] = await tx
    .insert(deliveries)
    .values({ ...entry, status: 'queued', nextAttemptAt: now, createdAt: now })
    .returning({ id: deliveries.id });
  return row!.id;
}
