import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { Db, Tx } from '../db/client.js';
import { confirmTokens, consentTexts, deliveries, subscribers, subscriptions, suppressions, type SubscriberStatus } from '../db/schema.js';
import { appendConsentEvent } from './consent.js';
import { sha256Hex } from './crypto.js';
import type { CoreDeps } from './deps.js';
import { checkEmail } from './email-address.js';
import { emailHashFor } from './identity.js';
import { listSubscribers } from './subscribers.js';
import { CONFIRM_TOKEN_TTL_MS, confirmTokenFor, hashToken } from './tokens.js';
import { listTopics } from './topics.js';

/**
 * The author's list import, and its counterpart, the CSV export.
 *
 * A row that carries consent evidence (when and how the person agreed: `consent_at` + `consent_source`,
 * e.g. a paper form at a launch event) becomes `active` with an `imported` ledger event. A row without
 * evidence is only ever `pending`: it gets a confirmation mail through the same double opt-in as a web
 * signup (token, outbox row and `requested` event in one transaction). An import never brings back
 * someone who left (any suppression, or an unsubscribed/bounced/complained/erased record) and never
 * touches an existing active subscriber.
 */

export interface ImportRow {
  email: string;
  name?: string | null | undefined;
  /** Topic slugs, as an array or `;`-separated (as in the CSV); empty means the default-on topics. */
  topics?: string[] | string | null | undefined;
  /** ISO 8601 time (or date) the person gave consent. */
  consent_at?: string | null | undefined;
  /** How they gave it, e.g. "paper form at launch event". */
  consent_source?: string | null | undefined;
  /** The exact wording they agreed to, when it is one of quire's consent texts. */
  consent_text?: string | null | undefined;
  consent_version?: number | string | null | undefined;
  /** The caller's own row number (the CLI sends the CSV line), echoed in `invalid_rows`. */
  row?: number | undefined;
}

export interface ImportMeta {
  /** The consent text version the site currently shows (Services.consentVersion): used for confirmations. */
  consentVersion: number;
}

export interface InvalidRow {
  row: number;
  field: string;
  message: string;
}

export interface ImportResult {
  imported_active: number;
  imported_pending: number;
  skipped_existing: number;
  skipped_suppressed: number;
  invalid: number;
  invalid_rows: InvalidRow[];
}

interface PreparedRow {
  row: number;
  email: string;
  key: string;
  emailHash: string;
  name: string | null;
  topics: string[];
  evidence: { at: Date; source: string } | null;
  /** Version recorded on the ledger (null when the wording is not one of ours). */
  consentTextVersion: number | null;
  /** sha256 of a consent text that is not one of quire's versions, kept in the ledger's source. */
  unknownTextDigest: string | null;
}

/** Rows per transaction: the ledger's lock is held only while one chunk's events are appended. */
const CHUNK_ROWS = 100;
const LEFT_STATUSES: SubscriberStatus[] = ['unsubscribed', 'bounced', 'complained', 'erased'];
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2}))?$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

const blank = (v: unknown): v is null | undefined | '' => v === null || v === undefined || (typeof v === 'string' && v.trim() === '');

export async function importSubscribers(deps: CoreDeps, rows: ImportRow[], meta: ImportMeta): Promise<ImportResult> {
  const result: ImportResult = { imported_active: 0, imported_pending: 0, skipped_existing: 0, skipped_suppressed: 0, invalid: 0, invalid_rows: [] };
  const topicRows = await listTopics(deps.db);
  const texts = await deps.db.select({ version: consentTexts.version, sha256: consentTexts.sha256 }).from(consentTexts);
  const ctx = {
    secret: deps.secret,
    now: deps.now(),
    known: new Set(topicRows.map((t) => t.slug)),
    defaults: topicRows.filter((t) => t.defaultOn).map((t) => t.slug),
    versions: new Set(texts.map((t) => t.version)),
    versionBySha: new Map(texts.map((t) => [t.sha256, t.version])),
  };

  const prepared: PreparedRow[] = [];
  const firstRowOf = new Map<string, number>();
  rows.forEach((input, index) => {
    const checked = prepareRow(input, index, ctx);
    if ('field' in checked) return void result.invalid_rows.push(checked);
    const first = firstRowOf.get(checked.key);
    if (first !== undefined) {
      return void result.invalid_rows.push({ row: checked.row, field: 'email', message: `duplicate of row ${first}` });
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

interface PrepareContext {
  secret: string;
  now: Date;
  known: Set<string>;
  defaults: string[];
  versions: Set<number>;
  versionBySha: Map<string, number>;
}

/** Everything about one row that needs no database: address, name, topics, consent evidence. */
function prepareRow(input: ImportRow, index: number, ctx: PrepareContext): PreparedRow | InvalidRow {
  const row = input.row ?? index + 1;
  const bad = (field: string, message: string): InvalidRow => ({ row, field, message });

  const checked = checkEmail(input.email);
  if (!checked.ok) return bad('email', blank(input.email) ? 'missing' : 'not a valid email address');

  const name = blank(input.name) ? null : input.name.trim();
  if (name !== null && (name.length > 200 || CONTROL.test(name))) return bad('name', 'at most 200 characters, no control characters');

  const requested = Array.isArray(input.topics) ? input.topics : blank(input.topics) ? [] : input.topics.split(';');
  const slugs = [...new Set(requested.map((t) => t.trim()).filter(Boolean))].sort();
  const unknown = slugs.filter((s) => !ctx.known.has(s));
  if (unknown.length) return bad('topics', `unknown topic: ${unknown.join(', ').slice(0, 200)}`);

  let consentTextVersion: number | null = null;
  let unknownTextDigest: string | null = null;
  if (!blank(input.consent_version)) {
    const v = Number(typeof input.consent_version === 'string' ? input.consent_version.trim() : input.consent_version);
    if (!Number.isInteger(v) || !ctx.versions.has(v)) return bad('consent_version', 'not a known consent text version');
    consentTextVersion = v;
  }
  if (!blank(input.consent_text)) {
    const digest = sha256Hex(input.consent_text.trim());
    const version = ctx.versionBySha.get(digest) ?? ctx.versionBySha.get(sha256Hex(input.consent_text));
    if (consentTextVersion !== null && version !== undefined && version !== consentTextVersion) {
      return bad('consent_text', `is consent text version ${version}, not ${consentTextVersion}`);
    }
    if (version !== undefined) consentTextVersion = version;
    else if (consentTextVersion === null) unknownTextDigest = digest;
  }

  let evidence: PreparedRow['evidence'] = null;
  const hasAt = !blank(input.consent_at);
  const hasSource = !blank(input.consent_source);
  if (hasAt !== hasSource) {
    return bad(hasAt ? 'consent_source' : 'consent_at', 'consent evidence needs both consent_at and consent_source');
  }
  if (hasAt && hasSource) {
    const raw = input.consent_at!.trim();
    const at = ISO_TIME.test(raw) ? new Date(raw) : new Date(NaN);
    if (Number.isNaN(at.getTime())) return bad('consent_at', 'not an ISO 8601 time with a time zone (e.g. 2026-03-14T18:30:00Z) or a date');
    if (at.getTime() > ctx.now.getTime()) return bad('consent_at', 'is in the future');
    const source = input.consent_source!.trim();
    if (source.length > 200 || CONTROL.test(source)) return bad('consent_source', 'at most 200 characters, no control characters');
    evidence = { at, source };
  }

  return {
    row,
    email: checked.email,
    key: checked.key,
    emailHash: emailHashFor(ctx.secret, checked.key),
    name,
    topics: slugs.length ? slugs : ctx.defaults,
    evidence,
    consentTextVersion,
    unknownTextDigest,
  };
}

/** The ledger's source for an imported consent: how and when it was given, all hashed into the chain. */
export function importedConsentSource(r: Pick<PreparedRow, 'evidence' | 'unknownTextDigest'>): string {
  const base = `import:${r.evidence!.source}@${r.evidence!.at.toISOString()}`;
  return r.unknownTextDigest ? `${base}#text-sha256=${r.unknownTextDigest}` : base;
}

/** One transaction: classify the chunk with two set-based reads, write set-based, then append the ledger. */
async function importChunk(tx: Tx, chunk: PreparedRow[], now: Date, secret: string, meta: ImportMeta) {
  const counts = { active: 0, pending: 0, existing: 0, suppressed: 0 };
  const keys = chunk.map((r) => r.key);
  const suppressed = new Set(
    (await tx.selectDistinct({ h: suppressions.emailHash }).from(suppressions).where(inArray(suppressions.emailHash, chunk.map((r) => r.emailHash)))).map((r) => r.h),
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

  const activated = [...upgrades, ...toInsert.filter((r) => r.evidence && idByKey.has(r.key)).map((r) => ({ row: r, id: idByKey.get(r.key)! }))];
  const pending = toInsert.filter((r) => !r.evidence && idByKey.has(r.key)).map((r) => ({ row: r, id: idByKey.get(r.key)!, tokenId: crypto.randomUUID() }));

  if (upgrades.length) {
    await tx
      .update(subscribers)
      .set({ status: 'active', confirmedAt: now, statusChangedAt: now })
      .where(inArray(subscribers.id, upgrades.map((u) => u.id)));
  }
  const subscriptionRows = activated.flatMap((a) => a.row.topics.map((topic) => ({ subscriberId: a.id, topic, subscribed: true, changedAt: now })));
  if (subscriptionRows.length) {
    await tx
      .insert(subscriptions)
      .values(subscriptionRows)
      .onConflictDoUpdate({ target: [subscriptions.subscriberId, subscriptions.topic], set: { subscribed: true, changedAt: sql`excluded.changed_at` } });
  }
  if (pending.length) {
    // The same double opt-in as a web signup: a token (only its hash stored) and an outbox row.
    await tx.insert(confirmTokens).values(
      pending.map((p) => ({
        id: p.tokenId,
        tokenHash: hashToken(confirmTokenFor(secret, p.tokenId)),
        subscriberId: p.id,
        topics: p.row.topics,
        consentTextVersion: p.row.consentTextVersion ?? meta.consentVersion,
        source: 'import',
        createdAt: now,
        expiresAt: new Date(now.getTime() + CONFIRM_TOKEN_TTL_MS),
      })),
    );
    await tx.insert(deliveries).values(
      pending.map((p) => ({ kind: 'confirmation' as const, subscriberId: p.id, confirmTokenId: p.tokenId, status: 'queued' as const, nextAttemptAt: now, createdAt: now })),
    );
  }

  // The ledger last: its advisory lock is held from the first append to the commit.
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

// ---------------------------------------------------------------------------------------------------
// Export

export const EXPORT_COLUMNS = ['email', 'name', 'status', 'topics', 'created_at', 'confirmed_at'] as const;

/**
 * One RFC 4180 field. Values a spreadsheet would run as a formula (starting with = + - @, tab or CR)
 * get a leading `'` (OWASP "CSV injection"); the CLI's import strips it again.
 */
export function csvField(value: string | null | undefined): string {
  if (value === null || value === undefined) return '';
  const v = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}

export const csvLine = (fields: readonly (string | null | undefined)[]): string => `${fields.map(csvField).join(',')}\r\n`;

export interface ExportFilter {
  status?: SubscriberStatus | undefined;
  topic?: string | undefined;
}

/**
 * The subscriber list as CSV, one page (keyset-paginated, newest first) per chunk, so a big list never
 * sits in memory. The first chunk is the header with the first page, so a database error surfaces
 * before anything is sent. Erased subscribers have no address left and are not listed.
 */
export async function* subscribersCsv(db: Db, filter: ExportFilter, pageSize = 500): AsyncGenerator<string> {
  let out = csvLine(EXPORT_COLUMNS);
  let cursor: string | undefined;
  do {
    const page = await listSubscribers(db, { status: filter.status, topic: filter.topic, cursor, limit: pageSize });
    const ids = page.data.map((s) => s.id);
    const topicsOf = new Map<string, string[]>();
    if (ids.length) {
      const subs = await db
        .select({ id: subscriptions.subscriberId, topic: subscriptions.topic })
        .from(subscriptions)
        .where(and(inArray(subscriptions.subscriberId, ids), eq(subscriptions.subscribed, true)))
        .orderBy(asc(subscriptions.topic));
      for (const s of subs) topicsOf.set(s.id, [...(topicsOf.get(s.id) ?? []), s.topic]);
    }
    for (const s of page.data) {
      if (s.email === null) continue;
      out += csvLine([s.email, s.name, s.status, (topicsOf.get(s.id) ?? []).join(';'), s.createdAt.toISOString(), s.confirmedAt?.toISOString() ?? '']);
    }
    if (out) yield out;
    out = '';
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
}
