import { asc, desc, eq, gt, sql } from 'drizzle-orm';
import { rowsOf, type Db, type DbOrTx } from '../db/client.js';
import { consentEvents, consentTexts, type ConsentEventKind } from '../db/schema.js';
import { sha256Hex } from './crypto.js';

/**
 * The consent ledger: an append-only, hash-chained record of every consent decision.
 * Each event's hash is sha256(prev_hash + "\n" + canonical JSON of the event), so editing, removing or
 * reordering any row breaks every later link. The chain is global (one per database): appends take a
 * transaction-scoped advisory lock, held only for the last statement of the transaction that writes them.
 */

export const GENESIS_HASH = '0'.repeat(64);
const LEDGER_LOCK = 0x6c656467; // "ledg"

export interface ConsentEventInput {
  subscriberId: string;
  emailHash: string;
  kind: ConsentEventKind;
  consentTextVersion?: number | null;
  topics?: string[];
  source?: string | null;
  ipHash?: string | null;
  userAgent?: string | null;
  occurredAt: Date;
}

interface ChainedFields {
  subscriberId: string;
  emailHash: string;
  kind: ConsentEventKind;
  consentTextVersion: number | null;
  topics: string[];
  source: string | null;
  ipHash: string | null;
  userAgent: string | null;
  occurredAt: Date;
}

/** Field order is fixed here, not by object key order, so the chain is verifiable in any language. */
export function canonicalEvent(e: ChainedFields): string {
  return JSON.stringify([
    e.subscriberId,
    e.emailHash,
    e.kind,
    e.consentTextVersion,
    [...e.topics].sort(),
    e.source,
    e.ipHash,
    e.userAgent,
    e.occurredAt.toISOString(),
  ]);
}

export const chainHash = (prevHash: string, e: ChainedFields): string => sha256Hex(`${prevHash}\n${canonicalEvent(e)}`);

/**
 * Append one event. Call it as the last write of the transaction that made the change it records.
 * The ledger lock is held from here until that transaction commits, and every writer waits for it, so
 * the locked part is kept to one statement: it reads the chain head and inserts the next link, hashing
 * in the database (`sha256(prev_hash || "\n" || canonical)`, the canonical JSON built here, the same
 * bytes `chainHash` hashes). It must be a statement after the lock, not the same one: a statement's
 * snapshot is taken before it could wait for the lock, and would miss the previous holder's link.
 */
export async function appendConsentEvent(tx: DbOrTx, input: ConsentEventInput): Promise<{ seq: number; hash: string }> {
  const fields: ChainedFields = {
    subscriberId: input.subscriberId,
    emailHash: input.emailHash,
    kind: input.kind,
    consentTextVersion: input.consentTextVersion ?? null,
    topics: [...(input.topics ?? [])].sort(),
    source: input.source ?? null,
    ipHash: input.ipHash ?? null,
    userAgent: input.userAgent ? input.userAgent.slice(0, 512) : null,
    // Postgres keeps microseconds, JS milliseconds: truncate so what we hash is what we read back.
    occurredAt: new Date(Math.floor(input.occurredAt.getTime())),
  };
  const canonical = canonicalEvent(fields);
  await tx.execute(sql`select pg_advisory_xact_lock(${LEDGER_LOCK})`);
  const [row] = rowsOf<{ seq: number | string; hash: string }>(
    await tx.execute(sql`
      insert into consent_events (subscriber_id, email_hash, kind, consent_text_version, topics, source, ip_hash, user_agent, occurred_at, prev_hash, hash)
      select ${fields.subscriberId}::uuid, ${fields.emailHash}::text, ${fields.kind}::text, ${fields.consentTextVersion}::integer,
             ${JSON.stringify(fields.topics)}::jsonb, ${fields.source}::text, ${fields.ipHash}::text, ${fields.userAgent}::text,
             ${fields.occurredAt.toISOString()}::timestamptz, head.prev,
             encode(sha256(convert_to(head.prev || chr(10) || ${canonical}::text, 'UTF8')), 'hex')
        from (select coalesce((select hash from consent_events order by seq desc limit 1), ${GENESIS_HASH}::text) as prev) head
      returning seq, hash`),
  );
  return { seq: Number(row!.seq), hash: row!.hash };
}

export type ChainVerification =
  | { ok: true; events: number; head: string }
  | { ok: false; events: number; brokenAt: number; reason: 'prev_hash_mismatch' | 'hash_mismatch' };

/** Walk the whole chain in seq order, in pages, recomputing every link. */
export async function verifyConsentChain(db: Db, pageSize = 2000): Promise<ChainVerification> {
  let prev = GENESIS_HASH;
  let after = 0;
  let count = 0;
  for (;;) {
    const page = await db
      .select()
      .from(consentEvents)
      .where(gt(consentEvents.seq, after))
      .orderBy(asc(consentEvents.seq))
      .limit(pageSize);
    for (const row of page) {
      count++;
      if (row.prevHash !== prev) return { ok: false, events: count, brokenAt: row.seq, reason: 'prev_hash_mismatch' };
      if (chainHash(prev, row) !== row.hash) return { ok: false, events: count, brokenAt: row.seq, reason: 'hash_mismatch' };
      prev = row.hash;
      after = row.seq;
    }
    if (page.length < pageSize) return { ok: true, events: count, head: prev };
  }
}

/** The current consent text version, inserting the configured wording as a new version when it changed. */
export async function ensureConsentText(db: Db, text: string): Promise<number> {
  const digest = sha256Hex(text);
  const [existing] = await db.select().from(consentTexts).where(eq(consentTexts.sha256, digest));
  if (existing) return existing.version;
  const [latest] = await db.select().from(consentTexts).orderBy(desc(consentTexts.version)).limit(1);
  const version = (latest?.version ?? 0) + 1;
  await db.insert(consentTexts).values({ version, text, sha256: digest }).onConflictDoNothing();
  return version;
}

export async function consentHistory(db: DbOrTx, subscriberId: string) {
  return db
    .select({
      seq: consentEvents.seq,
      kind: consentEvents.kind,
      consentTextVersion: consentEvents.consentTextVersion,
      topics: consentEvents.topics,
      source: consentEvents.source,
      occurredAt: consentEvents.occurredAt,
      hash: consentEvents.hash,
    })
    .from(consentEvents)
    .where(eq(consentEvents.subscriberId, subscriberId))
    .orderBy(asc(consentEvents.seq));
}
