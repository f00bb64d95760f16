import { CONFIRM_TOKEN_TTL_MS } from '../core/tokens.js';
import type { DeliveryJob } from './outbox-store.js';

const HOUR_MS = 3_600_000;

/**
 * How long a mail is worth retrying through an outage of the relay or provider, by kind: a
 * confirmation for as long as its link is valid, a test send for an hour (the author is waiting for
 * it), everything else for `retryHours` from when it was queued.
 */
export function giveUpAt(retryHours: number): (job: DeliveryJob) => Date {
  return (job) => {
    const from = job.createdAt.getTime();
    if (job.kind === 'confirmation') return new Date(from + CONFIRM_TOKEN_TTL_MS);
    if (job.kind === 'test') return new Date(from + HOUR_MS);
    return new Date(from + retryHours * HOUR_MS);
  };
}
