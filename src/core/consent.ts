import { asc, desc, eq, gt, sql, type SQL } from 'drizzle-orm';
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
 * The ledger lock is held from the statement that takes it until the transaction commits, and every
 * writer of the ledger waits for it: the less happens under it, the more consent events per second.
 * Under it, one statement reads the chain head and inserts the next link, hashing in the database:
 * `sha256(prev_hash || "\n" || canonical)` over the canonical JSON built here — the bytes `chainHash`
 * hashes. The lock must be taken by an earlier statement than that one: a statement's snapshot is
 * taken before it could wait for the lock, and would miss the link its previous holder committed.
 */
const lockStatement = () => sql`select pg_advisory_xact_lock(${LEDGER_LOCK})`;

function chainedFields(input: ConsentEventInput): ChainedFields {
  return {
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
}

function appendStatement(fields: ChainedFields): SQL {
  return sql`
    insert into consent_events (subscriber_id, email_hash, kind, consent_text_version, topics, source, ip_hash, user_agent, occurred_at, prev_hash, hash)
    select ${fields.subscriberId}::uuid, ${fields.emailHash}::text, ${fields.kind}::text, ${fields.consentTextVersion}::integer,
           ${JSON.stringify(fields.topics)}::jsonb, ${fields.source}::text, ${fields.ipHash}::text, ${fields.userAgent}::text,
           ${fields.occurredAt.toISOString()}::timestamptz, head.prev,
           encode(sha256(convert_to(head.prev || chr(10) || ${canonicalEvent(fields)}::text, 'UTF8')), 'hex')
      from (select coalesce((select hash from consent_events order by seq desc limit 1), ${GENESIS_HASH}::text) as prev) head
    returning seq, hash`;
}

const appended = (result: unknown) => {
  const [row] = rowsOf<{ seq: number | string; hash: string }>(result);
  return { seq: Number(row!.seq), hash: row!.hash };
};

/** Append one event. Call it as the last write of the transaction that made the change it records. */
export async function appendConsentEvent(tx: DbOrTx, input: ConsentEventInput): Promise<{ seq: number; hash: string }> {
  const append = appendStatement(chainedFields(input));
  await tx.execute(lockStatement());
  return appended(await tx.execute(append));
}

/**
 * The hot path's variant (signup): the caller's last writes (`before`), the lock and the append are
 * handed to the connection together, and the transaction's callback returns WITHOUT waiting for their
 * replies, so the driver's COMMIT follows them down the same connection. The database then runs lock,
 * append and COMMIT back to back: no reply has to reach this process and no new statement come back
 * while the lock is held (on a busy 2-core machine that wait was most of the time every other signup
 * spent queued behind the lock — see docs/benchmarks.md).
 *
 * Order: statements handed to one connection run in the order handed. These go through one code path
 * (`tx.execute`) in array order, and one macrotask passes before this returns, so every one of them has
 * reached the connection before the callback returns and the driver issues COMMIT.
 *
 * The caller must await `done` after the transaction has resolved: a failed statement aborts the
 * transaction (its COMMIT then rolls back, which postgres.js does not report as an error), and `done`
 * rejects with that statement's error.
 */
export async function appendConsentEventAtCommit(tx: DbOrTx, input: ConsentEventInput, before: SQL[] = []): Promise<{ done: Promise<{ seq: number; hash: string }> }> {
  const statements = [...before, lockStatement(), appendStatement(chainedFields(input))].map((q) => tx.execute(q));
  const done = Promise.all(statements).then((results) => appended(results[results.length - 1]));
  done.catch(() => {}); // observed by the caller once the transaction is over
  await new Promise<void>((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));
  return { done };
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

/**
 * Consent text versions are never changed or removed (the ledger refers to them), so a version once
 * seen to exist is remembered per database; the newest version is remembered for a few seconds (a new
 * text arrives with a deploy, which takes longer than that to reach every instance anyway).
 */
const LATEST_TTL_MS = 10_000;
const versionCache = new WeakMap<object, { known: Set<number>; latest?: { version: number; at: number } }>();
const versionsOf = (db: DbOrTx) => {
  let entry = versionCache.get(db);
  if (!entry) versionCache.set(db, (entry = { known: new Set() }));
  return entry;
};

/** Whether `version` is a recorded consent text. */
export async function consentVersionExists(db: DbOrTx, version: number): Promise<boolean> {
  const cache = versionsOf(db);
  if (cache.known.has(version)) return true;
  const [row] = await db.select({ version: consentTexts.version }).from(consentTexts).where(eq(consentTexts.version, version));
  if (row) cache.known.add(version);
  return row !== undefined;
}

/** The newest consent text version, or undefined when there is none. */
export async function latestConsentVersion(db: DbOrTx): Promise<number | undefined> {
  const cache = versionsOf(db);
  if (cache.latest && Date.now() - cache.latest.at < LATEST_TTL_MS) return cache.latest.version;
  const [latest] = await db.select({ version: consentTexts.version }).from(consentTexts).orderBy(desc(consentTexts.version)).limit(1);
  if (latest) cache.latest = { version: latest.version, at: Date.now() };
  return latest?.version;
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
