/** How the engine waits: backoff between attempts, rate limits, and settling while a lease holds. */

/** Exponential backoff with full jitter: 30 s, 1 min, 2 min … capped at 1 h. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(3_600_000, 30_000 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base / 2 + (random() * base) / 2);
}

/**
 * How many sent rows are marked in one statement, at most: a batch writes its group when it is half full
 * too, so the rows a batch may have sent and not yet marked (never more than the batch) rarely hold it up.
 */
export const SETTLE_GROUP = 128;

/** A rate-limited transport that named no wait gets this one. */
export const DEFAULT_THROTTLE_MS = 1000;
/** Rate limits waited out in the lane, before the rows go back to the queue (well inside the lease). */
export const MAX_IN_LANE_WAIT_MS = 15_000;
export const MAX_IN_LANE_TRIES = 8;

/** Settling stops this long before a batch's lease ends, so a late write never races the next owner. */
export const LEASE_MARGIN_MS = 10_000;

/** Run a settle until it succeeds or the lease is about to end, waiting longer after each failure. */
export async function untilLeaseEnds<T>(settle: () => Promise<T>, leaseEnds: number): Promise<T> {
  for (let wait = 100; ; wait = Math.min(wait * 2, 5_000)) {
    try {
      return await settle();
    } catch (err) {
      if (performance.now() + wait >= leaseEnds) throw err;
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}
