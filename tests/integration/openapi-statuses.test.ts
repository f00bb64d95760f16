import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, createHarness, type Harness } from '../support/harness.js';

type Doc = { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };

/**
 * Statuses each operation answers, from the tests that drive it (signup.test.ts, confirm.test.ts,
 * unsubscribe.test.ts, preferences*.test.ts, manage-links.test.ts, admin.test.ts, broadcasts.test.ts,
 * webhooks-*.test.ts, http-errors.test.ts). A new operation fails the test until it is listed here.
 */
const ANSWERS: Record<string, number[]> = {
  'GET /healthz': [200],
  'GET /readyz': [200, 503],
  'POST /v1/subscriptions': [202, 303, 400, 413, 415, 422, 429, 503],
  'GET /v1/signup-form': [200],
  'GET /subscribe': [200],
  'GET /subscribed': [200],
  'GET /confirm/{token}': [200, 404, 410],
  'POST /confirm/{token}': [200, 404, 410],
  'GET /unsubscribe/{token}': [200, 404, 410],
  'POST /unsubscribe/{token}': [200, 404, 410],
  'POST /unsubscribe/{token}/resubscribe': [200, 403, 404, 410, 415],
  'GET /preferences/{token}': [200, 404, 410],
  'POST /preferences/{token}': [200, 303, 400, 403, 404, 410, 415, 422],
  'GET /v1/preferences/{token}': [200, 404, 410],
  'PUT /v1/preferences/{token}': [200, 400, 404, 410, 413, 415, 422],
  'GET /v1/preferences/{token}/export': [200, 404, 410],
  'POST /v1/preferences/{token}/erase': [200, 400, 404, 410, 415, 422],
  'GET /manage': [200],
  'POST /manage': [200, 403, 415, 422, 429],
  'GET /resend-confirmation': [200],
  'POST /resend-confirmation': [200, 403, 415, 422, 429],
  'GET /test-copy': [200],
  'POST /test-copy': [200],
  'POST /admin/v1/subscribers/import': [200, 400, 401, 413, 415, 422],
  'GET /admin/v1/subscribers/export': [200, 401],
  'GET /admin/v1/subscribers': [200, 401, 422],
  'GET /admin/v1/subscribers/{id}': [200, 401, 404, 422],
  'DELETE /admin/v1/subscribers/{id}': [200, 401, 404, 422],
  'GET /admin/v1/stats': [200, 401],
  'GET /admin/v1/overview': [200, 401],
  'GET /admin/v1/consent/verify': [200, 401],
  'POST /admin/v1/consent/verify': [200, 400, 401, 409, 413, 415, 422],
  'POST /admin/v1/consent/checkpoints': [201, 400, 401, 409, 415],
  'GET /admin/v1/templates': [200, 401],
  'POST /admin/v1/broadcasts': [201, 400, 401, 415, 422],
  'GET /admin/v1/broadcasts': [200, 401],
  'GET /admin/v1/broadcasts/{id}': [200, 401, 404, 422],
  'GET /admin/v1/broadcasts/{id}/preview': [200, 401, 404, 422],
  'GET /admin/v1/broadcasts/{id}/audience': [200, 401, 404, 422],
  'POST /admin/v1/broadcasts/{id}/test': [202, 400, 401, 404, 415, 422],
  'POST /admin/v1/broadcasts/{id}/send': [202, 400, 401, 404, 409, 415, 422],
  'POST /admin/v1/broadcasts/{id}/pause': [200, 401, 404, 409, 415, 422],
  'POST /admin/v1/broadcasts/{id}/resume': [200, 401, 404, 409, 415, 422],
  'POST /admin/v1/broadcasts/{id}/cancel': [200, 401, 404, 409, 415, 422],
  'POST /admin/v1/broadcasts/{id}/retry-failed': [200, 401, 404, 409, 415, 422],
  'POST /admin/v1/bounces/ingest': [200, 401, 413, 415, 422],
  'POST /webhooks/bounces': [200, 400, 401, 404, 413, 422],
  'POST /webhooks/ses': [200, 400, 401, 404, 413, 415, 422],
  'POST /webhooks/postmark': [200, 400, 401, 404, 413, 415, 422],
  'POST /webhooks/resend': [200, 400, 401, 404, 413, 415, 422],
  'POST /webhooks/mailgun': [200, 400, 401, 404, 413, 415, 422],
  'POST /webhooks/sendgrid': [200, 400, 401, 404, 413, 415, 422],
};

/** Routes that are no part of the API: assets, the demo, development pages, the documents themselves. */
const UNDOCUMENTED = /^\/($|assets\/|favicon\.ico$|_dev\/|docs$|openapi\.json$|admin($|\/(?!v1\/)))/;

const operations = (doc: Doc) =>
  Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({
      key: `${method.toUpperCase()} ${path}`,
      method: method.toUpperCase(),
      path,
      documented: Object.keys(op.responses).map(Number),
    })),
  );

describe('the OpenAPI document and what the server answers', () => {
  let h: Harness;
  let doc: Doc;
  beforeAll(async () => {
    h = await createHarness('pglite', {
      WEBHOOK_SECRET: 'webhook-secret-0123456789',
      SES_SNS_TOPIC_ARNS: 'arn:aws:sns:eu-west-1:123456789012:ses-events',
      POSTMARK_WEBHOOK_AUTH: 'postmark:password-0123456789',
      RESEND_WEBHOOK_SECRET: `whsec_${randomBytes(24).toString('base64')}`,
      MAILGUN_WEBHOOK_SIGNING_KEY: 'mailgun-signing-key-0123456789',
      SENDGRID_WEBHOOK_PUBLIC_KEY: generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
        .publicKey.export({ type: 'spki', format: 'der' })
        .toString('base64'),
    });
    doc = (await (await h.request('/openapi.json')).json()) as Doc;
  });
  afterAll(() => h?.close());

  // Guards against a route answering with a status its operation does not document (issue 15, item 2).
  it('documents every status the tests drive each operation to', () => {
    const missing = operations(doc).flatMap((op) =>
      (ANSWERS[op.key] ?? [0]).filter((s) => !op.documented.includes(s)).map((s) => `${op.key} ${s || 'unlisted'}`),
    );
    expect(missing).toEqual([]);
  });

  // Guards against a page or form route served but left out of the document.
  it('documents every route it serves, but for assets, the demo and development pages', () => {
    const served = h.app.routes
      .filter((r) => ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'].includes(r.method))
      .filter((r) => !r.path.includes('*'))
      .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`)
      .filter((key) => !UNDOCUMENTED.test(key.split(' ')[1]!));
    const documented = new Set(operations(doc).map((op) => op.key));
    expect([...new Set(served)].filter((key) => !documented.has(key))).toEqual([]);
  });

  // Guards against answers to broken requests (bad JSON, wrong type, oversize, no token, foreign origin)
  // that the document does not list: each operation is driven with each one.
  it('answers broken requests only with documented statuses', async () => {
    const surprises: string[] = [];
    for (const op of operations(doc)) {
      const path = op.path.replace('{id}', randomUUID()).replace(/\{\w+\}/g, 'not-a-valid-token');
      const admin = op.path.startsWith('/admin/');
      const variants: RequestInit[] = [{}];
      if (admin) variants.push({ headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      if (op.method !== 'GET' && op.method !== 'DELETE') {
        const bodies: [string, string][] = [
          ['application/json', '{"oops"'],
          ['text/plain', 'hello'],
          ['application/x-www-form-urlencoded', 'email=someone%40example.com'],
          ['application/json', `{"x":"${'a'.repeat(3 * 1024 * 1024)}"}`],
        ];
        for (const [type, body] of bodies) {
          const headers: Record<string, string> = { 'content-type': type, origin: 'https://elsewhere.example' };
          if (admin) headers.authorization = `Bearer ${ADMIN_TOKEN}`;
          variants.push({ body, headers });
        }
      }
      for (const init of variants) {
        const res = await h.request(path, { method: op.method, ...init });
        await res.arrayBuffer();
        if (!op.documented.includes(res.status))
          surprises.push(`${op.key} answered ${res.status} (${JSON.stringify(init.headers ?? {}).slice(0, 80)})`);
      }
    }
    expect(surprises).toEqual([]);
  });

  // Guards against a /docs page that is blank without internet: no script, nothing from another origin.
  it('serves /docs from the app itself, under its strict CSP, linking the document', async () => {
    const res = await h.request('/docs', { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toMatch(/unsafe-inline|https?:/);
    const html = await res.text();
    expect(html).not.toMatch(/<script|https?:\/\/(?!quire\.test)[^"<\s]*\.(js|css)/);
    expect(html).toContain('href="/openapi.json"');
    for (const op of operations(doc)) expect(html).toContain(op.path);
  });
});
