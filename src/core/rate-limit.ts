import { lt, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.js';
import { rateLimits } from '../db/schema.js';

export interface RateLimitRule {
  limit: number;
  windowSeconds: number;
}

export type RateLimitResult = { allowed: true; count: number } | { allowed: false; count: number; retryAfterSeconds: number };

/**
 * Fixed-window counters kept in the database, so every API instance shares them. One upsert for all
 * the hits of a request: `INSERT … ON CONFLICT DO UPDATE … RETURNING count` is atomic under
 * concurrency on PostgreSQL, and one statement is one round trip however many limits a request spends.
 * Results come back in the order of `hits`.
 */
export async function hitRateLimits(db: DbOrTx, hits: { key: string; rule: RateLimitRule }[], now: Date): Promise<RateLimitResult[]> {
  if (hits.length === 0) return [];
  const windows = hits.map(({ key, rule }) => {
    const windowMs = rule.windowSeconds * 1000;
    const start = Math.floor(now.getTime() / windowMs) * windowMs;
    return { key, windowStart: new Date(start), count: 1, expiresAt: new Date(start + windowMs) };
  });
  const rows = await db
    .insert(rateLimits)
    .values(windows)
    .onConflictDoUpdate({ target: [rateLimits.key, rateLimits.windowStart], set: { count: sql`${rateLimits.count} + 1` } })
    .returning({ key: rateLimits.key, count: rateLimits.count });
  const counts = new Map(rows.map((r) => [r.key, r.count]));
  return hits.map(({ key, rule }, i) => {
    const count = counts.get(key)!;
    if (count <= rule.limit) return { allowed: true, count };
    return { allowed: false, count, retryAfterSeconds: Math.max(1, Math.ceil((windows[i]!.expiresAt.getTime() - now.getTime()) / 1000)) };
  });
}

export async function hitRateLimit(db: DbOrTx, key: string, rule: RateLimitRule, now: Date): Promise<RateLimitResult> {
  return (await hitRateLimits(db, [{ key, rule }], now))[0]!;
}

export async function pruneRateLimits(db: DbOrTx, now: Date): Promise<void> {
  await db.delete(rateLimits).where(lt(rateLimits.expiresAt, now));
}
