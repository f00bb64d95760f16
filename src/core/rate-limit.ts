import { lt, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.js';
import { rateLimits } from '../db/schema.js';

export interface RateLimitRule {
  limit: number;
  windowSeconds: number;
}

export type RateLimitResult = { allowed: true; count: number } | { allowed: false; count: number; retryAfterSeconds: number };

/**
 * Fixed-window counter kept in the database, so every API instance shares it. One upsert per hit:
 * `INSERT … ON CONFLICT DO UPDATE … RETURNING count` is atomic under concurrency on PostgreSQL.
 */
export async function hitRateLimit(db: DbOrTx, key: string, rule: RateLimitRule, now: Date): Promise<RateLimitResult> {
  const windowMs = rule.windowSeconds * 1000;
  const start = Math.floor(now.getTime() / windowMs) * windowMs;
  const windowStart = new Date(start);
  const expiresAt = new Date(start + windowMs);
  const [row] = await db
    .insert(rateLimits)
    .values({ key, windowStart, count: 1, expiresAt })
    .onConflictDoUpdate({ target: [rateLimits.key, rateLimits.windowStart], set: { count: sql`${rateLimits.count} + 1` } })
    .returning({ count: rateLimits.count });
  const count = row!.count;
  if (count <= rule.limit) return { allowed: true, count };
  return { allowed: false, count, retryAfterSeconds: Math.max(1, Math.ceil((expiresAt.getTime() - now.getTime()) / 1000)) };
}

export async function pruneRateLimits(db: DbOrTx, now: Date): Promise<void> {
  await db.delete(rateLimits).where(lt(rateLimits.expiresAt, now));
}
