import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { safeEqual } from '../../src/core/crypto.js';
import { ADMIN_TOKEN, createHarness, databaseKinds, type Harness } from '../support/harness.js';
import { checkAnswer, tableCounts } from './support.js';

/**
 * The admin API's one lock: `Authorization: Bearer <ADMIN_TOKEN>` (src/routes/admin/auth.ts), compared
 * with safeEqual (src/core/crypto.ts), which hashes both sides to fixed-size digests and compares those
 * with crypto.timingSafeEqual — no early return on length or on the first differing character.
 * There is no timing measurement here (too noisy to mean anything in CI); instead, every wrong token
 * must fail in exactly the same way, whatever its length.
 */

describe('safeEqual', () => {
  it('is true exactly when the strings are equal (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary' }),
        fc.string({ unit: 'binary' }),
        (a, b) => safeEqual(a, b) === (a === b),
      ),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (a) => safeEqual(a, a)),
      { numRuns: 200 },
    );
  });

  it('refuses a wrong token of the same length and of any other length alike, without throwing', () => {
    const sameLength = ADMIN_TOKEN.slice(0, -1) + (ADMIN_TOKEN.endsWith('x') ? 'y' : 'x');
    expect(sameLength).toHaveLength(ADMIN_TOKEN.length);
    // crypto.timingSafeEqual itself throws on buffers of different lengths: safeEqual must not.
    for (const wrong of [
      sameLength,
      ADMIN_TOKEN.slice(0, -1),
      `${ADMIN_TOKEN}x`,
      '',
      'x',
      ADMIN_TOKEN.toUpperCase(),
      ` ${ADMIN_TOKEN}`,
      'x'.repeat(100_000),
      `${ADMIN_TOKEN}\u0000`,
    ]) {
      expect(() => safeEqual(wrong, ADMIN_TOKEN)).not.toThrow();
      expect(safeEqual(wrong, ADMIN_TOKEN)).toBe(false);
      expect(safeEqual(ADMIN_TOKEN, wrong)).toBe(false);
    }
    expect(safeEqual(ADMIN_TOKEN, `${ADMIN_TOKEN}`)).toBe(true);
  });

  it('distinguishes strings whose UTF-8 differs only past any fixed prefix length', () => {
    const base = 'a'.repeat(4096);
    expect(safeEqual(`${base}b`, `${base}c`)).toBe(false);
    expect(safeEqual('é', 'e\u0301')).toBe(false); // no Unicode normalisation either
  });
});

describe.each(databaseKinds)('admin authentication on %s', (kind) => {
  let h: Harness;
  let routes: [string, string][];

  beforeAll(async () => {
    // CORS open to every origin for the public signup endpoint: it must still never reach the admin API.
    h = await createHarness(kind, { ALLOWED_ORIGINS: '*' });
    const doc = (await (await h.request('/openapi.json')).json()) as { paths: Record<string, Record<string, unknown>> };
    routes = Object.entries(doc.paths)
      .filter(([path]) => path.startsWith('/admin/'))
      .flatMap(([path, ops]) =>
        Object.keys(ops).map(
          (method) =>
            [method.toUpperCase(), path.replace(/\{[^}]+\}/g, '00000000-0000-4000-8000-000000000000')] as [
              string,
              string,
            ],
        ),
      );
    routes.push(
      ['GET', '/admin/preview'],
      ['GET', '/admin/preview/welcome'],
      ['GET', '/admin/v1/no-such-route'],
      ['DELETE', '/admin/v1/broadcasts'],
    );
  });
  afterAll(() => h?.close());

  const sameLength = ADMIN_TOKEN.slice(0, -1) + (ADMIN_TOKEN.endsWith('x') ? 'y' : 'x');
  /** Every way a token could be presented that is not exactly `Authorization: Bearer <ADMIN_TOKEN>`. */
  const attempts: [string, { query?: string; headers?: Record<string, string> }][] = [
    ['no credentials', {}],
    ['a wrong token of the same length', { headers: { authorization: `Bearer ${sameLength}` } }],
    ['a shorter wrong token', { headers: { authorization: `Bearer ${ADMIN_TOKEN.slice(0, 5)}` } }],
    ['a longer wrong token', { headers: { authorization: `Bearer ${ADMIN_TOKEN}${ADMIN_TOKEN}` } }],
    ['the token with one character more', { headers: { authorization: `Bearer ${ADMIN_TOKEN}x` } }],
    ['the token in ?token=', { query: `token=${ADMIN_TOKEN}` }],
    ['the token in ?access_token=', { query: `access_token=${ADMIN_TOKEN}` }],
    ['the token in ?admin_token=', { query: `admin_token=${ADMIN_TOKEN}` }],
    ['the header in ?authorization=', { query: `authorization=${encodeURIComponent(`Bearer ${ADMIN_TOKEN}`)}` }],
    ['the token in X-Admin-Token', { headers: { 'x-admin-token': ADMIN_TOKEN } }],
    ['the token in a cookie', { headers: { cookie: `admin_token=${ADMIN_TOKEN}; token=${ADMIN_TOKEN}` } }],
    ['the token without a scheme', { headers: { authorization: ADMIN_TOKEN } }],
    [
      'the token as Basic',
      { headers: { authorization: `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}` } },
    ],
    ['the token followed by more', { headers: { authorization: `Bearer ${ADMIN_TOKEN} extra` } }],
    ['two bearer tokens', { headers: { authorization: `Bearer x, Bearer ${ADMIN_TOKEN}` } }],
    ['Bearer alone', { headers: { authorization: 'Bearer' } }],
    [
      'the right token in the query and a wrong one in the header',
      { query: `token=${ADMIN_TOKEN}`, headers: { authorization: `Bearer ${sameLength}` } },
    ],
  ];

  it('every admin route refuses every credential but the bearer header, with the same 401, and changes nothing', async () => {
    expect(routes.length).toBeGreaterThan(15);
    const before = await tableCounts(h);
    for (const [method, path] of routes) {
      const seen = new Map<string, string>();
      for (const [label, { query, headers }] of attempts) {
        const hasBody = method !== 'GET' && method !== 'DELETE';
        const res = await h.request(`${path}${query ? `?${query}` : ''}`, {
          method,
          headers: {
            accept: 'application/json',
            origin: 'https://evil.example',
            ...(hasBody ? { 'content-type': 'application/json' } : {}),
            ...headers,
          },
          ...(hasBody ? { body: '{}' } : {}),
        });
        const { status, json } = await checkAnswer(res, `${method} ${path} with ${label}`);
        expect(status, `${method} ${path} with ${label}`).toBe(401);
        expect(res.headers.get('www-authenticate')).toBe('Bearer realm="quire-admin"');
        expect(res.headers.get('access-control-allow-origin')).toBeNull();
        // The same failure whatever was wrong: same code and message, same headers but the request id.
        const headersSeen = [...res.headers]
          .filter(([k]) => k !== 'x-request-id')
          .map(([k, v]) => `${k}: ${v}`)
          .sort()
          .join('\n');
        seen.set(`${json!.error!.code} ${json!.error!.message}\n${headersSeen}`, label);
      }
      expect([...seen.values()], `${method} ${path}: every failure looks the same`).toHaveLength(1);
    }
    expect(await tableCounts(h)).toEqual(before);
    // Query-string tokens were not logged either (only route patterns are).
    expect(h.logs.join('\n')).not.toContain(ADMIN_TOKEN);
  });

  it('the right bearer token works, with any case of the scheme (RFC 7235), and still gets no CORS headers', async () => {
    for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
      const res = await h.request('/admin/v1/stats', {
        headers: { authorization: `${scheme} ${ADMIN_TOKEN}`, origin: 'https://book.example' },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    }
    for (const origin of ['https://book.example', 'https://evil.example', 'null']) {
      const preflight = await h.request('/admin/v1/subscribers', {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
      });
      expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
      expect(preflight.headers.get('access-control-allow-headers')).toBeNull();
      expect(preflight.headers.get('access-control-allow-methods')).toBeNull();
    }
  });

  it('an unauthenticated request with a body never reaches a handler, whatever its content type', async () => {
    const before = await tableCounts(h);
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/json',
    ]) {
      const res = await h.request('/admin/v1/broadcasts', {
        method: 'POST',
        headers: { 'content-type': type, accept: 'application/json' },
        body: JSON.stringify({ template: 'update-announcement', topic: 'updates', subject: 'Hi', props: {} }),
      });
      const { status } = await checkAnswer(res, type);
      // A wrong content type may be refused before the token is checked: either way, nothing runs.
      expect([401, 415]).toContain(status);
    }
    expect(await tableCounts(h)).toEqual(before);
  });
});
