import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEXTS } from '../../src/core/texts.js';
import { signFormStamp } from '../../src/core/tokens.js';
import { lastMailTo, postSignup, postSignupForm, uniqueEmail } from '../support/factories.js';
import { createHarness, databaseKinds, type Harness, TEST_SECRET } from '../support/harness.js';

describe.each(databaseKinds)('signup on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(kind);
  });
  afterAll(() => h?.close());

  const subscriberRow = async (email: string) =>
    (
      await h.query<{ id: string; status: string; name: string | null; email: string }>(
        'select * from subscribers where lower(email) = lower($1)',
        [email],
      )
    )[0];

  it('queues a confirmation mail through the outbox and answers 202 pending', async () => {
    const email = uniqueEmail();
    const res = await postSignup(h, { email, name: 'Ada' });
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ status: 'pending' });
    expect((await subscriberRow(email))?.status).toBe('pending');
    expect(h.smtp.to(email)).toHaveLength(0); // nothing is sent inside the request
    const report = await h.deliver();
    expect(report.sent).toBeGreaterThanOrEqual(1);
    const mail = lastMailTo(h, email);
    expect(mail.parsed.subject).toMatch(/Confirm your subscription/);
    expect(mail.parsed.text).toContain('http://quire.test/confirm/');
    expect(mail.parsed.html).toContain('lang="en"');
    expect(mail.parsed.text).toContain('Quire Test Press');
  });

  it('answers the same body for new, pending, active and suppressed addresses', async () => {
    const active = uniqueEmail('active');
    await postSignup(h, { email: active });
    await h.deliver();
    await h.query("update subscribers set status = 'active' where lower(email) = lower($1)", [active]);
    const suppressed = uniqueEmail('suppressed');
    await postSignup(h, { email: suppressed });
    const row = await subscriberRow(suppressed);
    await h.query(
      `insert into suppressions (email_hash, reason) select email_hash, 'complaint' from subscribers where id = $1`,
      [row!.id],
    );
    const pending = uniqueEmail('pending');
    await postSignup(h, { email: pending });

    const bodies = [];
    for (const email of [uniqueEmail('new'), pending, active, suppressed]) {
      const res = await postSignup(h, { email });
      expect(res.status).toBe(202);
      bodies.push(await res.text());
    }
    expect(new Set(bodies).size).toBe(1);
  });

  it('never downgrades an active subscriber and sends them nothing', async () => {
    const email = uniqueEmail();
    await postSignup(h, { email });
    await h.deliver();
    await h.query("update subscribers set status = 'active' where lower(email) = lower($1)", [email]);
    const before = h.smtp.to(email).length;
    await postSignup(h, { email });
    await h.deliver();
    expect((await subscriberRow(email))?.status).toBe('active');
    expect(h.smtp.to(email)).toHaveLength(before);
  });

  it('mails a suppressed address nothing', async () => {
    const email = uniqueEmail();
    await postSignup(h, { email });
    await h.deliver();
    const row = await subscriberRow(email);
    await h.query(
      `insert into suppressions (email_hash, reason) select email_hash, 'hard_bounce' from subscribers where id = $1`,
      [row!.id],
    );
    h.clock.advance(3600_000);
    const before = h.smtp.to(email).length;
    expect((await postSignup(h, { email })).status).toBe(202);
    await h.deliver();
    expect(h.smtp.to(email)).toHaveLength(before);
  });

  it('sends a pending address at most one confirmation per cooldown', async () => {
    const email = uniqueEmail();
    await postSignup(h, { email });
    await postSignup(h, { email });
    await h.deliver();
    expect(h.smtp.to(email)).toHaveLength(1);
    h.clock.advance(h.config.CONFIRM_COOLDOWN_SECONDS * 1000 + 1000);
    await postSignup(h, { email });
    await h.deliver();
    expect(h.smtp.to(email)).toHaveLength(2);
  });

  it('treats addresses case-insensitively and stores the domain lower-cased', async () => {
    const local = `Mixed.${Date.now()}`;
    await postSignup(h, { email: `  ${local}@Example.COM ` });
    await postSignup(h, { email: `${local.toLowerCase()}@example.com` });
    const rows = await h.query<{ email: string }>('select email from subscribers where lower(email) = lower($1)', [
      `${local}@example.com`,
    ]);
    expect(rows).toEqual([{ email: `${local}@example.com` }]);
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['no at sign', 'reader.example.com'],
    ['no domain dot', 'reader@localhost'],
    ['two at signs', 'a@b@example.com'],
    ['space inside', 'read er@example.com'],
    ['leading dot', '.reader@example.com'],
    ['double dot', 'read..er@example.com'],
    ['numeric tld', 'reader@example.123'],
    ['hyphen label edge', 'reader@-example.com'],
    ['local part over 64', `${'a'.repeat(65)}@example.com`],
    ['over 254 octets', `reader@${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(60)}.com`],
    ['not a string', 42],
  ])('rejects an invalid email (%s) with 422 invalid_email and stores nothing', async (_label, email) => {
    const before = await h.query<{ n: number }>('select count(*)::int as n from subscribers');
    const res = await postSignup(h, { email: email as string });
    expect(res.status).toBe(422);
    const body = await res.json();
    expect(body.error).toMatchObject({ code: 'invalid_email', message: TEXTS.invalidEmail });
    expect(body.error.requestId).toBeTruthy();
    expect(await h.query<{ n: number }>('select count(*)::int as n from subscribers')).toEqual(before);
  });

  it('accepts an internationalised domain, stored in its A-label form', async () => {
    const local = `idn${Date.now()}`;
    expect((await postSignup(h, { email: `${local}@bücher.example` })).status).toBe(202);
    expect(await subscriberRow(`${local}@xn--bcher-kva.example`)).toBeTruthy();
  });

  it.each([
    ['missing', undefined],
    ['false', false],
    ['"false"', 'false'],
  ])('requires consent (%s): 422 consent_required', async (_label, consent) => {
    const res = await postSignup(h, { consent });
    expect(res.status).toBe(422);
    expect((await res.json()).error.code).toBe('consent_required');
  });

  it('rejects unknown topics and consent versions with field errors', async () => {
    const topic = await postSignup(h, { topics: ['release', 'gossip'] });
    expect(topic.status).toBe(422);
    expect((await topic.json()).error.code).toBe('unknown_topic');
    const version = await postSignup(h, { consent_version: 99 });
    expect(version.status).toBe(422);
    expect((await version.json()).error.code).toBe('unknown_consent_version');
  });

  it('records the requested topics, or the default-on ones, with the consent text version in the ledger', async () => {
    const email = uniqueEmail();
    await postSignup(h, { email, topics: ['release'], source: 'book-site' });
    const [event] = await h.query<{
      kind: string;
      topics: string[];
      consent_text_version: number;
      source: string;
      ip_hash: string;
    }>(
      `select e.* from consent_events e join subscribers s on s.id = e.subscriber_id where lower(s.email) = lower($1)`,
      [email],
    );
    expect(event).toMatchObject({
      kind: 'requested',
      topics: ['release'],
      consent_text_version: 1,
      source: 'book-site',
    });
    expect(event!.ip_hash).toMatch(/^[0-9a-f]{64}$/);

    const other = uniqueEmail();
    await postSignup(h, { email: other });
    const [defaults] = await h.query<{ topics: string[] }>(
      `select t.topics from confirm_tokens t join subscribers s on s.id = t.subscriber_id where lower(s.email) = lower($1)`,
      [other],
    );
    expect(defaults!.topics).toEqual(['release', 'updates']);
  });

  it('drops honeypot submissions silently with the same 202', async () => {
    const email = uniqueEmail();
    const res = await postSignup(h, { email, website: 'http://spam.example' });
    expect(res.status).toBe(202);
    expect(await subscriberRow(email)).toBeUndefined();
  });

  it('drops forms submitted faster than a person can fill them, and forged stamps', async () => {
    const fast = uniqueEmail();
    await postSignup(h, { email: fast, form_ts: signFormStamp(TEST_SECRET, h.clock.now()) });
    expect(await subscriberRow(fast)).toBeUndefined();
    const forged = uniqueEmail();
    await postSignup(h, { email: forged, form_ts: `${h.clock.now().getTime() - 60_000}.AAAAAAAAAAAAAAAA` });
    expect(await subscriberRow(forged)).toBeUndefined();
    const human = uniqueEmail();
    await postSignup(h, {
      email: human,
      form_ts: signFormStamp(TEST_SECRET, new Date(h.clock.now().getTime() - 10_000)),
    });
    expect(await subscriberRow(human)).toBeTruthy();
  });

  it('handles a plain HTML form post with a 303 to the thank-you page', async () => {
    const email = uniqueEmail();
    const res = await postSignupForm(h, { email, consent: 'on', topics: ['release', 'updates'] });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('http://quire.test/subscribed');
    expect(await subscriberRow(email)).toBeTruthy();
    const page = await h.request('/subscribed', { headers: { accept: 'text/html' } });
    expect(await page.text()).toContain(TEXTS.signupAcceptedTitle);
  });

  // Guards against a no-script signup with a bad address losing the address and the tick (issue 15, item 3).
  it('shows an HTML form with a bad address again, with what was typed, and no address in a URL', async () => {
    const res = await postSignupForm(h, { email: 'nope', consent: 'on', return_to: 'http://quire.test/' });
    expect(res.status).toBe(422);
    expect(res.headers.get('location')).toBeNull();
    const html = await res.text();
    expect(html).toContain('look like a valid email');
    expect(html).toMatch(/name="email"[^>]*value="nope"|value="nope"[^>]*name="email"/);
    expect(html).toMatch(/name="consent"[^>]*checked/);
    // A page on another site, not in ALLOWED_ORIGINS, is never a redirect target: quire's own page instead.
    const evil = await postSignupForm(h, { email: 'nope', consent: 'on', return_to: 'https://evil.example/form' });
    expect(evil.status).toBe(422);
    expect(evil.headers.get('location')).toBeNull();
    expect(await evil.text()).toContain('look like a valid email');
  });

  it('50 concurrent signups of one address make one subscriber and one mail', async () => {
    const email = uniqueEmail('race');
    const responses = await Promise.all(Array.from({ length: 50 }, () => postSignup(h, { email })));
    expect(responses.map((r) => r.status)).toEqual(Array(50).fill(202));
    await h.deliver();
    expect(await h.query('select id from subscribers where lower(email) = lower($1)', [email])).toHaveLength(1);
    expect(h.smtp.to(email)).toHaveLength(1);
  });
});

describe.each(databaseKinds)('signup rate limits on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(kind, { RATE_LIMIT_IP: '3', RATE_LIMIT_ADDRESS: '2' });
  });
  afterAll(() => h?.close());

  it('answers 429 with Retry-After past the per-IP limit', async () => {
    const ip = '198.51.100.20';
    for (let i = 0; i < 3; i++) expect((await postSignup(h, {}, { ip })).status).toBe(202);
    const res = await postSignup(h, {}, { ip });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await res.json()).error.code).toBe('rate_limited');
    expect((await postSignup(h, {}, { ip: '198.51.100.21' })).status).toBe(202);
    h.clock.advance(600_000);
    expect((await postSignup(h, {}, { ip })).status).toBe(202);
  });

  it('answers 429 past the per-address limit, whatever the address state', async () => {
    const email = uniqueEmail();
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await postSignup(h, { email }, { ip: `192.0.2.${i + 1}` })).status);
    expect(statuses).toEqual([202, 202, 429, 429]);
  });

  // Regression: the limits are now spent by the same statement that writes the signup; a refused one
  // must still write nothing else.
  it('a new address refused with 429 leaves no subscriber, token, mail or ledger event', async () => {
    const ip = '198.51.100.40';
    for (let i = 0; i < 3; i++) expect((await postSignup(h, {}, { ip })).status).toBe(202);
    await h.deliver();
    const counts = async () =>
      (
        await h.query<{ n: string }>(
          `select concat_ws(',', (select count(*) from subscribers), (select count(*) from confirm_tokens), (select count(*) from deliveries), (select count(*) from consent_events)) as n`,
        )
      )[0]!.n;
    const before = await counts();
    const email = uniqueEmail('refused');
    expect((await postSignup(h, { email }, { ip })).status).toBe(429);
    await h.deliver();
    expect(await counts()).toBe(before);
    expect(h.smtp.to(email)).toHaveLength(0);
  });
});
