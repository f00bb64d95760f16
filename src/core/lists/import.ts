import { asc, inArray, sql } from 'drizzle-orm';
import type { DbOrTx, Tx } from '../../db/client.js';
import {
  consentTexts,
  type SubscriberStatus,
  type SuppressionReason,
  subscribers,
  subscriptions,
  suppressions,
} from '../../db/schema.js';
import { issueConfirmations } from '../confirmations.js';
import { appendConsentEvent } from '../consent.js';
import type { CoreDeps } from '../deps.js';
import { listTopics } from '../topics.js';
import {
  type ImportRow,
  type InvalidRow,
  importedConsentSource,
  importRowSchema,
  LEFT_STATUSES,
  type PreparedRow,
  prepareRow,
  type RowContext,
} from './import-row.js';

/**
 * The author's list import.
 *
 * A row that carries consent evidence (when and how the person agreed: `consent_at` + `consent_source`,
 * e.g. a paper form at a launch event) becomes `active` with an `imported` ledger event. A row without
 * evidence is only ever `pending`: it gets a confirmation mail through the same double opt-in as a web
 * signup (token, outbox row and `requested` event in one transaction). An import never brings back
 * someone who left (any suppression, or an unsubscribed/bounced/complained/erased record) and never
 * touches an existing active subscriber.
 */

export interface ImportMeta {
  /** The consent text version the site currently shows (Services.consentVersion): used for confirmations. */
  consentVersion: number;
}

export interface ImportResult {
  imported_active: number;
  imported_pending: number;
  skipped_existing: number;
  skipped_suppressed: number;
  invalid: number;
  invalid_rows: InvalidRow[];
}

/** Rows per transaction: a chunk's rows stay locked until it commits. */
const CHUNK_ROWS = 100;

/** The list's topics and consent texts, read once per import. */
export async function rowContext(deps: CoreDeps): Promise<RowContext> {
  const topicRows = await listTopics(deps.db);
  const texts = await deps.db.select({ version: consentTexts.version, sha256: consentTexts.sha256 }).from(consentTexts);
  return {
    secret: deps.secret,
    now: deps.now(),
    known: new Set(topicRows.map((t) => t.slug)),
    defaults: topicRows.filter((t) => t.defaultOn).map((t) => t.slug),
    versions: new Set(texts.map((t) => t.version)),
    versionBySha: new Map(texts.map((t) => [t.sha256, t.version])),
  };
}

/** Every check that needs no database, and a second row for one address reported against the first. */
export function prepareAll(rows: ImportRow[], ctx: RowContext) {
  const prepared: PreparedRow[] = [];
  const invalid: InvalidRow[] = [];
  const firstRowOf = new Map<string, number>();
  const schema = importRowSchema(ctx);
  rows.forEach((input, index) => {
    const checked = prepareRow(schema, input, index);
    if ('field' in checked) {
      invalid.push(checked);
      return;
    }
    const first = firstRowOf.get(checked.key);
    if (first !== undefined) {
      invalid.push({ row: checked.row, field: 'email', message: `duplicate of row ${first}` });
      return;
    }
    firstRowOf.set(checked.key, checked.row);
    prepared.push(checked);
  });
  return { prepared, invalid };
}

export async function importSubscribers(deps: CoreDeps, rows: ImportRow[], meta: ImportMeta): Promise<ImportResult> {
  const ctx = await rowContext(deps);
  const { prepared, invalid } = prepareAll(rows, ctx);
  const result: ImportResult = {
    imported_active: 0,
    imported_pending: 0,
    skipped_existing: 0,
    skipped_suppressed: 0,
    invalid: invalid.length,
    invalid_rows: invalid,
  };

  let queuedMail = false;
  for (let i = 0; i < prepared.length; i += CHUNK_ROWS) {
    const chunk = prepared.slice(i, i + CHUNK_ROWS);
    const counts = await deps.db.transaction((tx) => importChunk(tx, chunk, ctx.now, deps.secret, meta));
    result.imported_active += counts.active;
    result.imported_pending += counts.pending;
    result.skipped_existing += counts.existing;
    result.skipped_suppressed += counts.suppressed;
    if (counts.pending > 0) queuedMail = true;
  }
  if (queuedMail) deps.outboxChanged?.();
  return result;
}

/** What the import would do with one row: the same decision the import itself takes. */
export type RowDecision =
  | { kind: 'insert' }
  | { kind: 'upgrade'; id: string }
  | { kind: 'existing'; status: SubscriberStatus }
  | { kind: 'suppressed'; why: string };

/**
 * Classify a chunk with two set-based reads: who is suppressed, who is already on the list. Locked
 * (FOR UPDATE) when the import writes next; a dry run only reads.
 */
export async function classify(db: DbOrTx, chunk: PreparedRow[], lock: boolean): Promise<RowDecision[]> {
  const reasons = new Map<string, string>();
  const rows = await db
    .select({ h: suppressions.emailHash, reason: suppressions.reason })
    .from(suppressions)
    .where(
      inArray(
        suppressions.emailHash,
        chunk.map((r) => r.emailHash),
      ),
    )
    .orderBy(asc(suppressions.reason));
  for (const r of rows) if (!reasons.has(r.h)) reasons.set(r.h, SUPPRESSION_WORDS[r.reason]);
  const lower = sql<string>`lower(${subscribers.email})`;
  const query = db
    .select({ id: subscribers.id, key: lower, status: subscribers.status })
    .from(subscribers)
    .where(
      inArray(
        lower,
        chunk.map((r) => r.key),
      ),
    )
    .orderBy(asc(lower));
  const existing = new Map((lock ? await query.for('update') : await query).map((s) => [s.key, s]));

  return chunk.map((r): RowDecision => {
    const sub = existing.get(r.key);
    if (r.leftInFile) return { kind: 'suppressed', why: `${r.leftInFile} in the file` };
    const suppressed = reasons.get(r.emailHash);
    if (suppressed) return { kind: 'suppressed', why: suppressed };
    if (sub && LEFT_STATUSES.includes(sub.status)) return { kind: 'suppressed', why: `${sub.status} earlier` };
    if (!sub) return { kind: 'insert' };
    // A pending address with consent evidence is as good as a new one; without, it already has its mail.
    if (sub.status === 'pending' && r.evidence) return { kind: 'upgrade', id: sub.id };
    return { kind: 'existing', status: sub.status };
  });
}

const SUPPRESSION_WORDS: Record<SuppressionReason, string> = {
  complaint: 'complained earlier',
  erased: 'erased at their request',
  hard_bounce: 'bounced earlier',
  manual: 'suppressed by hand',
  unsubscribed: 'unsubscribed earlier',
};

/** One transaction: classify the chunk with two set-based reads, write set-based, then append the ledger. */
async function importChunk(tx: Tx, chunk: PreparedRow[], now: Date, secret: string, meta: ImportMeta) {
  const counts = { active: 0, pending: 0, existing: 0, suppressed: 0 };
  const decisions = await classify(tx, chunk, true);
  const toInsert: PreparedRow[] = [];
  const upgrades: { row: PreparedRow; id: string }[] = [];
  chunk.forEach((r, i) => {
    const d = decisions[i]!;
    if (d.kind === 'suppressed') counts.suppressed++;
    else if (d.kind === 'insert') toInsert.push(r);
    else if (d.kind === 'upgrade') upgrades.push({ row: r, id: d.id });
    else counts.existing++;
  });

  const inserted = toInsert.length
    ? await tx
        .insert(subscribers)
        .values(
          toInsert.map((r) => ({
            email: r.email,
            emailHash: r.emailHash,
            name: r.name,
            status: r.evidence ? ('active' as const) : ('pending' as const),
            source: r.evidence ? `import:${r.evidence.source}`.slice(0, 200) : 'import',
            createdAt: now,
            confirmedAt: r.evidence ? now : null,
            statusChangedAt: now,
          })),
        )
        // Someone signed up in the meantime: their own signup stands.
        .onConflictDoNothing()
        .returning({ id: subscribers.id, email: subscribers.email })
    : [];
  const idByKey = new Map(inserted.map((s) => [s.email!.toLowerCase(), s.id]));
  counts.existing += toInsert.length - inserted.length;

  const activated = [
    ...upgrades,
    ...toInsert.filter((r) => r.evidence && idByKey.has(r.key)).map((r) => ({ row: r, id: idByKey.get(r.key)! })),
  ];
  const pending = toInsert
    .filter((r) => !r.evidence && idByKey.has(r.key))
    .map((r) => ({ row: r, id: idByKey.get(r.key)! }));

  if (upgrades.length) {
    await tx
      .update(subscribers)
      .set({ status: 'active', confirmedAt: now, statusChangedAt: now })
      .where(
        inArray(
          subscribers.id,
          upgrades.map((u) => u.id),
        ),
      );
  }
  const subscriptionRows = activated.flatMap((a) =>
    a.row.topics.map((topic) => ({ subscriberId: a.id, topic, subscribed: true, changedAt: now })),
  );
  if (subscriptionRows.length) {
    await tx
      .insert(subscriptions)
      .values(subscriptionRows)
      .onConflictDoUpdate({
        target: [subscriptions.subscriberId, subscriptions.topic],
        set: { subscribed: true, changedAt: sql`excluded.changed_at` },
      });
  }
  // The same double opt-in as a web signup.
  await issueConfirmations(
    tx,
    secret,
    pending.map((p) => ({
      subscriberId: p.id,
      topics: p.row.topics,
      consentTextVersion: p.row.consentTextVersion ?? meta.consentVersion,
      source: 'import',
    })),
    now,
  );

  for (const a of activated) {
    await appendConsentEvent(tx, {
      subscriberId: a.id,
      emailHash: a.row.emailHash,
      kind: 'imported',
      consentTextVersion: a.row.consentTextVersion,
      topics: a.row.topics,
      source: importedConsentSource(a.row),
      occurredAt: now,
    });
  }
  for (const p of pending) {
    await appendConsentEvent(tx, {
      subscriberId: p.id,
      emailHash: p.row.emailHash,
      kind: 'requested',
      consentTextVersion: p.row.consentTextVersion ?? meta.consentVersion,
      topics: p.row.topics,
      source: 'import',
      occurredAt: now,
    });
  }
  counts.active = activated.length;
  counts.pending = pending.length;
  return counts;
}
