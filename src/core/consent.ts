import { asc, count, desc, eq, gt, isNull, type SQL, sql } from 'drizzle-orm';
import type { Db, DbOrTx } from '../db/client.js';
import { type ConsentEventKind, consentEvents, consentTexts } from '../db/schema.js';
import { chainHash, detailsMatch, GENESIS_HASH } from './consent-canonical.js';
import { sha256Hex } from './crypto.js';

/**
 * The consent ledger: an append-only, hash-chained record of every consent decision.
 *
 * Each event is written in the transaction of the change it records, unsealed. A sealer (one at a time,
 * under an advisory lock; consent-sealer.ts) then gives pending events, in the order they committed, their
 * place in the chain (`chain_seq`) and their link: hash = sha256(prev_hash + "\n" + the event's canonical
 * form, consent-canonical.ts), so editing, removing or reordering any sealed row breaks every later link.
 * Sealing is one of the two UPDATEs the table's trigger allows, once per row and changing nothing else
 * (drizzle/0003, 0008); the other erases an event's details, which the chain covers only by digest.
 *
 * Why not chain inside the writing transaction: the chain is global, so every writer would queue for
 * the head, and each commit (and its WAL flush) would wait for the one before it, a fraction of the
 * unchained signup rate (docs/benchmarks.md). Sealing in batches
 * takes one lock and one flush per batch instead. What it costs: an event is outside the chain for the
 * moment until the next seal (a fraction of a second on Node; the rest of the request on Workers); the
 * trigger still forbids editing or deleting it meanwhile.
 *
 * A chain that verifies proves no edit by anyone who could not rewrite every later link too. Who can is
 * the table's owner (or anyone who can disable the trigger): checkpoints signed outside the database
 * (consent-checkpoints.ts) are what hold against them.
 */

export { GENESIS_HASH };

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

function eventFields(input: ConsentEventInput) {
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

/**
 * The INSERT of one unsealed event, for a caller that writes it as part of a larger statement. With
 * `from`, the event is written once per row of that relation (a CTE of the same statement), and only then.
 */
export function consentEventInsert(input: ConsentEventInput, from?: SQL): SQL {
  const e = eventFields(input);
  return sql`
    insert into ${consentEvents} (subscriber_id, email_hash, kind, consent_text_version, topics, source, ip_hash, user_agent, occurred_at)
    select ${e.subscriberId}::uuid, ${e.emailHash}::text, ${e.kind}::text, ${e.consentTextVersion}::integer, ${JSON.stringify(e.topics)}::jsonb,
           ${e.source}::text, ${e.ipHash}::text, ${e.userAgent}::text, ${e.occurredAt.toISOString()}::timestamptz${from ? sql` from ${from}` : sql``}`;
}

/** Record one event. Call it inside the transaction that made the change it records. */
export async function appendConsentEvent(tx: DbOrTx, input: ConsentEventInput): Promise<void> {
  await tx.execute(consentEventInsert(input));
}

export type LinkProblem = 'prev_hash_mismatch' | 'details_mismatch' | 'hash_mismatch';

export type ChainVerification =
  | { ok: true; events: number; head: string; pending: number }
  | { ok: false; events: number; brokenAt: number; reason: LinkProblem };

export type ChainRow = typeof consentEvents.$inferSelect;

/** The sealed chain after position `after`, in chain order, read in pages. */
export async function* chainRows(db: Db, after = 0, pageSize = 2000): AsyncGenerator<ChainRow> {
  for (;;) {
    const page = await db
      .select()
      .from(consentEvents)
      .where(gt(consentEvents.chainSeq, after))
      .orderBy(asc(consentEvents.chainSeq))
      .limit(pageSize);
    for (const row of page) {
      yield row;
      after = row.chainSeq!;
    }
    if (page.length < pageSize) return;
  }
}

/** What is wrong with `row`'s link to the hash before it, if anything. */
export function linkProblem(prev: string, row: ChainRow): LinkProblem | undefined {
  if (row.prevHash !== prev) return 'prev_hash_mismatch';
  if (!detailsMatch(row)) return 'details_mismatch';
  if (chainHash(prev, row) !== row.hash) return 'hash_mismatch';
  return undefined;
}

/**
 * Walk the whole chain in chain order, in pages, recomputing every link. `pending` counts the events not
 * sealed yet (written since the last seal); they are not part of the chain until they are.
 */
export async function verifyConsentChain(db: Db, pageSize = 2000): Promise<ChainVerification> {
  let prev = GENESIS_HASH;
  let count = 0;
  for await (const row of chainRows(db, 0, pageSize)) {
    count++;
    const reason = linkProblem(prev, row);
    if (reason) return { ok: false, events: count, brokenAt: row.seq, reason };
    prev = row.hash!;
  }
  return { ok: true, events: count, head: prev, pending: await unsealedCount(db) };
}

export async function unsealedCount(db: Db): Promise<number> {
  const [row] = await db.select({ n: count() }).from(consentEvents).where(isNull(consentEvents.chainSeq));
  return row?.n ?? 0;
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
  if (!entry) {
    entry = { known: new Set() };
    versionCache.set(db, entry);
  }
  return entry;
};

/** Whether `version` is a recorded consent text. */
export async function consentVersionExists(db: DbOrTx, version: number): Promise<boolean> {
  const cache = versionsOf(db);
  if (cache.known.has(version)) return true;
  const [row] = await db
    .select({ version: consentTexts.version })
    .from(consentTexts)
    .where(eq(consentTexts.version, version));
  if (row) cache.known.add(version);
  return row !== undefined;
}

/** The newest consent text version, or undefined when there is none. */
export async function latestConsentVersion(db: DbOrTx): Promise<number | undefined> {
  const cache = versionsOf(db);
  if (cache.latest && Date.now() - cache.latest.at < LATEST_TTL_MS) return cache.latest.version;
  const [latest] = await db
    .select({ version: consentTexts.version })
    .from(consentTexts)
    .orderBy(desc(consentTexts.version))
    .limit(1);
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
