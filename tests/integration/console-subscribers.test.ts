import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONSENT_TEXT } from '../../src/config.js';
import { type ConsoleSignIn, consoleGet, consolePost, signIn } from '../support/console.js';
import { activeSubscriber, pendingSubscriber } from '../support/factories.js';
import { createHarness, databaseKinds, type Harness } from '../support/harness.js';

/** The console's subscriber pages: search, filters, keyset pages, one subscriber's record, and the actions. */
describe.each(databaseKinds)('console subscribers on %s', (kind) => {
  let h: Harness;
  let s: ConsoleSignIn;
  beforeAll(async () => {
    h = await createHarness(kind, { CONFIRM_COOLDOWN_SECONDS: '600' });
    // Sixty seeded rows, one a minute, for paging; the flows below add real ones on top.
    await h.query(`
      insert into subscribers (email, email_hash, name, status, source, created_at, confirmed_at)
      select 'paged' || g || '@example.org', md5('paged' || g), 'Paged ' || g,
             case when g % 2 = 0 then 'active' else 'unsubscribed' end, 'fair-2026',
             timestamptz '2026-11-01T00:00:00Z' + (g || ' minutes')::interval, timestamptz '2026-11-01T00:00:00Z'
        from generate_series(1, 60) g`);
    s = await signIn(h);
  });
  afterAll(() => h?.close());

  const page = async (path: string) => {
    const res = await consoleGet(h, s, path);
    expect(res.status, path).toBe(200);
    return res.text();
  };
  const listed = (html: string) =>
    [...html.matchAll(/<a href="\/admin\/subscribers\/[0-9a-f-]{36}">([^<]+)<\/a>/g)].map((m) => m[1]);

  it('pages through everyone, newest first, fifty at a time', async () => {
    const first = await page('/admin/subscribers?source=fair-2026');
    const rows1 = listed(first);
    expect(rows1).toHaveLength(50);
    expect(rows1[0]).toBe('paged60@example.org');
    const next = /<a href="([^"]+)" rel="next">/.exec(first)![1]!.replaceAll('&amp;', '&');
    expect(next).toMatch(/^\/admin\/subscribers\?source=fair-2026&cursor=/);
    const second = await page(next);
    const rows2 = listed(second);
    expect(rows2).toEqual([
      'paged10@example.org',
      'paged9@example.org',
      'paged8@example.org',
      'paged7@example.org',
      'paged6@example.org',
      'paged5@example.org',
      'paged4@example.org',
      'paged3@example.org',
      'paged2@example.org',
      'paged1@example.org',
    ]);
    expect(second).toContain('That is everyone.');
    expect(second).not.toContain('rel="next"');
  });

  it('searches by the start of an address or of a name, and filters by status, topic and source', async () => {
    expect(listed(await page('/admin/subscribers?search=PAGED5'))).toEqual([
      'paged59@example.org',
      'paged58@example.org',
      'paged57@example.org',
      'paged56@example.org',
      'paged55@example.org',
      'paged54@example.org',
      'paged53@example.org',
      'paged52@example.org',
      'paged51@example.org',
      'paged50@example.org',
      'paged5@example.org',
    ]);
    expect(listed(await page('/admin/subscribers?search=paged5%40'))).toEqual(['paged5@example.org']);
    expect(listed(await page('/admin/subscribers?search=aged5'))).toEqual([]); // a start, not a substring
    expect(listed(await page(`/admin/subscribers?search=${encodeURIComponent('Paged 12')}`))).toEqual([
      'paged12@example.org',
    ]);
    const active = listed(await page('/admin/subscribers?status=active&source=fair-2026'));
    expect(active).toHaveLength(30);
    expect(active.every((a) => Number(/paged(\d+)@/.exec(a!)![1]) % 2 === 0)).toBe(true);
    const mine = await activeSubscriber(h, { topics: ['updates'], source: 'launch-party' });
    expect(listed(await page('/admin/subscribers?topic=updates'))).toEqual([mine.email]);
    expect(listed(await page('/admin/subscribers?source=launch-party&status=active'))).toEqual([mine.email]);
    // Filters from a hand-edited URL that fit nothing are dropped, not a 500.
    expect(await page('/admin/subscribers?status=nonsense&search=')).toContain('paged60@example.org');
  });

  it("shows one subscriber's profile, topics, consent timeline with the exact wording, and messages", async () => {
    const sub = await activeSubscriber(h, { name: 'Ada Reader', topics: ['release'], source: 'book-site' });
    const html = await page(`/admin/subscribers/${sub.id}`);
    expect(html).toContain(sub.email);
    expect(html).toContain('Ada Reader');
    expect(html).toMatch(/<strong>Book release<\/strong>: yes/);
    expect(html).toMatch(/<li data-kind="requested">/);
    expect(html).toMatch(/<li data-kind="confirmed">/);
    expect(html).toContain('Consent text version 1:');
    expect(html).toContain(`<blockquote>${DEFAULT_CONSENT_TEXT.replaceAll("'", '&#39;')}</blockquote>`);
    expect(html).toMatch(/<table class="data stack" id="deliveries">/);
    expect(html).toContain('Confirmation request');
    expect(html).toContain('Welcome');
    expect((await consoleGet(h, s, '/admin/subscribers/not-an-id')).status).toBe(404);
    expect((await consoleGet(h, s, `/admin/subscribers/${crypto.randomUUID()}`)).status).toBe(404);
  });

  it('unsubscribes through the same core function, recording it in the ledger as the console', async () => {
    const sub = await activeSubscriber(h);
    const res = await consolePost(h, s, `/admin/subscribers/${sub.id}/unsubscribe`);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/admin/subscribers/${sub.id}?done=unsubscribed`);
    expect(await page(res.headers.get('location')!)).toContain('Unsubscribed. They will get no more mail');
    const [row] = await h.query<{ status: string }>('select status from subscribers where id = $1', [sub.id]);
    expect(row!.status).toBe('unsubscribed');
    const events = await h.query<{ kind: string; source: string }>(
      'select kind, source from consent_events where subscriber_id = $1 order by seq',
      [sub.id],
    );
    expect(events.at(-1)).toEqual({ kind: 'unsubscribed', source: 'console' });
    expect(
      (
        await h.query(
          'select 1 from suppressions where email_hash = (select email_hash from subscribers where id = $1)',
          [sub.id],
        )
      ).length,
    ).toBe(1);
  });

  it('resends a confirmation to a pending subscriber, once per cooldown', async () => {
    const pending = await pendingSubscriber(h);
    const [row] = await h.query<{ id: string }>('select id from subscribers where lower(email) = lower($1)', [
      pending.email,
    ]);
    const mails = () => h.smtp.to(pending.email).length;
    h.clock.advance(601_000);
    const sent = await consolePost(h, s, `/admin/subscribers/${row!.id}/resend-confirmation`);
    expect(sent.headers.get('location')).toBe(`/admin/subscribers/${row!.id}?done=confirmation_queued`);
    await h.deliver();
    expect(mails()).toBe(2);
    const again = await consolePost(h, s, `/admin/subscribers/${row!.id}/resend-confirmation`);
    expect(again.headers.get('location')).toBe(`/admin/subscribers/${row!.id}?done=cooldown`);
    await h.deliver();
    expect(mails()).toBe(2);
  });

  it('erases only after its confirmation step, through the same erasure as the API', async () => {
    const sub = await activeSubscriber(h, { name: 'Eve Erased' });
    const step = await page(`/admin/subscribers/${sub.id}/erase`);
    expect(step).toContain('cannot be undone');
    expect(step).toMatch(/<input type="hidden" name="confirm" value="yes"\/?>/);
    const unconfirmed = await consolePost(h, s, `/admin/subscribers/${sub.id}/erase`);
    expect(unconfirmed.status).toBe(422);
    expect(
      (await h.query<{ status: string }>('select status from subscribers where id = $1', [sub.id]))[0]!.status,
    ).toBe('active');
    const erased = await consolePost(h, s, `/admin/subscribers/${sub.id}/erase`, { confirm: 'yes' });
    expect(erased.headers.get('location')).toBe(`/admin/subscribers/${sub.id}?done=erased`);
    const [row] = await h.query<{ status: string; email: string | null; name: string | null }>(
      'select status, email, name from subscribers where id = $1',
      [sub.id],
    );
    expect(row).toEqual({ status: 'erased', email: null, name: null });
    const [event] = await h.query<{ kind: string; source: string | null }>(
      'select kind, source from consent_events where subscriber_id = $1 order by seq desc limit 1',
      [sub.id],
    );
    expect(event!.kind).toBe('erased');
    const after = await page(`/admin/subscribers/${sub.id}`);
    expect(after).toContain('Erased subscriber');
    expect(after).not.toContain(sub.email);
  });

  it('refuses every action posted from another site, or without the CSRF field, and changes nothing', async () => {
    const sub = await activeSubscriber(h);
    for (const action of ['unsubscribe', 'erase', 'resend-confirmation']) {
      const path = `/admin/subscribers/${sub.id}/${action}`;
      const crossSite = await consolePost(
        h,
        s,
        path,
        { confirm: 'yes' },
        { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
      );
      expect(crossSite.status, path).toBe(403);
      const noToken = await consolePost(h, s, path, { confirm: 'yes', _csrf: '' });
      expect(noToken.status, path).toBe(403);
    }
    const [row] = await h.query<{ status: string }>('select status from subscribers where id = $1', [sub.id]);
    expect(row!.status).toBe('active');
  });
});
