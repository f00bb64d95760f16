import { lt, type SQL, sql } from 'drizzle-orm';
import { type DbOrTx, rowsOf } from '../db/client.js';
import { rateLimits } from '../db/schema.js';

export interface RateLimitRule {
  limit: number;
  windowSeconds: number;
}

export interface RateLimitHit {
  key: string;
  rule: RateLimitRule;
}

export type RateLimitResult =
  | { allowed: true; count: number }
  | { allowed: false; count: number; retryAfterSeconds: number };

/**
 * Fixed-window counters kept in the database, so every API instance shares them. One upsert for all
 * the hits of a request: `INSERT … ON CONFLICT DO UPDATE … RETURNING key, count` is atomic under
 * concurrency on PostgreSQL, and one statement is one round trip however many limits a request spends.
 * A caller can also write it as a CTE of its own statement (signup.ts) and judge the counts it returns.
 */
export function rateLimitUpsert(
  hits: RateLimitHit[],
  now: Date,
): { statement: SQL; judge(counts: Map<string, number>): RateLimitResult[]; exceeded(relation: SQL): SQL } {
  const windows = hits.map(({ key, rule }) => {
    const windowMs = rule.windowSeconds * 1000;
    const start = Math.floor(now.getTime() / windowMs) * windowMs;
    return {
      key,
      windowStart: new Date(start).toISOString(),
      expiresAt: new Date(start + windowMs).toISOString(),
      limit: rule.limit,
    };
  });
  const values = sql.join(
    windows.map((w) => sql`(${w.key}::text, ${w.windowStart}::timestamptz, 1, ${w.expiresAt}::timestamptz)`),
    sql`, `,
  );
  return {
    statement: sql`
      insert into ${rateLimits} (key, window_start, count, expires_at) values ${values}
      on conflict (key, window_start) do update set count = ${rateLimits}.count + 1
      returning key, count`,
    /** True when a row of `relation` (the statement's output) is over its limit. */
    exceeded: (relation) =>
      sql`exists (select 1 from ${relation} h where ${sql.join(
        windows.map((w) => sql`(h.key = ${w.key}::text and h.count > ${w.limit}::integer)`),
        sql` or `,
      )})`,
    judge: (counts) =>
      hits.map(({ key, rule }, i) => {
        const count = counts.get(key)!;
        if (count <= rule.limit) return { allowed: true, count };
        return {
          allowed: false,
          count,
          retryAfterSeconds: Math.max(1, Math.ceil((Date.parse(windows[i]!.expiresAt) - now.getTime()) / 1000)),
        };
      }),
  };
}

/** Spend one hit on each limit. Results come back in the order of `hits`. */
export async function hitRateLimits(db: DbOrTx, hits: RateLimitHit[], now: Date): Promise<RateLimitResult[]> {
  if (hits.length === 0) return [];
  const upsert = rateLimitUpsert(hits, now);
  const rows = rowsOf<{ key: string; count: number }>(await db.execute(upsert.statement));
  return upsert.judge(new Map(rows.map((r) => [r.key, Number(r.count)])));
}

export async function hitRateLimit(db: DbOrTx, key: string, rule: RateLimitRule, now: Date): Promise<RateLimitResult> {
  return (await hitRateLimits(db, [{ key, rule }], now))[0]!;
}

export async function pruneRateLimits(db: DbOrTx, now: Date): Promise<void> {
  await db.delete(rateLimits).where(lt(rateLimits.expiresAt, now));
}
