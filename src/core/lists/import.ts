import { asc, inArray, sql } from 'drizzle-orm';
import type { Tx } from '../../db/client.js';
import { consentTexts, type SubscriberStatus, subscribers, subscriptions, suppressions } from '../../db/schema.js';
import { issueConfirmations } from '../confirmations.js';
import { appendConsentEvent } from '../consent.js';
import type { CoreDeps } from '../deps.js';
import { listTopics } from '../topics.js';
import {
  type ImportRow,
  type InvalidRow,
  importedConsentSource,
  importRowSchema,
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
const LEFT_STATUSES: SubscriberStatus[] = ['unsubscribed', 'bounced', 'complained', 'erased'];
export async function importSubscribers(deps: CoreDeps, rows: ImportRow[], meta: ImportMeta): Promise<ImportResult> {
  const result: ImportResult = {
    imported_active: 0,
    imported_pending: 0,
    skipped_existing: 0,
    skipped_suppressed: 0,
    invalid: 0,
    invalid_rows: [],
  };
  const topicRows = await listTopics(deps.db);
  const texts = await deps.db.select({ version: consentTexts.version, sha256: consentTexts.sha256 }).from(consentTexts);
  const ctx: RowContext = {
    secret: deps.secret,
    now: deps.now(),
    known: new Set(topicRows.map((t) => t.slug)),
    defaults: topicRows.filter((t) => t.defaultOn).map((t) => t.slug),
    versions: new Set(texts.map((t) => t.version)),
    versionBySha: new Map(texts.map((t) => [t.sha256, t.version])),
  };

  const prepared: PreparedRow[] = [];
  const firstRowOf = new Map<string, number>();
  const schema = importRowSchema(ctx);
  rows.forEach((input, index) => {
    const checked = prepareRow(schema, input, index);
    if ('field' in checked) {
      result.invalid_rows.push(checked);
      return;
    }
    const first = firstRowOf.get(checked.key);
    if (first !== undefined) {
      result.invalid_rows.push({ row: checked.row, field: 'email', message: `duplicate of row ${first}` });
      return;
    }
    firstRowOf.set(checked.key, checked.row);
    prepared.push(checked);
  });
  result.invalid = result.invalid_rows.length;

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

/** One transaction: classify the chunk with two set-based reads, write set-based, then append the ledger. */
async function importChunk(tx: Tx, chunk: PreparedRow[], now: Date, secret: string, meta: ImportMeta) {
  const counts = { active: 0, pending: 0, existing: 0, suppressed: 0 };
  const keys = chunk.map((r) => r.key);
  const suppressed = new Set(
    (
      await tx
        .selectDistinct({ h: suppressions.emailHash })
        .from(suppressions)
        .where(
          inArray(
            suppressions.emailHash,
            chunk.map((r) => r.emailHash),
          ),
        )
    ).map((r) => r.h),
  );
  const lower = sql<string>`lower(${subscribers.email})`;
  const existing = new Map(
    (
      await tx
        .select({ id: subscribers.id, key: lower, status: subscribers.status })
        .from(subscribers)
        .where(inArray(lower, keys))
        .orderBy(asc(lower))
        .for('update')
    ).map((s) => [s.key, s]),
  );

  const toInsert: PreparedRow[] = [];
  const upgrades: { row: PreparedRow; id: string }[] = [];
  for (const r of chunk) {
    const sub = existing.get(r.key);
    if (suppressed.has(r.emailHash) || (sub && LEFT_STATUSES.includes(sub.status))) counts.suppressed++;
    else if (!sub) toInsert.push(r);
    // A pending address with consent evidence is as good as a new one; without, it already has its mail.
    else if (sub.status === 'pending' && r.evidence) upgrades.push({ row: r, id: sub.id });
    else counts.existing++;
  }

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
