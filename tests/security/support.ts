import { createHmac } from 'node:crypto';
import { expect } from 'vitest';
import { checkEmail } from '../../src/core/email-address.js';
import { emailHashFor } from '../../src/core/identity.js';
import { signLinkToken } from '../../src/core/tokens.js';
import { type Harness, TEST_SECRET } from '../support/harness.js';

/** Anything that would betray internals in a response: stack frames, file paths, SQL, driver names. */
export const INTERNALS = [
  /\n\s*at\s/,
  /\bat\s+\S+\s+\(/,
  /\bat \//,
  /\.(ts|tsx|js|mjs):\d+/,
  /node_modules/,
  /\bstack\b/i,
  /\bselect\s+[\w"*.,\s()]+?\s+from\s/i,
  /\b(insert into|delete from)\s/i,
  /\bupdate\s+"?\w+"?\s+set\s/i,
  /\b(postgres|pglite|drizzle)\b/i,
  /relation "|syntax error at|violates .* constraint|duplicate key value|invalid byte sequence/i,
  /Failed query/i,
  /\b(TypeError|RangeError|SyntaxError|ReferenceError)\b/,
];

export const ERROR_CODES = new Set([
  'invalid_email',
  'consent_required',
  'validation_failed',
  'unknown_topic',
  'unknown_consent_version',
  'confirmation_required',
  'captcha_failed',
  'invalid_json',
  'invalid_body',
  'unsupported_media_type',
  'payload_too_large',
  'unauthorized',
  'forbidden',
  'not_found',
  'invalid_state',
  'invalid_token',
  'token_expired',
  'rate_limited',
  'service_unavailable',
  'internal_error',
]);

export interface Checked {
  status: number;
  text: string;
  json?: { error?: { code: string; message: string; requestId: string; fields?: unknown[] } } & Record<string, unknown>;
}

/**
 * The invariants every answer to hostile input must keep: no 5xx, nothing internal in the body, and a
 * 4xx in JSON is exactly the one envelope (code from the closed list, message, the request id of the
 * X-Request-Id header, optional field errors).
 */
export async function checkAnswer(res: Response, label = ''): Promise<Checked> {
  const text = await res.text();
  const where = `${label} → ${res.status} ${text.slice(0, 300)}`;
  expect(res.status, where).toBeLessThan(500);
  for (const pattern of INTERNALS) expect(text, where).not.toMatch(pattern);
  const type = res.headers.get('content-type') ?? '';
  let json: Checked['json'];
  if (/^application\/json/.test(type)) json = JSON.parse(text);
  if (res.status >= 400) {
    if (/^text\/html/.test(type)) return { status: res.status, text };
    expect(type, where).toMatch(/^application\/json/);
    expect(Object.keys(json!), where).toEqual(['error']);
    const e = json!.error!;
    expect(Object.keys(e).sort(), where).toEqual(
      e.fields ? ['code', 'fields', 'message', 'requestId'] : ['code', 'message', 'requestId'],
    );
    expect(ERROR_CODES.has(e.code), where).toBe(true);
    expect(typeof e.message === 'string' && e.message.length > 0, where).toBe(true);
    expect(e.requestId, where).toBe(res.headers.get('x-request-id'));
    if (e.fields) {
      expect(Array.isArray(e.fields), where).toBe(true);
      for (const f of e.fields as { path: unknown; message: unknown }[]) {
        expect(typeof f.path, where).toBe('string');
        expect(typeof f.message, where).toBe('string');
      }
    }
  }
  return { status: res.status, text, ...(json ? { json } : {}) };
}

let tableList: string[] | undefined;

/** Row counts of every table in the public schema, in one query. */
export async function tableCounts(h: Harness): Promise<Record<string, number>> {
  tableList ??= (
    await h.query<{ name: string }>(
      "select table_name as name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by 1",
    )
  ).map((t) => t.name);
  expect(tableList.length).toBeGreaterThanOrEqual(10);
  const [row] = await h.query<Record<string, number>>(
    `select ${tableList.map((t) => `(select count(*)::int from "${t}") as "${t}"`).join(', ')}`,
  );
  return row!;
}

/** Counts without the given tables (e.g. rate_limits, which counts attempts by design). */
export const without = (counts: Record<string, number>, ...tables: string[]) =>
  Object.fromEntries(Object.entries(counts).filter(([t]) => !tables.includes(t)));

/** An active subscriber straight in the database, with a link token signed as a mail would carry it. */
export async function insertActiveSubscriber(h: Harness, email: string, name: string | null = null) {
  const checked = checkEmail(email);
  if (!checked.ok) throw new Error(`not an address: ${email}`);
  const [row] = await h.query<{ id: string }>(
    `insert into subscribers (email, email_hash, name, status, confirmed_at) values ($1, $2, $3, 'active', now()) returning id`,
    [checked.email, emailHashFor(TEST_SECRET, checked.key), name],
  );
  await h.query(
    `insert into subscriptions (subscriber_id, topic, subscribed) select $1, slug, true from topics where slug in ('release', 'updates')`,
    [row!.id],
  );
  const now = h.clock.now();
  return {
    id: row!.id,
    email: checked.email,
    emailHash: emailHashFor(TEST_SECRET, checked.key),
    preferencesToken: signLinkToken(TEST_SECRET, 'preferences', row!.id, now),
    unsubscribeToken: signLinkToken(TEST_SECRET, 'unsubscribe', row!.id, now),
  };
}

export const WEBHOOK_SECRET = 'security-webhook-secret-0123456789';

/** `X-Quire-Signature` for a raw body at the harness clock's time. */
export function webhookSignature(h: Harness, body: Uint8Array | string, secret = WEBHOOK_SECRET): string {
  const t = Math.floor(h.clock.now().getTime() / 1000);
  const raw = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body);
  const v1 = createHmac('sha256', secret)
    .update(Buffer.concat([Buffer.from(`${t}.`), raw]))
    .digest('hex');
  return `t=${t},v1=${v1}`;
}

export { dumpDatabase } from '../support/dump.js';

/**
 * Every way an address could sit in a dump: as typed, lower- and upper-case, URL- and form-encoded,
 * JSON-escaped, hex, and base64 / base64url at each of the three alignments it can take inside a longer
 * encoded string (only the characters that depend on the value alone, so a match does not depend on
 * its neighbours). base64 is compared case-sensitively, everything else case-insensitively.
 */
export function spellingsOf(value: string): { text: string; caseSensitive: boolean }[] {
  const out = new Map<string, boolean>();
  for (const v of [value, value.toLowerCase(), value.toUpperCase()]) {
    out.set(v.toLowerCase(), false);
    out.set(encodeURIComponent(v).toLowerCase(), false);
    out.set(new URLSearchParams({ x: v }).toString().slice(2).toLowerCase(), false);
    out.set(JSON.stringify(v).slice(1, -1).toLowerCase(), false);
    out.set(Buffer.from(v, 'utf8').toString('hex'), false);
    for (let pad = 0; pad < 3; pad++) {
      const bytes = Buffer.concat([Buffer.alloc(pad, 0x20), Buffer.from(v, 'utf8')]);
      const start = Math.ceil((pad * 4) / 3);
      const end = Math.floor((bytes.length * 4) / 3);
      for (const enc of ['base64', 'base64url'] as const) out.set(bytes.toString(enc).slice(start, end), true);
    }
  }
  return [...out].map(([text, caseSensitive]) => ({ text, caseSensitive }));
}

/** The spellings of `value` found in `dump`, each with the line it is on: empty is what erasure promises. */
export function traces(dump: string, value: string): string[] {
  const lines = dump.split('\n');
  const hits: string[] = [];
  for (const { text, caseSensitive } of spellingsOf(value)) {
    const line = lines.find((l) => (caseSensitive ? l : l.toLowerCase()).includes(text));
    if (line !== undefined) hits.push(`${text} in: ${line.slice(0, 240)}`);
  }
  return hits;
}
