import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailHashFor } from '../../src/core/identity.js';
import { readImportCsv } from '../../src/core/lists/csv.js';
import { subscribersCsv } from '../../src/core/lists/export.js';
import { importSubscribers } from '../../src/core/lists/import.js';
import { previewImport } from '../../src/core/lists/import-preview.js';
import { EXPORTED_CONFIRMATION } from '../../src/core/lists/import-row.js';
import { consoleGet, consolePost, SAME_ORIGIN, signIn } from '../support/console.js';
import { activeSubscriber, pathOf, pendingSubscriber, uniqueEmail } from '../support/factories.js';
import { createHarness, databaseKinds, type Harness, TEST_SECRET } from '../support/harness.js';

/**
 * The import's dry run (core/lists/import-preview.ts): the same rules as the import, row by row, with
 * nothing written; and an export that the import reads back as it is.
 */

const EVIDENCE = { consent_at: '2026-03-14T18:30:00Z', consent_source: 'paper form at launch event' };

const tableCounts = async (h: Harness) =>
  (
    await h.query<Record<string, number>>(`select
      (select count(*)::int from subscribers) as subscribers,
      (select count(*)::int from subscriptions) as subscriptions,
      (select count(*)::int from deliveries) as deliveries,
      (select count(*)::int from consent_events) as events,
      (select count(*)::int from confirm_tokens) as tokens`)
  )[0];

describe.each(databaseKinds)('the import dry run on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(kind);
  });
  afterAll(() => h?.close());

  it('says what the import would do with every row, in file order, and writes nothing', async () => {
    const active = await activeSubscriber(h);
    const pending = await pendingSubscriber(h);
    const pendingWithEvidence = await pendingSubscriber(h);
    const left = await activeSubscriber(h);
    await h.request(pathOf(left.unsubscribeUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    const suppressed = uniqueEmail('suppressed');
    await h.query(`insert into suppressions (email_hash, reason) values ($1, 'complaint')`, [
      emailHashFor(TEST_SECRET, suppressed),
    ]);
    const fresh = uniqueEmail('fresh');
    const paper = uniqueEmail('paper');
    const rows = [
      { row: 2, email: fresh, topics: 'updates' },
      { row: 3, email: paper, ...EVIDENCE },
      { row: 4, email: active.email },
      { row: 5, email: pending.email },
      { row: 6, email: pendingWithEvidence.email, ...EVIDENCE },
      { row: 7, email: left.email, ...EVIDENCE },
      { row: 8, email: suppressed },
      { row: 9, email: 'not-an-address' },
      { row: 10, email: fresh.toUpperCase() },
      { row: 11, email: uniqueEmail('topic'), topics: 'nonsense' },
    ];

    const before = await tableCounts(h);
    const preview = await previewImport(h.services, rows);
    expect(await tableCounts(h)).toEqual(before);

    expect(preview.rows.map((r) => [r.row, r.action])).toEqual([
      [2, 'add_pending'],
      [3, 'add_active'],
      [4, 'skip_existing'],
      [5, 'skip_existing'],
      [6, 'activate'],
      [7, 'skip_left'],
      [8, 'skip_left'],
      [9, 'invalid'],
      [10, 'invalid'],
      [11, 'invalid'],
    ]);
    const byRow = new Map(preview.rows.map((r) => [r.row, r]));
    expect(byRow.get(2)).toMatchObject({ email: fresh, topics: ['updates'] });
    expect(byRow.get(3)!.detail).toBe('consent on 2026-03-14: paper form at launch event');
    expect(byRow.get(5)!.detail).toMatch(/already pending/);
    expect(byRow.get(7)!.detail).toBe('unsubscribed earlier');
    expect(byRow.get(8)!.detail).toBe('complained earlier');
    expect(byRow.get(9)).toMatchObject({ email: 'not-an-address', detail: 'email: not a valid email address' });
    expect(byRow.get(10)!.detail).toBe('email: duplicate of row 2');
    expect(byRow.get(11)!.detail).toBe('topics: unknown topic: nonsense');
    expect(preview.counts).toEqual({
      add_active: 1,
      add_pending: 1,
      activate: 1,
      skip_existing: 2,
      skip_left: 2,
      invalid: 3,
    });

    // The import itself then does what the preview said.
    const done = await importSubscribers(h.services, rows, { consentVersion: h.services.consentVersion });
    expect(done).toMatchObject({
      imported_active: preview.counts.add_active + preview.counts.activate,
      imported_pending: preview.counts.add_pending,
      skipped_existing: preview.counts.skip_existing,
      skipped_suppressed: preview.counts.skip_left,
      invalid: preview.counts.invalid,
    });
  });

  it('reads an export back as it is: active stays active on its own confirmation, who left is never mailed', async () => {
    const active = await activeSubscriber(h, { name: 'Ada, "the" Countess', topics: ['release'] });
    const pending = await pendingSubscriber(h);
    const left = await activeSubscriber(h);
    await h.request(pathOf(left.unsubscribeUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    let csv = '';
    for await (const chunk of subscribersCsv(h.services.db, {})) csv += chunk;

    const file = readImportCsv(csv);
    expect(file.mapping.map((m) => [m.header, m.field])).toEqual([
      ['email', 'email'],
      ['name', 'name'],
      ['status', 'status'],
      ['topics', 'topics'],
      ['created_at', null],
      ['confirmed_at', 'confirmed_at'],
    ]);
    const mine = file.rows.filter((r) => [active.email, pending.email, left.email].includes(r.email));
    expect(mine).toHaveLength(3);

    // Into a list that has never seen them (a new server): a fresh harness.
    const other = await createHarness(kind);
    try {
      const preview = await previewImport(other.services, mine);
      const actionOf = (email: string) => preview.rows.find((r) => r.email === email)?.action;
      expect(actionOf(active.email)).toBe('add_active');
      expect(actionOf(pending.email)).toBe('add_pending');
      expect(actionOf(left.email)).toBe('skip_left');
      expect(preview.rows.find((r) => r.email === left.email)!.detail).toBe('unsubscribed in the file');

      await importSubscribers(other.services, mine, { consentVersion: other.services.consentVersion });
      const [row] = await other.query<{ status: string; name: string; source: string }>(
        `select s.status, s.name, e.source from subscribers s join consent_events e on e.subscriber_id = s.id
          where lower(s.email) = lower($1)`,
        [active.email],
      );
      expect(row).toMatchObject({ status: 'active', name: 'Ada, "the" Countess' });
      expect(row!.source).toMatch(new RegExp(`^import:${EXPORTED_CONFIRMATION}@\\d{4}-`));
      const [topics] = await other.query<{ topics: string }>(
        `select string_agg(t.topic, ';' order by t.topic) as topics from subscriptions t
           join subscribers s on s.id = t.subscriber_id where lower(s.email) = lower($1) and t.subscribed`,
        [active.email],
      );
      expect(topics!.topics).toBe('release');
      await other.deliver();
      expect(other.smtp.to(left.email)).toHaveLength(0);
      expect(other.smtp.to(active.email)).toHaveLength(0);
      expect(other.smtp.to(pending.email)).toHaveLength(1);
    } finally {
      await other.close();
    }
  });

  it('refuses a file without an email column, and one that is not CSV', () => {
    expect(() => readImportCsv('name,topics\nAda,release\n')).toThrow(/needs an "email" column/);
    expect(() => readImportCsv('email\n"unterminated\n')).toThrow(/Not a CSV file/);
  });

  it('in the console: checks an uploaded file row by row, writes nothing until confirmed, then imports it', async () => {
    const session = await signIn(h);
    const good = uniqueEmail('console');
    const pending = uniqueEmail('console');
    // Past the app's general body limit: the import's two paths take a whole file.
    const filler = Array.from({ length: 1400 }, (_, i) => `,row ${i} of padding to make the file large enough,,`);
    const csv = [
      'email,name,consent_at,consent_source',
      `${good},Ada,2026-03-14,paper form at launch event`,
      `${pending},Grace,,`,
      'broken,Nobody,,',
      ...filler,
    ].join('\n');
    expect(csv.length).toBeGreaterThan(64 * 1024);
    const form = new FormData();
    form.set('_csrf', session.csrf);
    form.set('csv', new File([csv], 'launch.csv', { type: 'text/csv' }));
    const before = await tableCounts(h);
    const page = await h.request('/admin/import/preview', {
      method: 'POST',
      headers: { cookie: session.cookie, accept: 'text/html', ...SAME_ORIGIN },
      body: form,
    });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(await tableCounts(h)).toEqual(before);
    expect(html).toContain('launch.csv');
    expect(html).toMatch(new RegExp(`${good.replaceAll('.', '\\.')}</td><td><span class="badge ok">added, active`));
    expect(html).toMatch(/broken<\/td><td><span class="badge bad">skipped: invalid/);
    expect(html).toContain('Import 2 rows');

    const committed = await consolePost(h, session, '/admin/import/commit', { csv });
    expect(committed.status).toBe(303);
    expect(committed.headers.get('location')).toBe('/admin/import?done=1.1.0.0.1401');
    const notice = await (await consoleGet(h, session, committed.headers.get('location')!)).text();
    expect(notice).toContain('Imported: 1 active, 1 pending');
    const statuses = await h.query<{ status: string }>(
      'select status from subscribers where lower(email) in (lower($1), lower($2)) order by status',
      [good, pending],
    );
    expect(statuses.map((r) => r.status)).toEqual(['active', 'pending']);

    const download = await consoleGet(h, session, '/admin/import/export?status=active&topic=');
    expect(download.headers.get('content-disposition')).toMatch(/^attachment; filename="subscribers-/);
    expect(await download.text()).toContain(good);
  });

  it('in the console: says what is wrong with a file that cannot be read, and asks for one when none came', async () => {
    const session = await signIn(h);
    const noEmail = await consolePost(h, session, '/admin/import/preview', { csv_text: 'name\nAda\n' });
    expect(noEmail.status).toBe(422);
    expect(await noEmail.text()).toContain('The header row needs an &quot;email&quot; column');
    const nothing = await consolePost(h, session, '/admin/import/preview', { csv_text: '' });
    expect(await nothing.text()).toContain('Choose a CSV file, or paste one.');
  });
});
