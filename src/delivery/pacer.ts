/**
 * Spaces sends evenly so a worker never exceeds its rate, and holds every lane when a transport says
 * "slow down" (HTTP 429 Retry-After, SES throttling): a provider's limit is pace, not failure.
 */
export interface Pacer {
  /** Resolves when `count` more messages (default 1) may go out. */
  (count?: number): Promise<void>;
  /** Let nothing out for `ms` from now (shared by every lane of the worker). */
  hold(ms: number): void;
}

/** `rate` messages per second; 0 or less means no limit (a hold still applies). */
export function createPacer(rate: number): Pacer {
  const interval = rate > 0 ? 1000 / rate : 0;
  let nextAt = 0;
  const pace = async (count = 1) => {
    const now = performance.now();
    const at = Math.max(now, nextAt);
    nextAt = at + interval * count;
    if (at > now) await new Promise((r) => setTimeout(r, at - now));
  };
  return Object.assign(pace, {
    hold(ms: number) {
      nextAt = Math.max(nextAt, performance.now() + ms);
    },
  });
}
