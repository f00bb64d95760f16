import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subscriberLinks } from '../../src/core/links.js';
import { resubscribe } from '../../src/core/unsubscribe.js';
import { activeSubscriber, lastMailTo, pathOf, pendingSubscriber } from '../support/factories.js';
import { createHarness, databaseKinds, type Harness } from '../support/harness.js';
import type { ReceivedMail } from '../support/smtp-sink.js';

const DAY = 86_400_000;

const tokenOf = (url: string) => url.slice(url.lastIndexOf('/') + 1);

/** Every http(s) link a mail carries: text part, HTML hrefs and the List-Unsubscribe header. */
function linksIn(mail: ReceivedMail): string[] {
  const html = typeof mail.parsed.html === 'string' ? mail.parsed.html : '';
  const header =
    mail.parsed.headerLines.find((l) => l.key === 'list-unsubscribe')?.line.replace(/\r?\n[ \t]+/g, ' ') ?? '';
  const found = [
    ...(mail.parsed.text ?? '').matchAll(/https?:\/\/[^\s\]>"]+/g),
    ...html.matchAll(/href="(https?:\/\/[^"]+)"/g),
    ...header.matchAll(/<(https?:\/\/[^>]+)>/g),
  ].map((m) => (m[1] ?? m[0]).replace(/&amp;/g, '&'));
  return [...new Set(found)];
}

describe.each(databaseKinds)('unsubscribe (RFC 8058) on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(kind);
  });
  afterAll(() => h?.close());

  const statusOf = async (id: string) =>
    (await h.query<{ status: string }>('select status from subscribers where id = $1', [id]))[0]!.status;
  const eventKinds = async (id: string) =>
    (
      await h.query<{ kind: string }>('select kind from consent_events where subscriber_id = $1 order by seq', [id])
    ).map((e) => e.kind);
  const suppressionsOf = async (id: string) =>
    (
      await h.query<{ reason: string }>(
        'select s.reason from suppressions s join subscribers u on u.email_hash = s.email_hash where u.id = $1 order by s.reason',
        [id],
      )
    ).map((r) => r.reason);

  /** Everything a GET could conceivably change, as one comparable value. */
  async function snapshot() {
    const [subscribers, events, suppressions, subscriptions, tokens, deliveries] = await Promise.all([
      h.query('select id, status, name, confirmed_at, status_changed_at from subscribers order by id'),
      h.query<{ n: number; head: string | null }>(
        'select count(*)::int as n, max(seq)::text as head from consent_events',
      ),
      h.query('select email_hash, reason from suppressions order by email_hash, reason'),
      h.query('select subscriber_id, topic, subscribed, changed_at from subscriptions order by subscriber_id, topic'),
      h.query('select id, used_at from confirm_tokens order by id'),
      h.query('select id, status from deliveries order by id'),
    ]);
    return { subscribers, events, suppressions, subscriptions, tokens, deliveries };
  }

  const oneClick = (url: string, body: BodyInit, headers: Record<string, string> = {}) =>
    h.request(pathOf(url), { method: 'POST', body, headers });
  const urlencoded = () => ({
    body: 'List-Unsubscribe=One-Click',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });

  it('one-click POST (urlencoded) answers 200 with no redirect and no cookie, needing no Origin, Referer or cookie', async () => {
    const sub = await activeSubscriber(h, { topics: ['release', 'updates'] });
    const { body, headers } = urlencoded();
    const res = await oneClick(sub.unsubscribeUrl, body, headers);
    expect(res.status).toBe(200);
    expect(res.headers.get('location')).toBeNull();
    expect(res.headers.get('set-cookie')).toBeNull();

    expect(await statusOf(sub.id)).toBe('unsubscribed');
    expect(await eventKinds(sub.id)).toEqual(['requested', 'confirmed', 'unsubscribed']);
    const [event] = await h.query<{ topics: string[]; source: string }>(
      "select topics, source from consent_events where subscriber_id = $1 and kind = 'unsubscribed'",
      [sub.id],
    );
    expect(event).toEqual({ topics: ['release', 'updates'], source: 'one-click' });
    expect(await suppressionsOf(sub.id)).toEqual(['unsubscribed']);
  });

  it('one-click POST (multipart/form-data) unsubscribes the same way', async () => {
    const sub = await activeSubscriber(h);
    const form = new FormData();
    form.append('List-Unsubscribe', 'One-Click');
    const res = await oneClick(sub.unsubscribeUrl, form);
    expect(res.status).toBe(200);
    expect(res.headers.get('location')).toBeNull();
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(await statusOf(sub.id)).toBe('unsubscribed');
    expect(await eventKinds(sub.id)).toEqual(['requested', 'confirmed', 'unsubscribed']);
    expect(await suppressionsOf(sub.id)).toEqual(['unsubscribed']);
  });

  it('a cross-site POST from a mail provider is not refused (no CSRF or Origin check on one-click)', async () => {
    const sub = await activeSubscriber(h);
    const { body, headers } = urlencoded();
    const res = await oneClick(sub.unsubscribeUrl, body, {
      ...headers,
      origin: 'null',
      'sec-fetch-site': 'cross-site',
      'user-agent': 'GoogleOneClickUnsubscribe/1.0',
    });
    expect(res.status).toBe(200);
    expect(await statusOf(sub.id)).toBe('unsubscribed');
  });

  it('the URL in the List-Unsubscribe header is the one that works', async () => {
    const sub = await activeSubscriber(h);
    const header = sub.welcome.parsed.headerLines
      .find((l) => l.key === 'list-unsubscribe')!
      .line.replace(/\r?\n[ \t]+/g, ' ');
    const https = /<(https?:\/\/[^>]+)>/.exec(header)![1]!;
    const { body, headers } = urlencoded();
    expect((await oneClick(https, body, headers)).status).toBe(200);
    expect(await statusOf(sub.id)).toBe('unsubscribed');
  });

  it('is idempotent: a second POST answers 200 and the ledger still has exactly one unsubscribed event', async () => {
    const sub = await activeSubscriber(h);
    const { body, headers } = urlencoded();
    expect((await oneClick(sub.unsubscribeUrl, body, headers)).status).toBe(200);
    const after = await snapshot();
    h.clock.advance(DAY);
    const again = await oneClick(sub.unsubscribeUrl, body, { ...headers, accept: 'application/json' });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ status: 'unsubscribed' });
    expect((await eventKinds(sub.id)).filter((k) => k === 'unsubscribed')).toHaveLength(1);
    expect(await snapshot()).toEqual(after);
  });

  it('GET shows a page whose form posts the one-click body, and changes nothing', async () => {
    const sub = await activeSubscriber(h);
    const before = await snapshot();
    const res = await h.request(pathOf(sub.unsubscribeUrl), { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(page).toMatch(new RegExp(`<form[^>]*method="post"[^>]*action="${pathOf(sub.unsubscribeUrl)}"`));
    expect(page).toContain('name="List-Unsubscribe" value="One-Click"');
    expect(await snapshot()).toEqual(before);
    expect(await statusOf(sub.id)).toBe('active');
  });

  it('a GET-only link scanner visiting every link in the confirmation and welcome mails changes no row', async () => {
    const pending = await pendingSubscriber(h);
    const confirmLinks = linksIn(pending.mail);
    expect(confirmLinks.some((l) => l.includes('/confirm/'))).toBe(true);

    const scan = async (links: string[]) => {
      for (const link of links) {
        for (const method of ['GET', 'HEAD']) {
          const res = await h.request(pathOf(link), {
            method,
            headers: { accept: 'text/html', 'user-agent': 'LinkScanner/1.0' },
          });
          expect(res.status, `${method} ${pathOf(link)}`).toBe(200);
        }
      }
    };

    let before = await snapshot();
    await scan(confirmLinks);
    expect(await snapshot()).toEqual(before);
    const [pendingRow] = await h.query<{ status: string }>(
      'select status from subscribers where lower(email) = lower($1)',
      [pending.email],
    );
    expect(pendingRow!.status).toBe('pending');

    // The person confirms (POST); then the scanner sees the welcome mail.
    expect((await h.request(pathOf(pending.confirmUrl), { method: 'POST' })).status).toBe(200);
    await h.deliver();
    const welcome = lastMailTo(h, pending.email);
    const welcomeLinks = linksIn(welcome);
    expect(welcomeLinks.some((l) => l.includes('/unsubscribe/'))).toBe(true);
    expect(welcomeLinks.some((l) => l.includes('/preferences/'))).toBe(true);

    before = await snapshot();
    await scan([...welcomeLinks, ...confirmLinks]);
    expect(await snapshot()).toEqual(before);
    const [activeRow] = await h.query<{ status: string }>(
      'select status from subscribers where lower(email) = lower($1)',
      [pending.email],
    );
    expect(activeRow!.status).toBe('active');
  });

  it.each([
    ['a flipped MAC character', (t: string) => t.slice(0, -2) + (t.at(-2) === 'A' ? 'B' : 'A') + t.at(-1)],
    ['a flipped subscriber byte', (t: string) => t.slice(0, 5) + (t[5] === 'A' ? 'B' : 'A') + t.slice(6)],
    ['truncation', (t: string) => t.slice(0, 40)],
    ['an extra character', (t: string) => `${t}A`],
    ['random bytes', () => Buffer.alloc(38, 7).toString('base64url')],
  ])('a token forged by %s answers 404 in the error envelope and changes nothing', async (_label, forge) => {
    const sub = await activeSubscriber(h);
    const before = await snapshot();
    const bad = `/unsubscribe/${forge(tokenOf(sub.unsubscribeUrl))}`;
    for (const method of ['GET', 'POST']) {
      const res = await h.request(bad, {
        method,
        ...(method === 'POST' ? { body: 'List-Unsubscribe=One-Click' } : {}),
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      });
      expect(res.status).toBe(404);
      const body = await res.json();
      expect(body.error).toMatchObject({ code: 'invalid_token', requestId: expect.any(String) });
    }
    expect(await snapshot()).toEqual(before);
  });

  it('tokens are bound to their purpose: a preferences token on /unsubscribe is refused, and the reverse', async () => {
    const sub = await activeSubscriber(h);
    const res = await h.request(`/unsubscribe/${sub.preferencesToken}`, {
      method: 'POST',
      body: 'List-Unsubscribe=One-Click',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.status).toBe(404);
    expect((await res.json()).error.code).toBe('invalid_token');
    expect(await statusOf(sub.id)).toBe('active');

    const reverse = await h.request(`/v1/preferences/${tokenOf(sub.unsubscribeUrl)}`);
    expect(reverse.status).toBe(404);
    expect((await reverse.json()).error.code).toBe('invalid_token');
  });

  it('the unsubscribe token carries no email address', async () => {
    const sub = await activeSubscriber(h);
    const token = tokenOf(sub.unsubscribeUrl);
    const raw = Buffer.from(token, 'base64url');
    const [local, domain] = sub.email.split('@') as [string, string];
    for (const needle of [sub.email, sub.email.toLowerCase(), local, domain]) {
      expect(raw.includes(Buffer.from(needle, 'utf8'))).toBe(false);
      expect(raw.toString('latin1').toLowerCase()).not.toContain(needle.toLowerCase());
      expect(token.toLowerCase()).not.toContain(needle.toLowerCase());
    }
    const [row] = await h.query<{ email_hash: string }>('select email_hash from subscribers where id = $1', [sub.id]);
    expect(raw.toString('hex')).not.toContain(row!.email_hash.slice(0, 16));
  });

  it('links still work after 60 days', async () => {
    const sub = await activeSubscriber(h);
    h.clock.advance(61 * DAY);
    const prefs = await h.request(`/v1/preferences/${sub.preferencesToken}`);
    expect(prefs.status).toBe(200);
    const page = await h.request(pathOf(sub.unsubscribeUrl), { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    const { body, headers } = urlencoded();
    expect((await oneClick(sub.unsubscribeUrl, body, headers)).status).toBe(200);
    expect(await statusOf(sub.id)).toBe('unsubscribed');
  });

  it('after unsubscribing nothing more is sent: a welcome queued earlier is skipped at delivery time', async () => {
    const pending = await pendingSubscriber(h);
    expect((await h.request(pathOf(pending.confirmUrl), { method: 'POST' })).status).toBe(200);
    const [row] = await h.query<{ id: string }>('select id from subscribers where lower(email) = lower($1)', [
      pending.email,
    ]);
    const [queued] = await h.query<{ id: string; status: string }>(
      "select id, status from deliveries where subscriber_id = $1 and kind = 'welcome'",
      [row!.id],
    );
    expect(queued!.status).toBe('queued');

    // The same link the welcome mail would carry.
    const { unsubscribeUrl } = subscriberLinks(h.services, row!.id, h.clock.now());
    const { body, headers } = urlencoded();
    expect((await oneClick(unsubscribeUrl, body, headers)).status).toBe(200);

    const mails = h.smtp.to(pending.email).length;
    const report = await h.deliver();
    expect(report.skipped).toBeGreaterThanOrEqual(1);
    expect(h.smtp.to(pending.email)).toHaveLength(mails);
    const [after] = await h.query<{ status: string }>('select status from deliveries where id = $1', [queued!.id]);
    expect(after!.status).toBe('skipped');
  });

  it('core resubscribe brings an unsubscribed subscriber back with a resubscribed ledger event', async () => {
    const sub = await activeSubscriber(h, { topics: ['updates'] });
    const { body, headers } = urlencoded();
    await oneClick(sub.unsubscribeUrl, body, headers);
    expect(await suppressionsOf(sub.id)).toEqual(['unsubscribed']);

    h.clock.advance(DAY);
    expect(await resubscribe(h.services, sub.id, { ip: '198.51.100.9', userAgent: 'Mozilla/5.0' })).toBe(
      'resubscribed',
    );
    expect(await statusOf(sub.id)).toBe('active');
    expect(await suppressionsOf(sub.id)).toEqual([]);
    expect(await eventKinds(sub.id)).toEqual(['requested', 'confirmed', 'unsubscribed', 'resubscribed']);
    const [event] = await h.query<{ topics: string[]; source: string; ip_hash: string; occurred_at: Date }>(
      "select topics, source, ip_hash, occurred_at from consent_events where subscriber_id = $1 and kind = 'resubscribed'",
      [sub.id],
    );
    expect(event).toMatchObject({ topics: ['updates'], source: 'unsubscribe-page' });
    expect(event!.ip_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(new Date(event!.occurred_at).toISOString()).toBe(h.clock.now().toISOString());

    // Nothing to do for someone already active, or for someone who never confirmed.
    expect(await resubscribe(h.services, sub.id, {})).toBe('unchanged');
    const pending = await pendingSubscriber(h);
    const [p] = await h.query<{ id: string }>('select id from subscribers where lower(email) = lower($1)', [
      pending.email,
    ]);
    expect(await resubscribe(h.services, p!.id, {})).toBe('unchanged');
    expect(await eventKinds(p!.id)).toEqual(['requested']);
  });
});
