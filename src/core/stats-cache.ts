import type { Config } from '../config.js';
import type { Db } from '../db/client.js';
import { type Overview, overview } from './stats.js';

/**
 * The overview's figures are counted, not kept as running totals (a counter row every signup updates
 * would queue signups behind each other). Counting is quick on a list of thousands and takes seconds on
 * one of a million, so: while a count takes less than SLOW_MS the page always counts afresh; past that,
 * a count is kept for KEEP_MS and the page says when it was made — the choice listmonk makes for its
 * dashboard. Kept per configuration, i.e. per process on Node and per isolate on Workers.
 */
export const SLOW_MS = 250;
export const KEEP_MS = 60_000;

export interface CountedOverview extends Overview {
  /** How long counting took. */
  tookMs: number;
  /** True when this is a kept count rather than a fresh one. */
  kept: boolean;
}

interface Entry {
  value: CountedOverview;
  /** Wall-clock time of the count (not the services' clock, which tests move). */
  at: number;
  counting?: Promise<CountedOverview> | undefined;
}

const kept = new WeakMap<object, Entry>();

async function count(db: Db, now: Date): Promise<CountedOverview> {
  const started = performance.now();
  const value = await overview(db, now);
  return { ...value, tookMs: Math.round(performance.now() - started), kept: false };
}

/**
 * The overview, counted now or, for a slow list, kept from the last minute. While one request counts, the
 * others get the previous count rather than starting another.
 */
export async function overviewFigures(
  deps: { db: Db; config: Config; now: () => Date },
  opts: { slowMs?: number } = {},
): Promise<CountedOverview> {
  const entry = kept.get(deps.config);
  if (entry && entry.value.tookMs >= (opts.slowMs ?? SLOW_MS)) {
    if (Date.now() - entry.at < KEEP_MS || entry.counting) return { ...entry.value, kept: true };
  }
  if (entry?.counting) return entry.counting;
  const counting = count(deps.db, deps.now());
  const next: Entry = entry ?? { value: undefined as never, at: 0 };
  next.counting = counting;
  kept.set(deps.config, next);
  try {
    next.value = await counting;
    next.at = Date.now();
    return next.value;
  } catch (err) {
    if (next.value === undefined) kept.delete(deps.config);
    throw err;
  } finally {
    next.counting = undefined;
  }
}

/** After the author changed something the figures show: the next overview counts again. */
export function forgetOverview(config: Config): void {
  kept.delete(config);
}
