import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveKey, hmac } from '../../src/core/crypto.js';
import { type LinkPurpose, linkTokenTtlDays, signLinkToken } from '../../src/core/tokens.js';
import { activeSubscriber, pathOf, pendingSubscriber, postSignup } from '../support/factories.js';
import { createHarness, databaseKinds, type Harness, TEST_SECRET } from '../support/harness.js';
import { checkAnswer, tableCounts } from './support.js';

/**
 * Tokens at the HTTP surface: forged, truncated, bit-flipped, reused, expired and swapped between
 * purposes. The promise under test: a link opens exactly one subscriber's data for exactly one purpose,
 * and anything else is a 404 (or a 410 for a genuine but expired link) that reveals nobody.
 * tests/unit/tokens.test.ts covers the codec itself; this covers the routes.
 */

const DAY = 86_400_000;
const ORIGIN = 'http://quire.test';
const FORM = 'application/x-www-form-urlencoded';
const tokenOf = (url: string) => url.slice(url.lastIndexOf('/') + 1);

type Sub = Awaited<ReturnType<typeof activeSubscriber>>;

describe.each(databaseKinds)('tokens at the routes on %s', (kind) => {
  let h: Harness;
  let a: Sub;
  let b: Sub;

  beforeAll(async () => {
    h = await createHarness(kind);
    a = await activeSubscriber(h, { name: 'Alice Anchorage' });
    b = await activeSubscriber(h, { name: 'Bob Bellweather' });
  });
  afterAll(() => h?.close());

  /** Everything a token could change for A and B, as one comparable value. */
  const stateOf = () =>
    h.query(
      `select s.id, s.email, s.name, s.status, s.status_changed_at,
              (select count(*)::int from consent_events e where e.subscriber_id = s.id) as events,
              (select string_agg(t.topic || ':' || t.subscribed, ',' order by t.topic) from subscriptions t where t.subscriber_id = s.id) as topics
         from subscribers s where s.id in ($1, $2) order by s.email`,
      [a.id, b.id],
    );

  /** Every route a preferences or unsubscribe token opens, as the request that link would make. */
  const preferenceRoutes = (t: string): [string, string, RequestInit][] => [
    ['GET /v1/preferences', `/v1/preferences/${t}`, {}],
    ['GET export', `/v1/preferences/${t}/export`, {}],
    [
      'PUT /v1/preferences',
      `/v1/preferences/${t}`,
      { method: 'PUT', body: '{"name":"Mallory","topics":[]}', headers: { 'content-type': 'application/json' } },
    ],
    [
      'POST erase',
      `/v1/preferences/${t}/erase`,
      { method: 'POST', body: '{"confirm":true}', headers: { 'content-type': 'application/json' } },
    ],
    ['GET page', `/preferences/${t}`, { headers: { accept: 'text/html' } }],
    [
      'POST page',
      `/preferences/${t}`,
      { method: 'POST', body: 'intent=unsubscribe_all', headers: { 'content-type': FORM, origin: ORIGIN } },
    ],
  ];
  const unsubscribeRoutes = (t: string): [string, string, RequestInit][] => [
    [
      'POST one-click',
      `/unsubscribe/${t}`,
      { method: 'POST', body: 'List-Unsubscribe=One-Click', headers: { 'content-type': FORM } },
    ],
    ['GET unsubscribe page', `/unsubscribe/${t}`, { headers: { accept: 'text/html' } }],
    [
      'POST resubscribe',
      `/unsubscribe/${t}/resubscribe`,
      { method: 'POST', body: '', headers: { 'content-type': FORM, origin: ORIGIN } },
    ],
  ];

  /** The answer, checked: the expected status, and no trace of either subscriber in it. */
  async function refused(label: string, path: string, init: RequestInit, statuses = [404]) {
    const res = await h.request(path, {
      ...init,
      headers: { accept: 'application/json', ...(init.headers as Record<string, string>) },
    });
    const { status, text } = await checkAnswer(res, label);
    expect(statuses, `${label} ${path} → ${status}`).toContain(status);
    for (const who of [a, b]) {
      expect(text.toLowerCase()).not.toContain(who.email.toLowerCase());
      expect(text).not.toContain(who.id);
    }
    expect(text).not.toMatch(/Alice|Bob|Anchorage|Bellweather/);
    return text;
  }

  /** Flip the given bits of the token's bytes and re-encode it (canonically: it parses, but it is not A's). */
  const flip = (token: string, bits: number[]) => {
    const raw = Buffer.from(token, 'base64url');
    for (const bit of bits) raw[bit >> 3] = raw[bit >> 3]! ^ (1 << (bit & 7));
    return raw.toString('base64url');
  };

  it("flipping any bits of A's preferences token never opens or changes anyone (property)", async () => {
    const before = await stateOf();
    const counts = await tableCounts(h);
    const bits = Buffer.from(a.preferencesToken, 'base64url').length * 8;
    const routes = preferenceRoutes('TOKEN');
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.nat({ max: bits - 1 }), { minLength: 1, maxLength: 4 }),
        fc.nat({ max: routes.length - 1 }),
        async (flips, r) => {
          const forged = flip(a.preferencesToken, flips);
          const [label, path, init] = preferenceRoutes(forged)[r]!;
          await refused(label, path, init);
        },
      ),
      { numRuns: 200 },
    );
    expect(await stateOf()).toEqual(before);
    expect(await tableCounts(h)).toEqual(counts);
  });

  it("flipping any bits of A's unsubscribe token never unsubscribes or resubscribes anyone (property)", async () => {
    const before = await stateOf();
    const counts = await tableCounts(h);
    const bits = Buffer.from(tokenOf(a.unsubscribeUrl), 'base64url').length * 8;
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.nat({ max: bits - 1 }), { minLength: 1, maxLength: 4 }),
        fc.nat({ max: 2 }),
        async (flips, r) => {
          const [label, path, init] = unsubscribeRoutes(flip(tokenOf(a.unsubscribeUrl), flips))[r]!;
          await refused(label, path, init);
        },
      ),
      { numRuns: 150 },
    );
    expect(await stateOf()).toEqual(before);
    expect(await tableCounts(h)).toEqual(counts);
  });

  it('every truncation, extension and one-character change of a real token is refused', async () => {
    const before = await stateOf();
    const token = a.preferencesToken;
    const variants = new Set<string>();
    for (let n = 0; n < token.length; n++) variants.add(token.slice(0, n));
    for (const extra of ['A', 'AA', '-', '_', '=', '==', '%3D', '.', token]) variants.add(token + extra);
    for (let i = 0; i < token.length; i++) {
      const c = token[i]!;
      variants.add(token.slice(0, i) + (c === 'A' ? 'B' : 'A') + token.slice(i + 1));
      if (c.toLowerCase() !== c.toUpperCase())
        variants.add(
          token.slice(0, i) + (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()) + token.slice(i + 1),
        );
    }
    variants.delete(token);
    variants.delete('');
    for (const v of variants)
      await refused('GET /v1/preferences', `/v1/preferences/${encodeURIComponent(v)}`, {}, [404, 422]);
    expect(await stateOf()).toEqual(before);
  });

  it("B's id cannot be put into a token without the secret", async () => {
    const before = await stateOf();
    const raw = Buffer.from(a.preferencesToken, 'base64url');
    const bId = Buffer.from(b.id.replace(/-/g, ''), 'hex');
    const spliced = Buffer.from(raw);
    bId.copy(spliced, 2); // A's MAC over B's id
    const otherSecret = signLinkToken('a-different-secret-key-0123456789abcdef', 'preferences', b.id, h.clock.now());
    const fromUnsubscribe = Buffer.from(tokenOf(b.unsubscribeUrl), 'base64url');
    fromUnsubscribe[1] = 2; // relabelled as a preferences token, unsubscribe MAC kept
    const wrongVersion = Buffer.from(tokenOf(b.preferencesUrl), 'base64url');
    wrongVersion[0] = 2;
    const zeroMac = Buffer.from(tokenOf(b.preferencesUrl), 'base64url');
    zeroMac.fill(0, 22);
    // A MAC computed with the right secret but the wrong purpose key (as if the key derivation were shared).
    const payload = Buffer.from(tokenOf(b.preferencesUrl), 'base64url').subarray(0, 22);
    const wrongKey = Buffer.concat([
      payload,
      hmac(deriveKey(TEST_SECRET, 'link:unsubscribe'), payload).subarray(0, 16),
    ]);
    for (const forged of [spliced, fromUnsubscribe, wrongVersion, zeroMac, wrongKey]
      .map((x) => x.toString('base64url'))
      .concat(otherSecret)) {
      for (const [label, path, init] of preferenceRoutes(forged)) await refused(label, path, init);
    }
    expect(await stateOf()).toEqual(before);
    // The genuine link still works: the refusals above were not an outage.
    expect((await h.request(`/v1/preferences/${tokenOf(b.preferencesUrl)}`)).status).toBe(200);
  });

  it('a token only works for its own purpose: confirmation, unsubscribe and preferences tokens are not interchangeable', async () => {
    const pending = await pendingSubscriber(h);
    const [row] = await h.query<{ id: string }>('select id from subscribers where lower(email) = lower($1)', [
      pending.email,
    ]);
    const confirmToken = tokenOf(pending.confirmUrl);
    // Link tokens signed for the pending subscriber, as a mail could never carry them yet.
    const pendingUnsubscribe = signLinkToken(TEST_SECRET, 'unsubscribe', row!.id, h.clock.now());
    const pendingPreferences = signLinkToken(TEST_SECRET, 'preferences', row!.id, h.clock.now());
    const before = await stateOf();
    const counts = await tableCounts(h);

    const tokens: Record<string, string> = {
      confirm: confirmToken,
      unsubscribe: tokenOf(a.unsubscribeUrl),
      preferences: a.preferencesToken,
      'pending unsubscribe': pendingUnsubscribe,
      'pending preferences': pendingPreferences,
    };
    const routes: Record<string, (t: string) => [string, RequestInit]> = {
      confirm: (t) => [`/confirm/${t}`, { method: 'POST' }],
      unsubscribe: (t) => [
        `/unsubscribe/${t}`,
        { method: 'POST', body: 'List-Unsubscribe=One-Click', headers: { 'content-type': FORM } },
      ],
      resubscribe: (t) => [
        `/unsubscribe/${t}/resubscribe`,
        { method: 'POST', body: '', headers: { 'content-type': FORM, origin: ORIGIN } },
      ],
      preferences: (t) => [`/v1/preferences/${t}`, {}],
      'preferences page': (t) => [`/preferences/${t}`, { headers: { accept: 'text/html' } }],
    };
    const fits: Record<string, string[]> = {
      confirm: ['confirm'],
      unsubscribe: ['unsubscribe', 'resubscribe'],
      preferences: ['preferences', 'preferences page'],
      'pending unsubscribe': ['unsubscribe', 'resubscribe'],
      'pending preferences': ['preferences', 'preferences page'],
    };
    for (const [tokenName, token] of Object.entries(tokens)) {
      for (const [routeName, route] of Object.entries(routes)) {
        if (fits[tokenName]!.includes(routeName)) continue;
        const [path, init] = route(token);
        const res = await h.request(path, {
          ...init,
          headers: { accept: 'application/json', ...(init.headers as Record<string, string>) },
        });
        const { status, json } = await checkAnswer(res, `${tokenName} token at ${routeName}`);
        expect(status, `${tokenName} token at ${routeName}`).toBe(404);
        if (json) expect(json.error?.code).toBe('invalid_token');
      }
    }
    expect(await stateOf()).toEqual(before);
    expect(await tableCounts(h)).toEqual(counts);
    const [still] = await h.query<{ status: string }>('select status from subscribers where id = $1', [row!.id]);
    expect(still!.status).toBe('pending');
    // The right pairing still confirms: the refusals were about purpose, not a broken token.
    const ok = await h.request(pathOf(pending.confirmUrl), { method: 'POST', headers: { accept: 'application/json' } });
    expect(await ok.json()).toEqual({ status: 'confirmed' });
  });

  it('expired links answer 410 on every route and change nothing; a day earlier they work', async () => {
    const c = await activeSubscriber(h, { name: 'Carol Expiry' });
    const now = h.clock.now().getTime();
    const at = (purpose: LinkPurpose, ageMs: number) =>
      signLinkToken(TEST_SECRET, purpose, c.id, new Date(now - ageMs));
    const ttl = (purpose: LinkPurpose) => linkTokenTtlDays[purpose] * DAY;
    const [before] = await h.query('select status, name, status_changed_at from subscribers where id = $1', [c.id]);

    for (const [label, path, init] of preferenceRoutes(at('preferences', ttl('preferences') + 1000))) {
      const res = await h.request(path, {
        ...init,
        headers: { accept: 'application/json', ...(init.headers as Record<string, string>) },
      });
      const { status, json } = await checkAnswer(res, label);
      expect(status, label).toBe(410);
      if (json) expect(json.error?.code).toBe('token_expired');
    }
    for (const [label, path, init] of unsubscribeRoutes(at('unsubscribe', ttl('unsubscribe') + 1000))) {
      const res = await h.request(path, {
        ...init,
        headers: { accept: 'application/json', ...(init.headers as Record<string, string>) },
      });
      expect((await checkAnswer(res, label)).status, label).toBe(410);
    }
    const [after] = await h.query('select status, name, status_changed_at from subscribers where id = $1', [c.id]);
    expect(after).toEqual(before);

    expect((await h.request(`/v1/preferences/${at('preferences', ttl('preferences') - DAY)}`)).status).toBe(200);
    expect(
      (
        await h.request(`/unsubscribe/${at('unsubscribe', ttl('unsubscribe') - DAY)}`, {
          headers: { accept: 'text/html' },
        })
      ).status,
    ).toBe(200);
  });

  it('after erasure every old link is dead, and never opens the person who signs up with the address again', async () => {
    const d = await activeSubscriber(h, { name: 'Dana Erased' });
    const confirmUrlBefore = await (async () => {
      // An outstanding confirmation link too (a second signup after the cooldown).
      h.clock.advance(h.config.CONFIRM_COOLDOWN_SECONDS * 1000 + 1000);
      await h.request(`/v1/preferences/${d.preferencesToken}`, {
        method: 'PUT',
        body: '{"unsubscribe_all":true}',
        headers: { 'content-type': 'application/json' },
      });
      expect((await postSignup(h, { email: d.email })).status).toBe(202);
      await h.deliver();
      const mails = h.smtp.to(d.email);
      const text = mails[mails.length - 1]!.parsed.text ?? '';
      return /https?:\/\/\S+\/confirm\/[A-Za-z0-9_-]+/.exec(text)![0];
    })();
    const erase = await h.request(`/v1/preferences/${d.preferencesToken}/erase`, {
      method: 'POST',
      body: '{"confirm":true}',
      headers: { 'content-type': 'application/json' },
    });
    expect(await erase.json()).toEqual({ status: 'erased' });

    // The same address signs up again and confirms: a new subscriber.
    h.clock.advance(3600_000);
    const fresh = await activeSubscriber(h, { email: d.email, name: 'Dana Again' });
    expect(fresh.id).not.toBe(d.id);

    const routes = [
      ...preferenceRoutes(d.preferencesToken),
      ...unsubscribeRoutes(tokenOf(d.unsubscribeUrl)),
      ['POST old confirm', pathOf(confirmUrlBefore), { method: 'POST' }] as [string, string, RequestInit],
    ];
    for (const [label, path, init] of routes) {
      const res = await h.request(path, {
        ...init,
        headers: { accept: 'application/json', ...(init.headers as Record<string, string>) },
      });
      const { status, text } = await checkAnswer(res, label);
      // One-click unsubscribe (RFC 8058) and erasure are idempotent: 200 for someone long gone, revealing nothing.
      const expected = ['POST one-click', 'GET unsubscribe page', 'POST erase'].includes(label) ? [200] : [404];
      expect(expected, `${label} → ${status}`).toContain(status);
      if (label === 'POST erase') expect(JSON.parse(text)).toEqual({ status: 'already_erased' });
      expect(text.toLowerCase()).not.toContain(d.email.toLowerCase());
      expect(text).not.toContain('Dana');
    }
    const [row] = await h.query<{ status: string; name: string }>(
      'select status, name from subscribers where id = $1',
      [fresh.id],
    );
    expect(row).toEqual({ status: 'active', name: 'Dana Again' });
    const [old] = await h.query<{ status: string; email: string | null }>(
      'select status, email from subscribers where id = $1',
      [d.id],
    );
    expect(old).toEqual({ status: 'erased', email: null });
  });
});
