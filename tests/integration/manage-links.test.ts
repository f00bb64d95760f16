import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activeSubscriber, lastMailTo, linkIn, pathOf, pendingSubscriber, uniqueEmail } from '../support/factories.js';
import { createHarness, databaseKinds, type Harness } from '../support/harness.js';

const ORIGIN = 'http://quire.test';
const HOUR = 3_600_000;

describe.each(databaseKinds)('links by email: "manage my subscription" and a fresh confirmation link on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(kind, { RATE_LIMIT_ADDRESS: '3' });
  });
  afterAll(() => h?.close());

  const postForm = (
    path: string,
    fields: Record<string, string>,
    headers: Record<string, string> = { origin: ORIGIN },
  ) =>
    h.request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', ...headers },
      body: new URLSearchParams(fields).toString(),
    });
  const deliveriesOf = (email: string, kindOf: string) =>
    h.query<{ id: string; status: string }>(
      'select d.id, d.status from deliveries d join subscribers s on s.id = d.subscriber_id where lower(s.email) = lower($1) and d.kind = $2',
      [email, kindOf],
    );
  const subscriberId = async (email: string) =>
    (await h.query<{ id: string }>('select id from subscribers where lower(email) = lower($1)', [email]))[0]!.id;

  /** The page body without anything that differs per request. */
  const comparable = async (res: Response) => (await res.text()).replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, 'ID');

  it('answers the same page for unknown, active, pending, unsubscribed and blocked addresses; only the eligible get a mail', async () => {
    const active = await activeSubscriber(h);
    const pending = await pendingSubscriber(h);
    const unsubscribed = await activeSubscriber(h);
    await h.request(pathOf(unsubscribed.unsubscribeUrl), {
      method: 'POST',
      body: 'List-Unsubscribe=One-Click',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    const bounced = await activeSubscriber(h);
    await h.query("update subscribers set status = 'bounced' where id = $1", [bounced.id]);
    await h.query(
      "insert into suppressions (email_hash, reason, at) select email_hash, 'hard_bounce', now() from subscribers where id = $1",
      [bounced.id],
    );
    const unknown = uniqueEmail('nobody');

    const pages = new Set<string>();
    for (const email of [unknown, active.email, pending.email, unsubscribed.email, bounced.email]) {
      const res = await postForm('/manage', { email });
      expect(res.status, email).toBe(200);
      pages.add(await comparable(res));
    }
    expect(pages.size).toBe(1);
    expect([...pages][0]).toContain('If that address is on our list, we&#39;ve sent it a link to your preferences.');

    for (const email of [active.email, pending.email, unsubscribed.email])
      expect(await deliveriesOf(email, 'preferences_link'), email).toHaveLength(1);
    expect(await deliveriesOf(bounced.email, 'preferences_link')).toHaveLength(0);
    expect(
      await h.query('select 1 from deliveries where kind = \'preferences_link\' and "to" = $1', [unknown]),
    ).toHaveLength(0);
    expect(h.logs.join('\n')).not.toContain(unknown);
  });

  it('the mail carries a working preferences link, no List-Unsubscribe, and goes through the outbox', async () => {
    const sub = await activeSubscriber(h);
    expect((await postForm('/manage', { email: sub.email.toUpperCase() })).status).toBe(200);
    const [queued] = await deliveriesOf(sub.email, 'preferences_link');
    expect(queued!.status).toBe('queued');
    await h.deliver();
    const mail = lastMailTo(h, sub.email);
    expect(mail.parsed.subject).toBe('Your link to manage your subscription to How Teams Think Before They Build');
    expect(mail.parsed.headers.has('list-unsubscribe')).toBe(false);
    expect(mail.parsed.text).toContain('Quire Test Press');
    const url = linkIn(mail.parsed.text ?? '', '/preferences/');
    const prefs = await h.request(`/v1${pathOf(url)}`);
    expect(prefs.status).toBe(200);
    expect((await prefs.json()).email).toBe(sub.email);
    expect((await deliveriesOf(sub.email, 'preferences_link'))[0]!.status).toBe('sent');
  });

  it('an invalid address gets the form back with the site’s message; a cross-site post is refused', async () => {
    const bad = await postForm('/manage', { email: 'not-an-address' });
    expect(bad.status).toBe(422);
    const html = await bad.text();
    expect(html).toContain('That doesn&#39;t look like a valid email. Please check and try again.');
    expect(html).toContain('aria-invalid="true"');
    expect(html).toContain('value="not-an-address"');

    const sub = await activeSubscriber(h);
    const forged = await postForm('/manage', { email: sub.email }, { origin: 'https://evil.example' });
    expect(forged.status).toBe(403);
    expect(await deliveriesOf(sub.email, 'preferences_link')).toHaveLength(0);
  });

  it('is rate limited per address whether or not the address is known, with Retry-After', async () => {
    for (const email of [uniqueEmail('limited'), (await activeSubscriber(h)).email]) {
      for (let i = 0; i < 3; i++) expect((await postForm('/manage', { email })).status).toBe(200);
      const limited = await postForm('/manage', { email });
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      // The same budget covers the other link form.
      expect((await postForm('/resend-confirmation', { email })).status).toBe(429);
    }
  });

  it('an expired confirmation link explains itself and offers a fresh one; only a pending address gets it', async () => {
    const pending = await pendingSubscriber(h, { topics: ['updates'] });
    const id = await subscriberId(pending.email);
    h.clock.advance(49 * HOUR);
    const expired = await h.request(pathOf(pending.confirmUrl), { headers: { accept: 'text/html' } });
    expect(expired.status).toBe(410);
    const page = await expired.text();
    expect(page).toContain('This link has expired');
    expect(page).toMatch(/<form[^>]*method="post"[^>]*action="\/resend-confirmation"/);

    const eventsBefore = await h.query('select kind from consent_events where subscriber_id = $1', [id]);
    const res = await postForm('/resend-confirmation', { email: pending.email });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain(
      'If that address is waiting for confirmation, we&#39;ve sent it a new confirmation link.',
    );
    await h.deliver();
    const fresh = linkIn(lastMailTo(h, pending.email).parsed.text ?? '', '/confirm/');
    expect(fresh).not.toBe(pending.confirmUrl);
    // Nothing new was agreed to: the ledger only gets the confirmation, with the original request's topics.
    expect(await h.query('select kind from consent_events where subscriber_id = $1', [id])).toEqual(eventsBefore);
    const confirmed = await h.request(pathOf(fresh), { method: 'POST', headers: { accept: 'application/json' } });
    expect(await confirmed.json()).toEqual({ status: 'confirmed' });
    const [event] = await h.query<{ topics: string[] }>(
      "select topics from consent_events where subscriber_id = $1 and kind = 'confirmed'",
      [id],
    );
    expect(event!.topics).toEqual(['updates']);

    // Now active: asking again sends nothing, with the same answer.
    const mails = h.smtp.to(pending.email).length;
    expect((await postForm('/resend-confirmation', { email: pending.email })).status).toBe(200);
    await h.deliver();
    expect(h.smtp.to(pending.email)).toHaveLength(mails + 1); // the welcome mail only
    expect(lastMailTo(h, pending.email).parsed.subject).toMatch(/on the list/);
  });

  it('holds a fresh confirmation link back during the cooldown', async () => {
    const pending = await pendingSubscriber(h);
    expect((await postForm('/resend-confirmation', { email: pending.email })).status).toBe(200);
    expect(await deliveriesOf(pending.email, 'confirmation')).toHaveLength(1);
    h.clock.advance(h.config.CONFIRM_COOLDOWN_SECONDS * 1000 + 1000);
    expect((await postForm('/resend-confirmation', { email: pending.email })).status).toBe(200);
    expect(await deliveriesOf(pending.email, 'confirmation')).toHaveLength(2);
  });

  it('a broken or used confirmation link gets a page, not JSON, in a browser', async () => {
    const broken = await h.request(`/confirm/${'A'.repeat(43)}`, { headers: { accept: 'text/html' } });
    expect(broken.status).toBe(404);
    expect(await broken.text()).toContain('This link does not work');
    const json = await h.request(`/confirm/${'A'.repeat(43)}`, { headers: { accept: 'application/json' } });
    expect((await json.json()).error.code).toBe('invalid_token');

    const pending = await pendingSubscriber(h);
    await h.request(pathOf(pending.confirmUrl), { method: 'POST', headers: { accept: 'application/json' } });
    const used = await h.request(pathOf(pending.confirmUrl), { headers: { accept: 'text/html' } });
    expect(used.status).toBe(200);
    const html = await used.text();
    expect(html).toContain('This link has already been used');
    expect(html).toContain('href="/manage"');
  });
});
