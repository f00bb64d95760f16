import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastMailTo, linkIn, pathOf, pendingSubscriber, postSignup, uniqueEmail } from '../support/factories.js';
import { createHarness, databaseKinds, type Harness } from '../support/harness.js';
import type { ReceivedMail } from '../support/smtp-sink.js';

/** A header exactly as it went over the wire, unfolded (RFC 5322 §2.2.3). */
function rawHeader(mail: ReceivedMail, name: string): string | undefined {
  const line = mail.parsed.headerLines.find((h) => h.key === name.toLowerCase())?.line;
  return line
    ?.slice(line.indexOf(':') + 1)
    .replace(/\r?\n[ \t]+/g, ' ')
    .trim();
}

describe.each(databaseKinds)('confirmation (double opt-in) on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(kind);
  });
  afterAll(() => h?.close());

  const subscriberOf = async (email: string) =>
    (
      await h.query<{ id: string; status: string; confirmed_at: Date | null; status_changed_at: Date }>(
        'select id, status, confirmed_at, status_changed_at from subscribers where lower(email) = lower($1)',
        [email],
      )
    )[0]!;
  const eventsOf = (subscriberId: string) =>
    h.query<{ kind: string; topics: string[]; source: string | null; consent_text_version: number | null }>(
      'select kind, topics, source, consent_text_version from consent_events where subscriber_id = $1 order by seq',
      [subscriberId],
    );
  const tokensOf = (subscriberId: string) =>
    h.query<{ id: string; token_hash: string; used_at: Date | null; topics: string[] }>(
      'select id, token_hash, used_at, topics from confirm_tokens where subscriber_id = $1 order by created_at',
      [subscriberId],
    );
  const subscriptionsOf = (subscriberId: string) =>
    h.query<{ topic: string; subscribed: boolean }>(
      'select topic, subscribed from subscriptions where subscriber_id = $1 order by topic',
      [subscriberId],
    );
  const postConfirm = (url: string, headers: Record<string, string> = { accept: 'application/json' }) =>
    h.request(pathOf(url), { method: 'POST', headers });

  it('GET shows a page with a POST form and changes nothing', async () => {
    const { email, confirmUrl } = await pendingSubscriber(h, { topics: ['release'] });
    const sub = await subscriberOf(email);
    const eventsBefore = await eventsOf(sub.id);

    const res = await h.request(pathOf(confirmUrl), { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const page = await res.text();
    const form = /<form[^>]*method="post"[^>]*action="([^"]+)"/i.exec(page);
    expect(form?.[1]).toBe(pathOf(confirmUrl));
    expect(page).toMatch(/<button[^>]*type="submit"/);

    // A second GET (scanners fetch twice) still changes nothing.
    await h.request(pathOf(confirmUrl));
    expect(await subscriberOf(email)).toEqual(sub);
    expect(sub.status).toBe('pending');
    expect(sub.confirmed_at).toBeNull();
    expect(await eventsOf(sub.id)).toEqual(eventsBefore);
    expect((await tokensOf(sub.id)).map((t) => t.used_at)).toEqual([null]);
    expect(await subscriptionsOf(sub.id)).toEqual([]);
  });

  it('POST confirms: active, confirmed_at, requested topics, one confirmed ledger event, welcome mail queued', async () => {
    const { email, confirmUrl } = await pendingSubscriber(h, { topics: ['release'], source: 'book-site' });
    const before = await subscriberOf(email);
    h.clock.advance(60_000);

    const res = await postConfirm(confirmUrl);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'confirmed' });

    const sub = await subscriberOf(email);
    expect(sub.status).toBe('active');
    expect(new Date(sub.confirmed_at!).toISOString()).toBe(h.clock.now().toISOString());
    expect(new Date(sub.status_changed_at).getTime()).toBeGreaterThan(new Date(before.status_changed_at).getTime());
    expect(await subscriptionsOf(sub.id)).toEqual([{ topic: 'release', subscribed: true }]);
    const events = await eventsOf(sub.id);
    expect(events.map((e) => e.kind)).toEqual(['requested', 'confirmed']);
    expect(events[1]).toMatchObject({ topics: ['release'], source: 'book-site', consent_text_version: 1 });
    expect((await tokensOf(sub.id))[0]!.used_at).not.toBeNull();

    // Nothing is sent inside the request: the welcome goes through the outbox.
    const mailsBefore = h.smtp.to(email).length;
    const [welcomeRow] = await h.query<{ status: string }>(
      "select status from deliveries where subscriber_id = $1 and kind = 'welcome'",
      [sub.id],
    );
    expect(welcomeRow?.status).toBe('queued');
    expect(h.smtp.to(email)).toHaveLength(mailsBefore);
  });

  it('delivers a welcome mail with RFC 8058 headers and unsubscribe, preferences and postal address in both parts', async () => {
    const { email, confirmUrl } = await pendingSubscriber(h, { name: 'Grace' });
    expect((await postConfirm(confirmUrl)).status).toBe(200);
    const report = await h.deliver();
    expect(report.sent).toBe(1);
    const welcome = lastMailTo(h, email);
    expect(welcome.parsed.subject).toMatch(/on the list/);

    const listUnsubscribe = rawHeader(welcome, 'List-Unsubscribe');
    expect(listUnsubscribe).toBeDefined();
    const targets = [...listUnsubscribe!.matchAll(/<([^>]+)>/g)].map((m) => m[1]!);
    const https = targets.find((t) => t.startsWith('http'));
    const mailto = targets.find((t) => t.startsWith('mailto:'));
    expect(https).toMatch(/^http:\/\/quire\.test\/unsubscribe\/[A-Za-z0-9_-]+$/);
    expect(mailto).toMatch(/^mailto:unsubscribe@quire\.test/);
    expect(rawHeader(welcome, 'List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');

    const text = welcome.parsed.text ?? '';
    const html = typeof welcome.parsed.html === 'string' ? welcome.parsed.html : '';
    const unsubscribeUrl = linkIn(text, '/unsubscribe/');
    const preferencesUrl = linkIn(text, '/preferences/');
    // The body's unsubscribe link is the same one-click URL as the header's.
    expect(unsubscribeUrl).toBe(https);
    expect(html).toContain(`href="${unsubscribeUrl}"`);
    expect(html).toContain(`href="${preferencesUrl}"`);
    for (const part of [text, html]) {
      expect(part).toContain('Quire Test Press, 1 Example Street, Springfield');
      expect(part).toContain('Grace');
    }
  });

  it('a repeated POST answers 200 already_confirmed with no second welcome and no second ledger event', async () => {
    const { email, confirmUrl } = await pendingSubscriber(h);
    expect(await (await postConfirm(confirmUrl)).json()).toEqual({ status: 'confirmed' });
    await h.deliver();
    const sub = await subscriberOf(email);
    const mails = h.smtp.to(email).length;
    const events = await eventsOf(sub.id);

    h.clock.advance(3600_000);
    const again = await postConfirm(confirmUrl);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ status: 'already_confirmed' });
    await h.deliver();
    expect(h.smtp.to(email)).toHaveLength(mails);
    expect(await eventsOf(sub.id)).toEqual(events);
    expect(
      await h.query("select id from deliveries where subscriber_id = $1 and kind = 'welcome'", [sub.id]),
    ).toHaveLength(1);
    expect(await subscriberOf(email)).toEqual(sub);

    // A spent link stays "already confirmed" after it would have expired, not a confusing 410.
    h.clock.advance(48 * 3600_000);
    const late = await postConfirm(confirmUrl);
    expect(late.status).toBe(200);
    expect(await late.json()).toEqual({ status: 'already_confirmed' });
    expect(await eventsOf(sub.id)).toEqual(events);
  });

  it('an expired link (past 48 h) answers 410 token_expired and changes nothing', async () => {
    const { email, confirmUrl } = await pendingSubscriber(h);
    const sub = await subscriberOf(email);
    const events = await eventsOf(sub.id);
    h.clock.advance(48 * 3600_000 + 1000);

    const res = await postConfirm(confirmUrl);
    expect(res.status).toBe(410);
    const body = await res.json();
    expect(body.error).toMatchObject({ code: 'token_expired' });
    expect(body.error.requestId).toBeTruthy();
    const page = await h.request(pathOf(confirmUrl), { headers: { accept: 'text/html' } });
    expect(page.status).toBe(410);

    expect(await subscriberOf(email)).toEqual(sub);
    expect(await eventsOf(sub.id)).toEqual(events);
    expect((await tokensOf(sub.id)).map((t) => t.used_at)).toEqual([null]);
    expect(await subscriptionsOf(sub.id)).toEqual([]);
    await h.deliver();
    expect(
      await h.query("select id from deliveries where subscriber_id = $1 and kind = 'welcome'", [sub.id]),
    ).toHaveLength(0);
  });

  it('one millisecond before 48 h the link still confirms', async () => {
    const { email, confirmUrl } = await pendingSubscriber(h);
    h.clock.advance(48 * 3600_000 - 1);
    expect(await (await postConfirm(confirmUrl)).json()).toEqual({ status: 'confirmed' });
    expect((await subscriberOf(email)).status).toBe('active');
  });

  it.each([
    ['tampered', (t: string) => t.slice(0, -1) + (t.endsWith('A') ? 'B' : 'A')],
    ['truncated', (t: string) => t.slice(0, 30)],
    ['unknown', () => 'A'.repeat(43)],
    ['too short', () => 'abc'],
    ['with illegal characters', (t: string) => `${t.slice(0, 20)}%20${t.slice(20)}`],
  ])('a %s token answers 404 invalid_token in the error envelope and changes nothing', async (_label, mangle) => {
    const { email, confirmUrl } = await pendingSubscriber(h);
    const sub = await subscriberOf(email);
    const token = confirmUrl.slice(confirmUrl.lastIndexOf('/') + 1);
    const bad = `/confirm/${mangle(token)}`;
    for (const method of ['GET', 'POST']) {
      const res = await h.request(bad, { method, headers: { accept: 'application/json' } });
      expect(res.status).toBe(404);
      const body = await res.json();
      expect(Object.keys(body)).toEqual(['error']);
      expect(body.error).toMatchObject({
        code: 'invalid_token',
        message: expect.any(String),
        requestId: expect.any(String),
      });
    }
    expect(await subscriberOf(email)).toEqual(sub);
    expect((await tokensOf(sub.id)).map((t) => t.used_at)).toEqual([null]);
  });

  it('stores only the sha256 of the token: the token from the mail appears nowhere in confirm_tokens', async () => {
    const { email, confirmUrl } = await pendingSubscriber(h);
    const token = confirmUrl.slice(confirmUrl.lastIndexOf('/') + 1);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/); // 32 bytes, base64url
    const sub = await subscriberOf(email);
    const [row] = await tokensOf(sub.id);
    expect(row!.token_hash).toBe(createHash('sha256').update(token).digest('hex'));
    const everything = await h.query<{ row: string }>('select row_to_json(t)::text as row from confirm_tokens t');
    for (const r of everything) expect(r.row).not.toContain(token);
    // Nor does the outbox row that carried the mail.
    const outbox = await h.query<{ row: string }>('select row_to_json(d)::text as row from deliveries d');
    for (const r of outbox) expect(r.row).not.toContain(token);
  });

  it('a browser form post (text/html, urlencoded) gets an HTML page', async () => {
    const { email, confirmUrl } = await pendingSubscriber(h);
    const res = await postConfirm(confirmUrl, {
      accept: 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.8',
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('location')).toBeNull();
    expect(await res.text()).toContain('<h1>You&#39;re on the list</h1>');
    expect((await subscriberOf(email)).status).toBe('active');

    const again = await postConfirm(confirmUrl, {
      accept: 'text/html',
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(again.status).toBe(200);
    expect(await again.text()).toContain('already confirmed');
  });

  it('a browser following an invalid link gets an HTML error page, not JSON', async () => {
    const res = await h.request(`/confirm/${'B'.repeat(43)}`, {
      method: 'POST',
      headers: { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
  });

  it('an unsubscribed person who signs up again and confirms becomes active again', async () => {
    const { email, confirmUrl } = await pendingSubscriber(h, { topics: ['release'] });
    await postConfirm(confirmUrl);
    await h.deliver();
    const unsubscribeUrl = linkIn(lastMailTo(h, email).parsed.text ?? '', '/unsubscribe/');
    expect((await h.request(pathOf(unsubscribeUrl), { method: 'POST' })).status).toBe(200);
    const sub = await subscriberOf(email);
    expect(sub.status).toBe('unsubscribed');

    h.clock.advance(3600_000);
    expect((await postSignup(h, { email, topics: ['release', 'updates'] })).status).toBe(202);
    await h.deliver();
    const second = linkIn(lastMailTo(h, email).parsed.text ?? '', '/confirm/');
    expect(second).not.toBe(confirmUrl);
    expect((await subscriberOf(email)).status).toBe('unsubscribed'); // signing up alone re-subscribes nobody

    expect(await (await postConfirm(second)).json()).toEqual({ status: 'confirmed' });
    const after = await subscriberOf(email);
    expect(after.id).toBe(sub.id);
    expect(after.status).toBe('active');
    expect(await subscriptionsOf(sub.id)).toEqual([
      { topic: 'release', subscribed: true },
      { topic: 'updates', subscribed: true },
    ]);
    expect(
      await h.query(
        'select reason from suppressions s join subscribers u on u.email_hash = s.email_hash where u.id = $1',
        [sub.id],
      ),
    ).toEqual([]);
    const kinds = (await eventsOf(sub.id)).map((e) => e.kind);
    expect(kinds).toEqual(['requested', 'confirmed', 'unsubscribed', 'requested', 'confirmed']);

    const mails = h.smtp.to(email).length;
    await h.deliver();
    expect(h.smtp.to(email)).toHaveLength(mails + 1);
    expect(lastMailTo(h, email).parsed.subject).toMatch(/on the list/);
  });

  it('the confirmation mail itself carries no List-Unsubscribe (nothing to unsubscribe from yet)', async () => {
    const email = uniqueEmail();
    const { mail } = await pendingSubscriber(h, { email });
    expect(rawHeader(mail, 'List-Unsubscribe')).toBeUndefined();
    expect(mail.parsed.text).toContain('Quire Test Press');
  });
});

describe.each(databaseKinds)('outstanding confirmation links on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(kind);
  });
  afterAll(() => h?.close());

  // Regression: confirming spent only the clicked link, so an older mail's link could later undo an unsubscribe.
  it('are all spent by a confirmation and by an unsubscribe', async () => {
    const first = await pendingSubscriber(h);
    h.clock.advance(h.config.CONFIRM_COOLDOWN_SECONDS * 1000 + 1000);
    const second = await pendingSubscriber(h, { email: first.email });
    expect(second.confirmUrl).not.toBe(first.confirmUrl);
    await h.request(pathOf(second.confirmUrl), { method: 'POST', headers: { accept: 'application/json' } });
    const old = await h.request(pathOf(first.confirmUrl), { method: 'POST', headers: { accept: 'application/json' } });
    expect(await old.json()).toEqual({ status: 'already_confirmed' });

    const again = await pendingSubscriber(h);
    const [row] = await h.query<{ id: string }>('select id from subscribers where lower(email) = lower($1)', [
      again.email,
    ]);
    const { unsubscribe } = await import('../../src/core/unsubscribe.js');
    await unsubscribe(h.services, row!.id, {});
    await h.request(pathOf(again.confirmUrl), { method: 'POST', headers: { accept: 'application/json' } });
    const [after] = await h.query<{ status: string }>('select status from subscribers where id = $1', [row!.id]);
    expect(after!.status).toBe('unsubscribed');
  });
});
