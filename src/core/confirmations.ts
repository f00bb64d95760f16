import { desc, eq, type SQL, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.js';
import { confirmTokens, deliveries } from '../db/schema.js';
import { CONFIRM_TOKEN_TTL_MS, confirmTokenFor, hashToken } from './tokens.js';

/**
 * Issuing a confirmation: a single-use token (only its hash is stored; the token itself is derived
 * from its id with the secret, so the mail can be written later) and the outbox row that mails it.
 * Signups, list imports and "send me a new link" all issue confirmations through this file.
 */

/** The consent a confirmation will record when its link is used: what the person was shown. */
export interface ConfirmationRequest {
  subscriberId: string;
  topics: string[];
  consentTextVersion: number | null;
  source: string | null;
}

type TokenRow = typeof confirmTokens.$inferInsert & { id: string };

function tokenRow(secret: string, req: ConfirmationRequest, now: Date): TokenRow {
  const id = crypto.randomUUID();
  return {
    id,
    tokenHash: hashToken(confirmTokenFor(secret, id)),
    subscriberId: req.subscriberId,
    topics: req.topics,
    consentTextVersion: req.consentTextVersion,
    source: req.source,
    createdAt: now,
    expiresAt: new Date(now.getTime() + CONFIRM_TOKEN_TTL_MS),
  };
}

/** Issue confirmations for many subscribers in two statements (inside the caller's transaction). */
export async function issueConfirmations(
  tx: DbOrTx,
  secret: string,
  requests: ConfirmationRequest[],
  now: Date,
): Promise<void> {
  if (requests.length === 0) return;
  const tokens = requests.map((r) => tokenRow(secret, r, now));
  await tx.insert(confirmTokens).values(tokens);
  await tx.insert(deliveries).values(
    tokens.map((t) => ({
      kind: 'confirmation' as const,
      subscriberId: t.subscriberId,
      confirmTokenId: t.id,
      status: 'queued' as const,
      nextAttemptAt: now,
      createdAt: now,
    })),
  );
}

/**
 * The same two rows as SQL for a data-modifying CTE, so a signup of a new address stays one statement:
 * `token` inserts the token (only where `onlyIf` holds), `outbox(tokenCte)` mails it.
 */
export function confirmationSql(secret: string, req: ConfirmationRequest, now: Date) {
  const t = tokenRow(secret, req, now);
  const iso = now.toISOString();
  return {
    token: (onlyIf?: SQL) => sql`
      insert into ${confirmTokens} (id, token_hash, subscriber_id, topics, consent_text_version, source, created_at, expires_at)
      select ${t.id}::uuid, ${t.tokenHash}::text, ${req.subscriberId}::uuid, ${JSON.stringify(req.topics)}::jsonb,
             ${req.consentTextVersion}::integer, ${req.source}::text, ${iso}::timestamptz, ${t.expiresAt!.toISOString()}::timestamptz
      ${onlyIf ? sql`where ${onlyIf}` : sql``}
      returning id, subscriber_id`,
    outbox: (tokenCte: SQL) => sql`
      insert into ${deliveries} (kind, subscriber_id, confirm_token_id, status, next_attempt_at, created_at)
      select 'confirmation', subscriber_id, id, 'queued', ${iso}::timestamptz, ${iso}::timestamptz from ${tokenCte}`,
  };
}

/** The subscriber's newest confirmation token, used or not. */
export async function lastConfirmation(tx: DbOrTx, subscriberId: string) {
  const [last] = await tx
    .select()
    .from(confirmTokens)
    .where(eq(confirmTokens.subscriberId, subscriberId))
    .orderBy(desc(confirmTokens.createdAt))
    .limit(1);
  return last;
}

/** A pending address gets at most one confirmation mail per CONFIRM_COOLDOWN_SECONDS. */
export const inCooldown = (issuedAt: Date, now: Date, cooldownSeconds: number): boolean =>
  issuedAt.getTime() > now.getTime() - cooldownSeconds * 1000;
