import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { TEXTS } from '../../src/core/texts.js';
import { connectPostgres } from '../../src/db/client.js';
import { lastMailTo, linkIn, pathOf, postSignup, postSignupForm, uniqueEmail } from '../support/factories.js';
import { createHarness, databaseKinds, type Harness } from '../support/harness.js';

const json = { 'content-type': 'application/json', accept: 'application/json' };

/** Anything that would betray internals: stack frames, file paths, SQL, driver names. */
const INTERNALS = [
  /\n\s*at\s/,
  /\bat\s+\S+\s+\(/,
  /\bat \//,
  /\.(ts|js|mjs):\d+/,
  /node_modules/,
  /\bstack\b/i,
  /\b(select|insert into|update \S+ set|delete from)\b/i,
  /\b(postgres|pglite|drizzle|relation|syntax error)\b/i,
  /Failed query/i,
];

/** Assert the one error envelope, and that nothing internal leaked into it. */
async function expectEnvelope(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const text = await res.text();
  for (const pattern of INTERNALS) expect(text).not.toMatch(pattern);
  const body = JSON.parse(text);
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error).toEqual({
    code,
    message: expect.any(String),
    requestId: expect.any(String),
    ...(body.error.fields ? { fields: expect.any(Array) } : {}),
  });
  expect(body.error.message.length).toBeGreaterThan(0);
  expect(body.error.requestId).toBe(res.headers.get('x-request-id'));
  return body.error as {
    code: string;
    message: string;
    requestId: string;
    fields?: { path: string; message: string }[];
  };
}

/** A TCP port on which nothing listens (bound, then released). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe.each(databaseKinds)('HTTP errors and plumbing on %s', (kind) => {
  let h: Harness;
  /** Every address and token these tests put in a request, to be searched for in the logs at the end. */
  const secrets: string[] = [];
  const email = (label?: string) => {
    const e = uniqueEmail(label);
    secrets.push(e);
    return e;
  };

  beforeAll(async () => {
    h = await createHarness(kind, { ALLOWED_ORIGINS: 'https://book.example, https://www.book.example' });
  });
  afterAll(() => h?.close());

  describe('request bodies', () => {
    it('answers 415 to text/plain', async () => {
      const res = await h.request('/v1/subscriptions', {
        method: 'POST',
        headers: { 'content-type': 'text/plain', accept: 'application/json' },
        body: JSON.stringify({ email: email(), consent: true }),
      });
      await expectEnvelope(res, 415, 'unsupported_media_type');
    });

    it('answers 415 to a missing content type', async () => {
      const res = await h.request('/v1/subscriptions', {
        method: 'POST',
        headers: { accept: 'application/json' },
        body: 'email=x',
      });
      await expectEnvelope(res, 415, 'unsupported_media_type');
    });

    it.each([
      ['truncated', '{"email": "a@example.com", "consent": tr'],
      ['single quotes', "{'email': 'a@example.com'}"],
      ['trailing comma', '{"email": "a@example.com",}'],
      ['empty', ''],
      ['not JSON at all', 'email=a@example.com&consent=on'],
    ])('answers 400 invalid_json to malformed JSON (%s)', async (_label, body) => {
      const res = await h.request('/v1/subscriptions', { method: 'POST', headers: json, body });
      await expectEnvelope(res, 400, 'invalid_json');
    });

    it.each([
      ['an array', JSON.stringify([{ email: 'a@example.com', consent: true }])],
      ['a string', JSON.stringify('a@example.com')],
      ['a number', '42'],
      ['null', 'null'],
    ])('answers 422 to a JSON body that is %s', async (_label, body) => {
      const res = await h.request('/v1/subscriptions', { method: 'POST', headers: json, body });
      await expectEnvelope(res, 422, 'validation_failed');
    });

    it('answers 413 to a body over 64 kB', async () => {
      const body = JSON.stringify({ email: email(), consent: true, name: 'x'.repeat(65 * 1024) });
      const res = await h.request('/v1/subscriptions', { method: 'POST', headers: json, body });
      await expectEnvelope(res, 413, 'payload_too_large');
    });

    it('answers 413 to a body over 64 kB that declares its length', async () => {
      const body = JSON.stringify({ email: email(), consent: true, name: 'x'.repeat(65 * 1024) });
      const res = await h.request('/v1/subscriptions', {
        method: 'POST',
        headers: { ...json, 'content-length': String(Buffer.byteLength(body)) },
        body,
      });
      await expectEnvelope(res, 413, 'payload_too_large');
    });

    it('answers 413 to an oversized form post too', async () => {
      const res = await postSignupForm(
        h,
        { email: email(), consent: 'on', name: 'x'.repeat(70 * 1024) },
        { accept: 'application/json' },
      );
      await expectEnvelope(res, 413, 'payload_too_large');
    });

    it('answers 422 with field errors, not 500, to CR/LF in the name', async () => {
      for (const name of ['Ada\r\nBcc: victim@example.org', 'Ada\nLovelace', 'Ada\rLovelace']) {
        const res = await postSignup(h, { email: email(), name });
        const error = await expectEnvelope(res, 422, 'validation_failed');
        expect(error.fields).toEqual([expect.objectContaining({ path: 'name' })]);
      }
    });

    it('answers 422 to CR/LF in the source', async () => {
      await expectEnvelope(
        await postSignup(h, { email: email(), source: 'site\r\nX-Evil: 1' }),
        422,
        'validation_failed',
      );
    });

    it('treats __proto__ and constructor keys in a JSON signup as harmless data', async () => {
      const bodies = [
        `{"email":"${email('proto')}","consent":true,"__proto__":{"polluted":"yes","status":"active"}}`,
        `{"email":"${email('ctor')}","consent":true,"constructor":{"prototype":{"polluted":"yes"}}}`,
        `{"email":"${email('nested')}","consent":true,"topics":{"__proto__":["release"]}}`,
        `{"__proto__":{"email":"${email('inherit')}","consent":true}}`,
      ];
      for (const body of bodies) {
        const res = await h.request('/v1/subscriptions', { method: 'POST', headers: json, body });
        expect([202, 422]).toContain(res.status);
        if (res.status === 422) await expectEnvelope(res, 422, (await res.clone().json()).error.code);
      }
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(Object.prototype).not.toHaveProperty('polluted');
      expect(Object.prototype).not.toHaveProperty('status');
      // The inherited-looking email never became a subscriber.
      const inherit = secrets.find((s) => s.startsWith('inherit.'))!;
      expect(await h.query('select 1 from subscribers where lower(email) = lower($1)', [inherit])).toHaveLength(0);
    });

    it('treats __proto__ and constructor fields in a form post as harmless data', async () => {
      const address = email('form-proto');
      const fields: Record<string, string> = {
        email: address,
        consent: 'on',
        // A computed key: a literal `__proto__:` would set the prototype instead of adding a field.
        ['__proto__']: 'x',
        constructor: 'y',
        toString: 'z',
        hasOwnProperty: 'w',
      };
      expect(Object.keys(fields)).toContain('__proto__');
      const res = await postSignupForm(h, fields, { accept: 'application/json' });
      expect([202, 422]).toContain(res.status);
      expect(await h.query('select 1 from subscribers where lower(email) = lower($1)', [address])).toHaveLength(
        res.status === 202 ? 1 : 0,
      );
      expect(Object.prototype).not.toHaveProperty('polluted');
      expect(typeof {}.toString).toBe('function');
    });
  });

  describe('routes', () => {
    it('answers an unknown route with a 404 envelope', async () => {
      await expectEnvelope(
        await h.request('/v1/nothing-here', { headers: { accept: 'application/json' } }),
        404,
        'not_found',
      );
      await expectEnvelope(await h.request('/v1/nothing-here'), 404, 'not_found');
    });

    it('answers an unknown route with an HTML page to a browser', async () => {
      const res = await h.request('/no/such/page', {
        headers: { accept: 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.8' },
      });
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      const html = await res.text();
      expect(html).toMatch(/<html/i);
      expect(html).toContain('Page not found');
    });

    it('serves OpenAPI 3.1 documenting the public, preference, admin and health routes', async () => {
      const res = await h.request('/openapi.json');
      expect(res.status).toBe(200);
      const doc = await res.json();
      expect(doc.openapi).toMatch(/^3\.1\./);
      for (const path of [
        '/v1/subscriptions',
        '/v1/preferences/{token}',
        '/admin/v1/subscribers',
        '/healthz',
        '/readyz',
      ]) {
        expect(Object.keys(doc.paths), path).toContain(path);
      }
      expect(doc.paths['/v1/subscriptions'].post).toBeDefined();
      expect(doc.paths['/v1/preferences/{token}'].get).toBeDefined();
      expect(doc.paths['/v1/preferences/{token}'].put).toBeDefined();
      expect(doc.paths['/admin/v1/subscribers'].get.security).toEqual([{ bearer: [] }]);
      expect(doc.components.schemas.Error).toBeDefined();
    });

    it('serves the API reader at /docs', async () => {
      const res = await h.request('/docs', { headers: { accept: 'text/html' } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await res.text()).toContain('/openapi.json');
    });

    it('answers /healthz', async () => {
      const res = await h.request('/healthz');
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: 'ok' });
    });

    it('answers /readyz with the database kind', async () => {
      const res = await h.request('/readyz');
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: 'ready', database: kind });
    });

    it('sets a request id on every response', async () => {
      const a = await h.request('/healthz');
      const b = await h.request('/healthz');
      expect(a.headers.get('x-request-id')).toBeTruthy();
      expect(a.headers.get('x-request-id')).not.toBe(b.headers.get('x-request-id'));
    });
  });

  describe('CORS on /v1/subscriptions', () => {
    const allowed = 'https://book.example';

    it('lets an allowed origin read the answer', async () => {
      const res = await h.request('/v1/subscriptions', {
        method: 'POST',
        headers: { ...json, origin: allowed },
        body: JSON.stringify({ email: email(), consent: true }),
      });
      expect(res.status).toBe(202);
      expect(res.headers.get('access-control-allow-origin')).toBe(allowed);
      expect(res.headers.get('vary')).toMatch(/origin/i);
    });

    it('lets an allowed origin read an error too', async () => {
      const res = await h.request('/v1/subscriptions', {
        method: 'POST',
        headers: { ...json, origin: 'https://www.book.example' },
        body: JSON.stringify({ email: 'not-an-address', consent: true }),
      });
      await expectEnvelope(res, 422, 'invalid_email');
      expect(res.headers.get('access-control-allow-origin')).toBe('https://www.book.example');
    });

    it('answers the preflight of an allowed origin', async () => {
      const res = await h.request('/v1/subscriptions', {
        method: 'OPTIONS',
        headers: {
          origin: allowed,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type',
        },
      });
      expect(res.status).toBeLessThan(300);
      expect(res.headers.get('access-control-allow-origin')).toBe(allowed);
      expect(res.headers.get('access-control-allow-methods')).toContain('POST');
      expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('content-type');
    });

    it.each(['https://evil.example', 'https://book.example.evil.example', 'http://book.example', 'null'])(
      'gives %s no Access-Control-Allow-Origin',
      async (origin) => {
        const post = await h.request('/v1/subscriptions', {
          method: 'POST',
          headers: { ...json, origin },
          body: JSON.stringify({ email: email(), consent: true }),
        });
        expect(post.headers.get('access-control-allow-origin')).toBeNull();
        const preflight = await h.request('/v1/subscriptions', {
          method: 'OPTIONS',
          headers: { origin, 'access-control-request-method': 'POST' },
        });
        expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
      },
    );
  });

  describe('privacy of the logs', () => {
    it('logs requests that carried addresses and tokens', async () => {
      const address = email('logged');
      expect((await postSignup(h, { email: address, name: 'Logan' })).status).toBe(202);
      await h.deliver();
      const confirmUrl = linkIn(lastMailTo(h, address).parsed.text ?? '', '/confirm/');
      const token = confirmUrl.split('/').pop()!;
      secrets.push(token);
      expect((await h.request(pathOf(confirmUrl), { headers: { accept: 'text/html' } })).status).toBe(200);
      expect(
        (await h.request(pathOf(confirmUrl), { method: 'POST', headers: { accept: 'application/json' } })).status,
      ).toBe(200);
      await h.deliver();
      const welcome = lastMailTo(h, address).parsed.text ?? '';
      for (const prefix of ['/unsubscribe/', '/preferences/']) {
        const url = linkIn(welcome, prefix);
        secrets.push(url.split('/').pop()!);
        expect((await h.request(pathOf(url), { headers: { accept: 'text/html' } })).status).toBe(200);
      }
      const prefsToken = linkIn(welcome, '/preferences/').split('/').pop()!;
      expect(
        (await h.request(`/v1/preferences/${prefsToken}`, { headers: { accept: 'application/json' } })).status,
      ).toBe(200);
      // Bad tokens and addresses in paths and query strings are not logged either.
      const bogus = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
      secrets.push(bogus);
      expect((await h.request(`/unsubscribe/${bogus}`, { headers: { accept: 'application/json' } })).status).toBe(404);
      const inQuery = email('query');
      expect((await h.request(`/nowhere?email=${encodeURIComponent(inQuery)}`)).status).toBe(404);
    });

    it('contain no address, token or client IP used by these tests', () => {
      expect(h.logs.length).toBeGreaterThan(10);
      const all = h.logs.join('\n');
      expect(secrets.length).toBeGreaterThan(10);
      for (const secret of secrets) {
        expect(all).not.toContain(secret);
        expect(all.toLowerCase()).not.toContain(secret.toLowerCase());
        expect(all).not.toContain(encodeURIComponent(secret));
      }
      expect(all).not.toContain('203.0.113.7');
      expect(all).not.toMatch(/[A-Za-z0-9._%+-]+@example\.(com|org)/);
      expect(all).not.toContain('Logan');
    });
  });
});

describe.each(databaseKinds)('database outage on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(kind);
  });
  afterAll(() => h?.close());

  it('answers a failing query with 500 and the site’s message, with no SQL in the body', async () => {
    await h.query('alter table rate_limits rename to rate_limits_gone');
    try {
      const res = await postSignup(h, {});
      const error = await expectEnvelope(res, 500, 'internal_error');
      expect(error.message).toBe(TEXTS.serverFault);
    } finally {
      await h.query('alter table rate_limits_gone rename to rate_limits');
    }
    expect((await postSignup(h, {})).status).toBe(202);
  });

  it('answers 503 service_unavailable with the site’s message when the database is closed, and /readyz 503', async () => {
    const address = uniqueEmail('outage');
    await h.database.close();

    const res = await postSignup(h, { email: address });
    const error = await expectEnvelope(res, 503, 'service_unavailable');
    expect(error.message).toBe('Something went wrong on our side. Please try again in a few minutes.');

    const ready = await h.request('/readyz');
    const readyError = await expectEnvelope(ready, 503, 'service_unavailable');
    expect(readyError.message).toBe(TEXTS.serverFault);

    // The process itself is alive.
    expect((await h.request('/healthz')).status).toBe(200);

    // A browser's form post gets a page with the same words, not JSON.
    const page = await postSignupForm(h, { email: address, consent: 'on' });
    expect(page.status).toBe(503);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain('Something went wrong on our side.');
    for (const pattern of INTERNALS) expect(html).not.toMatch(pattern);

    const all = h.logs.join('\n');
    expect(all).toContain('"status":503');
    expect(all).not.toContain(address);
  });
});

describe.runIf(databaseKinds.includes('postgres'))('PostgreSQL server unreachable', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness('postgres');
  });
  afterAll(() => h?.close());

  it('answers 503 when nothing listens at the database address, and /readyz 503', async () => {
    const dead = await connectPostgres({
      url: `postgres://postgres@127.0.0.1:${await closedPort()}/quire`,
      timeoutMs: 1000,
    });
    try {
      const app = createApp({ ...h.services, db: dead.db, database: dead });
      const signup = await app.request('/v1/subscriptions', {
        method: 'POST',
        headers: { ...json, 'x-forwarded-for': '203.0.113.9' },
        body: JSON.stringify({ email: uniqueEmail('unreachable'), consent: true }),
      });
      const error = await expectEnvelope(signup, 503, 'service_unavailable');
      expect(error.message).toBe(TEXTS.serverFault);
      await expectEnvelope(await app.request('/readyz'), 503, 'service_unavailable');
    } finally {
      await dead.close();
    }
  });

  it('answers 503 while its connections are being terminated by the server', async () => {
    // Terminating the backends while a query waits on a lock makes that query fail with 57P01.
    const [current] = await h.query<{ db: string }>('select current_database() as db');
    const db = current!.db;
    const { default: postgres } = await import('postgres');
    const admin = postgres(process.env.TEST_DATABASE_URL!, { max: 1, onnotice: () => {} });
    const locker = postgres(process.env.TEST_DATABASE_URL!.replace(/\/[^/]*$/, `/${db}`), {
      max: 1,
      onnotice: () => {},
    });
    try {
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      let locked!: () => void;
      const isLocked = new Promise<void>((r) => (locked = r));
      const holder = locker
        .begin(async (tx) => {
          await tx`lock table rate_limits in access exclusive mode`;
          locked();
          await released;
        })
        .catch(() => {});
      await isLocked;
      const pending = postSignup(h, {});
      // Wait until the signup's query is blocked on the lock, then cut every other backend of this database.
      for (let i = 0; i < 200; i++) {
        const waiting =
          await admin`select count(*)::int as n from pg_stat_activity where datname = ${db} and wait_event_type = 'Lock'`;
        if (waiting[0]!.n > 0) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      await admin`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${db} and pid <> pg_backend_pid() and application_name = 'quire'`;
      const res = await pending;
      const error = await expectEnvelope(res, 503, 'service_unavailable');
      expect(error.message).toBe(TEXTS.serverFault);
      release();
      await holder;
    } finally {
      await locker.end();
      await admin.end();
    }
  });
});
