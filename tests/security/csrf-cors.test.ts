import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activeSubscriber, pathOf, pendingSubscriber } from '../support/factories.js';
import { createHarness, databaseKinds, type Harness } from '../support/harness.js';
import { checkAnswer, tableCounts } from './support.js';

/**
 * Cross-site requests at the HTTP level (tests/browser/cross-site.test.ts drives a real browser through
 * the same attacks). Every state-changing form endpoint but RFC 8058 one-click unsubscribe is same-origin
 * only (hono/csrf: Origin must be PUBLIC_URL's, or Sec-Fetch-Site must be same-origin); the JSON
 * endpoints need application/json, which no cross-site form can send and no preflight is granted for.
 * CORS headers go to ALLOWED_ORIGINS on POST /v1/subscriptions and nowhere else.
 */

const ORIGIN = 'http://quire.test';
const ALLOWED = 'https://book.example';

/** What a browser sends when a page elsewhere posts a form here (or what an attacker hopes passes). */
const CROSS_SITE: [string, Record<string, string>][] = [
  ['another site', { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }],
  ['another site, no Sec-Fetch-Site', { origin: 'https://evil.example' }],
  ['the allowed signup origin', { origin: ALLOWED, 'sec-fetch-site': 'cross-site' }],
  ['an opaque origin (sandboxed frame, data: URL)', { origin: 'null' }],
  ['a look-alike host', { origin: 'http://quire.test.evil.example' }],
  ['the same host over https', { origin: 'https://quire.test' }],
  ['the same host on another port', { origin: 'http://quire.test:8080' }],
  ['a sibling subdomain (same-site)', { 'sec-fetch-site': 'same-site' }],
  ['no Origin, Sec-Fetch-Site cross-site', { 'sec-fetch-site': 'cross-site' }],
  ['no Origin, only a same-origin Referer', { referer: `${ORIGIN}/preferences/x` }],
  ['no Origin at all', {}],
];
const FORM_TYPES = ['application/x-www-form-urlencoded', 'multipart/form-data; boundary=b', 'text/plain'];

const encode = (type: string, fields: Record<string, string>) =>
  type.startsWith('multipart')
    ? `${Object.entries(fields)
        .map(([k, v]) => `--b\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`)
        .join('')}--b--\r\n`
    : type === 'text/plain'
      ? Object.entries(fields)
          .map(([k, v]) => `${k}=${v}`)
          .join('\r\n')
      : new URLSearchParams(fields).toString();

describe.each(databaseKinds)('cross-site form posts on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(kind, { ALLOWED_ORIGINS: ALLOWED });
  });
  afterAll(() => h?.close());

  /** Everything a cross-site post could change: every table, the subscribers' rows, and mail sent. */
  async function world() {
    await h.deliver();
    return {
      counts: await tableCounts(h),
      subscribers: await h.query('select id, status, name, status_changed_at from subscribers order by id'),
      subscriptions: await h.query('select subscriber_id, topic, subscribed from subscriptions order by 1, 2'),
      mails: h.smtp.messages.length,
    };
  }

  it('are refused (403) on the preference centre, erase, resubscribe, /manage and /resend-confirmation, and change nothing', async () => {
    const active = await activeSubscriber(h, { name: 'Victor Victim' });
    const unsubscribed = await activeSubscriber(h);
    await h.request(pathOf(unsubscribed.unsubscribeUrl), {
      method: 'POST',
      body: 'List-Unsubscribe=One-Click',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    const pending = await pendingSubscriber(h);
    h.clock.advance(h.config.CONFIRM_COOLDOWN_SECONDS * 1000 + 1000); // a resend would be due

    const targets: [string, string, Record<string, string>][] = [
      ['preferences: save', pathOf(active.preferencesUrl), { intent: 'save', topics: 'release', name: 'Mallory' }],
      ['preferences: unsubscribe all', pathOf(active.preferencesUrl), { intent: 'unsubscribe_all' }],
      ['preferences: erase', pathOf(active.preferencesUrl), { intent: 'erase', confirm: 'true' }],
      ['preferences: erase request', pathOf(active.preferencesUrl), { intent: 'erase_request' }],
      ['preferences: resubscribe', pathOf(unsubscribed.preferencesUrl), { intent: 'resubscribe' }],
      ['resubscribe from the unsubscribe page', `${pathOf(unsubscribed.unsubscribeUrl)}/resubscribe`, {}],
      ['manage: a preferences link by mail', '/manage', { email: active.email }],
      ['resend a confirmation link', '/resend-confirmation', { email: pending.email }],
    ];
    const before = await world();
    for (const [target, path, fields] of targets) {
      for (const [who, headers] of CROSS_SITE) {
        for (const type of FORM_TYPES) {
          for (const accept of ['text/html', 'application/json']) {
            const res = await h.request(path, {
              method: 'POST',
              body: encode(type, fields),
              headers: { 'content-type': type, accept, ...headers },
            });
            const { status, json } = await checkAnswer(res, `${target} from ${who} as ${type}`);
            expect(status, `${target} from ${who} as ${type}`).toBe(403);
            if (json) expect(json.error?.code).toBe('forbidden');
          }
        }
      }
    }
    expect(await world()).toEqual(before);

    // The same posts from our own pages work: the refusals were about the origin.
    const own = await h.request(pathOf(active.preferencesUrl), {
      method: 'POST',
      body: 'intent=save&topics=release',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: ORIGIN },
    });
    expect(own.status).toBe(303);
    const fetchMeta = await h.request(`${pathOf(unsubscribed.unsubscribeUrl)}/resubscribe`, {
      method: 'POST',
      body: '',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
    });
    expect(fetchMeta.status).toBe(200);
    const [row] = await h.query<{ status: string }>('select status from subscribers where id = $1', [unsubscribed.id]);
    expect(row!.status).toBe('active');
  });

  it('the JSON preference API takes no form body from anywhere (415), and grants no CORS preflight', async () => {
    const sub = await activeSubscriber(h);
    const before = await world();
    const routes: [string, string, Record<string, string>][] = [
      ['PUT', `/v1/preferences/${sub.preferencesToken}`, { unsubscribe_all: 'true', name: 'Mallory' }],
      ['POST', `/v1/preferences/${sub.preferencesToken}/erase`, { confirm: 'true' }],
    ];
    for (const [method, path, fields] of routes) {
      for (const [who, headers] of CROSS_SITE) {
        for (const type of FORM_TYPES) {
          const res = await h.request(path, {
            method,
            body: encode(type, fields),
            headers: { 'content-type': type, accept: 'application/json', ...headers },
          });
          const { status, json } = await checkAnswer(res, `${method} ${path} from ${who} as ${type}`);
          expect(status).toBe(415);
          expect(json?.error?.code).toBe('unsupported_media_type');
          expect(res.headers.get('access-control-allow-origin')).toBeNull();
        }
      }
      // A cross-site fetch with application/json needs a preflight first: it is never granted.
      for (const origin of ['https://evil.example', ALLOWED, 'null']) {
        const preflight = await h.request(path, {
          method: 'OPTIONS',
          headers: {
            origin,
            'access-control-request-method': method,
            'access-control-request-headers': 'content-type',
          },
        });
        expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
        expect(preflight.headers.get('access-control-allow-methods')).toBeNull();
      }
    }
    expect(await world()).toEqual(before);
  });
});

describe.each(databaseKinds)('CORS on %s', (kind) => {
  let h: Harness;
  let closed: Harness;
  let token: string;
  let unsubscribeToken: string;
  beforeAll(async () => {
    h = await createHarness(kind, { ALLOWED_ORIGINS: `${ALLOWED}, https://www.book.example` });
    closed = await createHarness(kind);
    const sub = await activeSubscriber(h);
    token = sub.preferencesToken;
    unsubscribeToken = sub.unsubscribeUrl.split('/').pop()!;
  });
  afterAll(async () => {
    await h?.close();
    await closed?.close();
  });

  const everyOtherRoute = (): [string, string, RequestInit][] => [
    ['GET', '/healthz', {}],
    ['GET', '/readyz', {}],
    ['GET', '/openapi.json', {}],
    ['GET', '/v1/signup-form', {}],
    ['GET', `/v1/preferences/${token}`, {}],
    ['GET', `/v1/preferences/${token}/export`, {}],
    ['PUT', `/v1/preferences/${token}`, { body: '{}', headers: { 'content-type': 'application/json' } }],
    ['POST', `/v1/preferences/${token}/erase`, { body: '{}', headers: { 'content-type': 'application/json' } }],
    ['GET', `/preferences/${token}`, {}],
    ['GET', `/unsubscribe/${unsubscribeToken}`, {}],
    ['POST', '/confirm/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', {}],
    ['GET', '/manage', {}],
    ['POST', '/webhooks/bounces', { body: '{}', headers: { 'content-type': 'application/json' } }],
    ['GET', '/admin/v1/stats', {}],
    ['GET', '/admin/v1/subscribers', { headers: { authorization: 'Bearer test-admin-token-0123456789' } }],
    [
      'POST',
      '/admin/v1/broadcasts',
      {
        body: '{}',
        headers: { 'content-type': 'application/json', authorization: 'Bearer test-admin-token-0123456789' },
      },
    ],
  ];

  it('an allowed origin gets CORS headers on POST /v1/subscriptions only, and never credentials', async () => {
    const signup = await h.request('/v1/subscriptions', {
      method: 'POST',
      headers: { origin: ALLOWED, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ email: 'cors.reader@example.com', consent: true }),
    });
    expect(signup.status).toBe(202);
    expect(signup.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(signup.headers.get('access-control-allow-credentials')).toBeNull();

    for (const [method, path, init] of everyOtherRoute()) {
      for (const m of [method, 'OPTIONS']) {
        const headers = {
          ...(init.headers as Record<string, string>),
          origin: ALLOWED,
          ...(m === 'OPTIONS' ? { 'access-control-request-method': method } : {}),
        };
        const res = await h.request(path, { ...(m === 'OPTIONS' ? {} : init), method: m, headers });
        expect(res.status, `${m} ${path}`).toBeLessThan(500);
        expect(res.headers.get('access-control-allow-origin'), `${m} ${path}`).toBeNull();
        expect(res.headers.get('access-control-allow-credentials'), `${m} ${path}`).toBeNull();
      }
    }
  });

  it('no origin outside ALLOWED_ORIGINS ever gets an Access-Control-Allow-Origin (property)', async () => {
    const origins = fc.oneof(
      fc.webUrl().map((u) => new URL(u).origin),
      fc.constantFrom(
        'https://BOOK.example',
        'https://book.example.',
        'https://book.example:443',
        'http://book.example',
        'https://book.example.evil.example',
        'https://evilbook.example',
        'null',
        '*',
        '',
        'https://book.example, https://evil.example',
        'https://www.book.example.evil.example',
      ),
    );
    await fc.assert(
      fc.asyncProperty(origins, fc.boolean(), async (origin, preflight) => {
        fc.pre(origin !== ALLOWED && origin !== 'https://www.book.example');
        const res = preflight
          ? await h.request('/v1/subscriptions', {
              method: 'OPTIONS',
              headers: {
                origin,
                'access-control-request-method': 'POST',
                'access-control-request-headers': 'content-type',
              },
            })
          : await h.request('/v1/subscriptions', {
              method: 'POST',
              headers: { origin, 'content-type': 'application/json', accept: 'application/json' },
              body: '{"email":"not-an-address","consent":true}',
            });
        expect(res.headers.get('access-control-allow-origin'), origin).toBeNull();
      }),
      { numRuns: 100 },
    );
  });

  it('with no ALLOWED_ORIGINS nobody gets CORS headers, not even for a preflight', async () => {
    for (const origin of [ALLOWED, 'https://evil.example', 'null']) {
      const preflight = await closed.request('/v1/subscriptions', {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST' },
      });
      expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
      const post = await closed.request('/v1/subscriptions', {
        method: 'POST',
        headers: { origin, 'content-type': 'application/json' },
        body: '{}',
      });
      expect(post.headers.get('access-control-allow-origin')).toBeNull();
    }
  });
});
