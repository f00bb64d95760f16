import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailHashFor } from '../../src/core/identity.js';
import { csvField } from '../../src/core/lists/export.js';
import type { ImportResult } from '../../src/core/lists/import.js';
import { admin } from '../support/broadcasts.js';
import { activeSubscriber, linkIn, pathOf, pendingSubscriber, uniqueEmail } from '../support/factories.js';
import { createHarness, databaseKinds, type Harness, TEST_SECRET } from '../support/harness.js';

const EVIDENCE = { consent_at: '2026-03-14T18:30:00Z', consent_source: 'paper form at launch event' };
const LEDGER_SOURCE = 'import:paper form at launch event@2026-03-14T18:30:00.000Z';

async function importRows(h: Harness, rows: Record<string, unknown>[]): Promise<ImportResult> {
  const res = await admin(h, '/admin/v1/subscribers/import', { method: 'POST', body: JSON.stringify({ rows }) });
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json() as Promise<ImportResult>;
}

const subscriberBy = async (h: Harness, email: string) =>
  (
    await h.query<{
      id: string;
      status: string;
      name: string | null;
      source: string | null;
      confirmed_at: Date | null;
    }>('select id, status, name, source, confirmed_at from subscribers where lower(email) = lower($1)', [email])
  )[0];

const topicsOf = async (h: Harness, id: string) =>
  (
    await h.query<{ topic: string }>(
      'select topic from subscriptions where subscriber_id = $1 and subscribed order by topic',
      [id],
    )
  ).map((r) => r.topic);

const eventsOf = (h: Harness, id: string) =>
  h.query<{ kind: string; source: string | null; topics: string[]; consent_text_version: number | null }>(
    'select kind, source, topics, consent_text_version from consent_events where subscriber_id = $1 order by seq',
    [id],
  );

const verifyChain = async (h: Harness) =>
  (await (await admin(h, '/admin/v1/consent/verify')).json()) as { ok: boolean };

describe.each(databaseKinds)('subscriber import and export on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(kind);
  });
  afterAll(() => h?.close());

  describe('POST /admin/v1/subscribers/import', () => {
    it('imports rows with consent evidence as active, with an imported ledger event and subscriptions, and sends them nothing', async () => {
      const ada = uniqueEmail('ada');
      const grace = uniqueEmail('grace');
      const result = await importRows(h, [
        { email: ada, name: 'Ada Lovelace', topics: 'release;updates', ...EVIDENCE, consent_version: '1' },
        { email: `  ${grace.replace('@example.com', '@Example.COM')} `, topics: ['release'], ...EVIDENCE },
      ]);
      expect(result).toEqual({
        imported_active: 2,
        imported_pending: 0,
        skipped_existing: 0,
        skipped_suppressed: 0,
        invalid: 0,
        invalid_rows: [],
      });

      const a = (await subscriberBy(h, ada))!;
      expect(a).toMatchObject({ status: 'active', name: 'Ada Lovelace', source: 'import:paper form at launch event' });
      expect(a.confirmed_at).not.toBeNull();
      expect(await topicsOf(h, a.id)).toEqual(['release', 'updates']);
      expect(await eventsOf(h, a.id)).toEqual([
        { kind: 'imported', source: LEDGER_SOURCE, topics: ['release', 'updates'], consent_text_version: 1 },
      ]);

      const g = (await subscriberBy(h, grace))!;
      expect(g.status).toBe('active');
      expect(await topicsOf(h, g.id)).toEqual(['release']);
      // No consent text named: the ledger does not claim one.
      expect(await eventsOf(h, g.id)).toEqual([
        { kind: 'imported', source: LEDGER_SOURCE, topics: ['release'], consent_text_version: null },
      ]);

      await h.deliver();
      expect(h.smtp.to(ada)).toHaveLength(0);
      expect((await verifyChain(h)).ok).toBe(true);
    });

    it('records a consent text that is not one of ours by its sha256 in the ledger source, and a known one by its version', async () => {
      const paper = uniqueEmail('paper');
      const known = uniqueEmail('known');
      const [{ text }] = (await h.query<{ text: string }>('select text from consent_texts where version = 1')) as [
        { text: string },
      ];
      await importRows(h, [
        { email: paper, ...EVIDENCE, consent_text: 'Tick to hear about the book.' },
        { email: known, ...EVIDENCE, consent_text: text },
      ]);
      const [paperEvent] = await eventsOf(h, (await subscriberBy(h, paper))!.id);
      expect(paperEvent).toMatchObject({
        consent_text_version: null,
        source: expect.stringMatching(new RegExp(`^${LEDGER_SOURCE}#text-sha256=[0-9a-f]{64}$`)),
      });
      const [knownEvent] = await eventsOf(h, (await subscriberBy(h, known))!.id);
      expect(knownEvent).toMatchObject({ consent_text_version: 1, source: LEDGER_SOURCE });
    });

    it('makes rows without evidence pending, sends them the normal confirmation mail, and never activates them', async () => {
      const email = uniqueEmail('noevidence');
      const result = await importRows(h, [{ email, name: 'Linus', topics: 'updates' }]);
      expect(result).toMatchObject({ imported_active: 0, imported_pending: 1, invalid: 0 });

      const sub = (await subscriberBy(h, email))!;
      expect(sub).toMatchObject({ status: 'pending', confirmed_at: null });
      expect(await topicsOf(h, sub.id)).toEqual([]);
      expect(await eventsOf(h, sub.id)).toEqual([
        { kind: 'requested', source: 'import', topics: ['updates'], consent_text_version: 1 },
      ]);

      await h.deliver();
      const mails = h.smtp.to(email);
      expect(mails).toHaveLength(1);
      expect(mails[0]!.parsed.subject).toMatch(/^Confirm your subscription/);
      expect((await subscriberBy(h, email))!.status).toBe('pending');

      // Importing it again (even with the confirmation unanswered) sends nothing more.
      expect(await importRows(h, [{ email }])).toMatchObject({ imported_pending: 0, skipped_existing: 1 });
      await h.deliver();
      expect(h.smtp.to(email)).toHaveLength(1);

      // Only the person's own click makes it active, with the topics the import asked for.
      const confirmUrl = linkIn(mails[0]!.parsed.text ?? '', '/confirm/');
      const confirmed = await h.request(pathOf(confirmUrl), {
        method: 'POST',
        headers: { accept: 'application/json' },
      });
      expect(await confirmed.json()).toEqual({ status: 'confirmed' });
      expect((await subscriberBy(h, email))!.status).toBe('active');
      expect(await topicsOf(h, sub.id)).toEqual(['updates']);
    });

    it('skips addresses that unsubscribed, were erased or bounced — with or without evidence', async () => {
      const unsubscribed = await activeSubscriber(h);
      const unsub = await h.request(pathOf(unsubscribed.unsubscribeUrl), {
        method: 'POST',
        body: 'List-Unsubscribe=One-Click',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(unsub.status).toBe(200);

      const erased = await activeSubscriber(h);
      expect((await admin(h, `/admin/v1/subscribers/${erased.id}`, { method: 'DELETE' })).status).toBe(200);

      const bounced = uniqueEmail('bounced');
      await h.query(`insert into suppressions (email_hash, reason) values ($1, 'hard_bounce')`, [
        emailHashFor(TEST_SECRET, bounced.toLowerCase()),
      ]);

      const mailsBefore = h.smtp.messages.length;
      const withEvidence = await importRows(h, [
        { email: unsubscribed.email, ...EVIDENCE },
        { email: erased.email, ...EVIDENCE },
        { email: bounced, ...EVIDENCE },
      ]);
      expect(withEvidence).toEqual({
        imported_active: 0,
        imported_pending: 0,
        skipped_existing: 0,
        skipped_suppressed: 3,
        invalid: 0,
        invalid_rows: [],
      });
      const without = await importRows(h, [
        { email: unsubscribed.email },
        { email: erased.email.toUpperCase() },
        { email: bounced },
      ]);
      expect(without).toMatchObject({ imported_pending: 0, skipped_suppressed: 3 });

      expect((await subscriberBy(h, unsubscribed.email))!.status).toBe('unsubscribed');
      expect(await subscriberBy(h, erased.email)).toBeUndefined(); // no new row brings the address back
      expect(await subscriberBy(h, bounced)).toBeUndefined();
      await h.deliver();
      expect(h.smtp.messages.length).toBe(mailsBefore);
    });

    it('leaves existing active subscribers exactly as they are, and upgrades a pending one only with evidence', async () => {
      const active = await activeSubscriber(h, { name: 'Original', topics: ['updates'] });
      const eventsBefore = await eventsOf(h, active.id);
      const waiting = await pendingSubscriber(h, { topics: ['release'] });
      const waitingNoEvidence = await pendingSubscriber(h);
      const mailsBefore = h.smtp.messages.length;

      const result = await importRows(h, [
        { email: active.email, name: 'Overwritten?', topics: 'release', ...EVIDENCE },
        { email: ` ${active.email.toUpperCase()} ` }, // the same address again
        { email: waiting.email, ...EVIDENCE, topics: 'release' },
        { email: waitingNoEvidence.email },
      ]);
      expect(result).toMatchObject({
        imported_active: 1,
        imported_pending: 0,
        skipped_existing: 2,
        skipped_suppressed: 0,
      });
      expect(result.invalid_rows).toEqual([{ row: 2, field: 'email', message: 'duplicate of row 1' }]);

      const after = (await subscriberBy(h, active.email))!;
      expect(after).toMatchObject({ status: 'active', name: 'Original' });
      expect(await topicsOf(h, active.id)).toEqual(['updates']);
      expect(await eventsOf(h, active.id)).toEqual(eventsBefore);

      const upgraded = (await subscriberBy(h, waiting.email))!;
      expect(upgraded.status).toBe('active');
      expect(await topicsOf(h, upgraded.id)).toEqual(['release']);
      expect((await eventsOf(h, upgraded.id)).map((e) => e.kind)).toEqual(['requested', 'imported']);
      expect((await subscriberBy(h, waitingNoEvidence.email))!.status).toBe('pending');

      await h.deliver();
      expect(h.smtp.messages.length).toBe(mailsBefore);
    });

    it('reports invalid rows by their row number (the caller’s own when given) and imports the rest', async () => {
      const good = uniqueEmail('good');
      const result = await importRows(h, [
        { email: 'not-an-address' },
        { email: uniqueEmail(), topics: 'release;novels' },
        { email: uniqueEmail(), consent_at: 'last spring', consent_source: 'paper form' },
        { email: uniqueEmail(), consent_at: '2026-03-14T18:30:00' }, // no zone, and no source
        { email: uniqueEmail(), consent_at: '2099-01-01T00:00:00Z', consent_source: 'time machine' },
        { email: uniqueEmail(), name: 'Line\nbreak' },
        { email: uniqueEmail(), consent_version: '99' },
        { email: '', row: 41 },
        { email: good, ...EVIDENCE, row: 42 },
        { email: good, row: 43 },
      ]);
      expect(result.imported_active).toBe(1);
      expect(result.imported_pending).toBe(0);
      expect(result.invalid).toBe(9);
      expect(result.invalid_rows).toEqual([
        { row: 1, field: 'email', message: 'not a valid email address' },
        { row: 2, field: 'topics', message: 'unknown topic: novels' },
        { row: 3, field: 'consent_at', message: expect.stringContaining('ISO 8601') },
        { row: 4, field: 'consent_source', message: 'consent evidence needs both consent_at and consent_source' },
        { row: 5, field: 'consent_at', message: 'is in the future' },
        { row: 6, field: 'name', message: expect.any(String) },
        { row: 7, field: 'consent_version', message: 'not a known consent text version' },
        { row: 41, field: 'email', message: 'missing' },
        { row: 43, field: 'email', message: 'duplicate of row 42' },
      ]);
    });

    it('takes up to 1,000 rows in one request (past the 64 kB limit of other routes), set-based, with an intact ledger', async () => {
      const prefix = `bulk${Date.now().toString(36)}`;
      const rows = Array.from({ length: 1000 }, (_, i) => ({
        email: `${prefix}.${i}@example.com`,
        name: `Reader number ${i} from the launch event`,
        topics: 'release',
        ...EVIDENCE,
        ...(i % 4 === 0 ? { consent_at: undefined, consent_source: undefined } : {}),
      }));
      expect(JSON.stringify({ rows }).length).toBeGreaterThan(64 * 1024);
      const result = await importRows(h, rows);
      expect(result).toMatchObject({ imported_active: 750, imported_pending: 250, invalid: 0 });
      const [counts] = await h.query<{ active: number; pending: number }>(
        `select count(*) filter (where status = 'active')::int as active, count(*) filter (where status = 'pending')::int as pending
           from subscribers where email like $1`,
        [`${prefix}.%`],
      );
      expect(counts).toEqual({ active: 750, pending: 250 });
      const [queued] = await h.query<{ n: number }>(
        `select count(*)::int as n from deliveries d join subscribers s on s.id = d.subscriber_id where d.kind = 'confirmation' and s.email like $1`,
        [`${prefix}.%`],
      );
      expect(queued!.n).toBe(250);
      expect((await verifyChain(h)).ok).toBe(true);
    });

    it('refuses more than 1,000 rows, a body over 2 MB, and anything that is not a list of rows', async () => {
      const tooMany = Array.from({ length: 1001 }, (_, i) => ({ email: `x${i}@example.com` }));
      const many = await admin(h, '/admin/v1/subscribers/import', {
        method: 'POST',
        body: JSON.stringify({ rows: tooMany }),
      });
      expect(many.status).toBe(422);

      const huge = await admin(h, '/admin/v1/subscribers/import', {
        method: 'POST',
        body: JSON.stringify({ rows: [{ email: 'a@example.com', consent_text: 'x'.repeat(2_100_000) }] }),
      });
      expect(huge.status).toBe(413);
      // Other routes keep their 64 kB limit.
      const other = await admin(h, '/admin/v1/broadcasts', {
        method: 'POST',
        body: JSON.stringify({ template: 'x'.repeat(70 * 1024) }),
      });
      expect(other.status).toBe(413);

      const notRows = await admin(h, '/admin/v1/subscribers/import', {
        method: 'POST',
        body: JSON.stringify({ emails: ['a@example.com'] }),
      });
      expect(notRows.status).toBe(422);
      const noToken = await h.request('/admin/v1/subscribers/import', {
        method: 'POST',
        body: JSON.stringify({ rows: [] }),
        headers: { 'content-type': 'application/json' },
      });
      expect(noToken.status).toBe(401);
    });
  });

  describe('GET /admin/v1/subscribers/export', () => {
    it('quotes per RFC 4180 and guards against formula injection, so csv-parse reads back every tricky name', async () => {
      const tricky = [
        'Smith, Jane',
        'Jane "JJ" Smith',
        'Line one\nLine two',
        '=HYPERLINK("http://evil.example","x")',
        '+SUM(A1)',
        '-1',
        '@cmd',
        '  spaced  ',
        'Zoë Ünicode',
      ];
      const emails = tricky.map(() => uniqueEmail('tricky'));
      const imported = await importRows(
        h,
        emails.map((email) => ({ email, ...EVIDENCE, topics: 'release;updates' })),
      );
      expect(imported.imported_active).toBe(tricky.length);
      // Names with control characters cannot come in through the API; put them straight in the table.
      for (const [i, email] of emails.entries())
        await h.query('update subscribers set name = $1 where lower(email) = lower($2)', [tricky[i], email]);

      const res = await admin(h, '/admin/v1/subscribers/export?status=active&topic=release', {
        headers: { accept: 'text/csv' },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
      expect(res.headers.get('content-disposition')).toMatch(
        /^attachment; filename="subscribers-\d{4}-\d{2}-\d{2}\.csv"$/,
      );
      const text = await res.text();
      expect(text.startsWith('email,name,status,topics,created_at,confirmed_at\r\n')).toBe(true);

      const records = parse(text, { columns: true }) as Record<string, string>[];
      const byEmail = new Map(records.map((r) => [r.email, r]));
      for (const [i, email] of emails.entries()) {
        const r = byEmail.get(email);
        expect(r, email).toBeDefined();
        const name = tricky[i]!;
        expect(r!.name).toBe(/^[=+\-@]/.test(name) ? `'${name}` : name);
        expect(r).toMatchObject({ status: 'active', topics: 'release;updates' });
        expect(new Date(r!.created_at!).toISOString()).toBe(r!.created_at);
        expect(new Date(r!.confirmed_at!).toISOString()).toBe(r!.confirmed_at);
      }
      expect(records.every((r) => r.status === 'active' && r.topics!.split(';').includes('release'))).toBe(true);
    });

    it('streams the whole list across keyset pages, filters by status, and leaves erased subscribers out', async () => {
      const res = await admin(h, '/admin/v1/subscribers/export', { headers: { accept: 'text/csv' } });
      const records = parse(await res.text(), { columns: true }) as Record<string, string>[];
      const [db] = await h.query<{ n: number }>(`select count(*)::int as n from subscribers where status <> 'erased'`);
      expect(db!.n).toBeGreaterThan(1000); // more than two pages of 500
      expect(records).toHaveLength(db!.n);
      expect(new Set(records.map((r) => r.email)).size).toBe(records.length);
      expect(records.some((r) => r.email === '')).toBe(false);

      const pending = parse(await (await admin(h, '/admin/v1/subscribers/export?status=pending')).text(), {
        columns: true,
      }) as Record<string, string>[];
      const [dbPending] = await h.query<{ n: number }>(
        `select count(*)::int as n from subscribers where status = 'pending'`,
      );
      expect(pending).toHaveLength(dbPending!.n);
      expect(pending.every((r) => r.status === 'pending' && r.confirmed_at === '')).toBe(true);
    });

    it('needs the admin token and validates its filters', async () => {
      expect((await h.request('/admin/v1/subscribers/export')).status).toBe(401);
      expect((await admin(h, '/admin/v1/subscribers/export?status=nonsense')).status).toBe(422);
    });
  });
});

describe('csvField', () => {
  it('quotes only what needs quoting and neutralises formula starts', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField(null)).toBe('');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\r\nlines')).toBe('"two\r\nlines"');
    expect(csvField('=1+2')).toBe("'=1+2");
    expect(csvField('=A1,"x"')).toBe(`"'=A1,""x"""`);
    expect(csvField('\tcmd')).toBe("'\tcmd");
  });
});
