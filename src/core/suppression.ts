import { and, eq, inArray, type SQL, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.js';
import { type SuppressionReason, suppressions } from '../db/schema.js';

/** Reasons that stop every mail to an address, even a confirmation the person asks for again. */
export const blockingReasons: SuppressionReason[] = ['hard_bounce', 'complaint', 'manual'];

/** Reasons that keep an address out of every broadcast: the blocking ones, and a person's own opt-out. */
export const excludedFromBroadcasts: SuppressionReason[] = [...blockingReasons, 'unsubscribed', 'erased'];

/** SQL: is the address with this hash suppressed for one of `reasons`? For set-based queries. */
export function suppressedSql(emailHash: SQL | string, reasons: SuppressionReason[]): SQL {
  const list = sql.join(
    reasons.map((r) => sql.raw(`'${r}'`)),
    sql`, `,
  );
  return sql`exists (select 1 from suppressions x where x.email_hash = ${emailHash} and x.reason in (${list}))`;
}

/** Reasons a fresh, confirmed double opt-in lifts. */
export const liftedByConfirmation: SuppressionReason[] = ['hard_bounce', 'complaint', 'unsubscribed', 'erased'];

export async function suppressionReasonsFor(db: DbOrTx, emailHash: string): Promise<SuppressionReason[]> {
  const rows = await db
    .select({ reason: suppressions.reason })
    .from(suppressions)
    .where(eq(suppressions.emailHash, emailHash));
  return rows.map((r) => r.reason);
}

export async function isBlocked(db: DbOrTx, emailHash: string): Promise<boolean> {
  const rows = await db
    .select({ reason: suppressions.reason })
    .from(suppressions)
    .where(and(eq(suppressions.emailHash, emailHash), inArray(suppressions.reason, blockingReasons)))
    .limit(1);
  return rows.length > 0;
}

export async function suppress(db: DbOrTx, emailHash: string, reason: SuppressionReason, at: Date): Promise<void> {
  await db.insert(suppressions).values({ emailHash, reason, at }).onConflictDoNothing();
}

export async function liftSuppressions(db: DbOrTx, emailHash: string, reasons: SuppressionReason[]): Promise<void> {
  await db
    .delete(suppressions)
    .where(and(eq(suppressions.emailHash, emailHash), inArray(suppressions.reason, reasons)));
}
