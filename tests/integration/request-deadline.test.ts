import type { PGlite } from '@electric-sql/pglite';
import type { Sql } from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin } from '../support/broadcasts.js';
import { postSignup, postSignupForm, uniqueEmail } from '../support/factories.js';
import { createHarness, databaseKinds, type Harness } from '../support/harness.js';

/**
 * Regression (issue 7, chaos `pg-outage`): a request waiting on the database answered only when the
 * database did — measured at twice DB_TIMEOUT_MS and more while PostgreSQL restarted. Public requests now
 * answer 503 in the envelope by DB_TIMEOUT_MS + 1 s; admin requests keep their own pace.
 */
const DB_TIMEOUT_MS = 500;

describe.each(databaseKinds)('the request deadline on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(kind, { DB_TIMEOUT_MS: String(DB_TIMEOUT_MS) });
  });
  afterAll(() => h?.close());

  /** Keep the database busy for `ms`: hold PGlite's one connection in a transaction; on PostgreSQL, lock tables. */
  function stall(ms: number): Promise<unknown> {
    if (kind === 'pglite') {
      const client = (h.database as unknown as { client: PGlite }).client;
      return client.transaction(async (tx) => {
        await tx.query('select 1');
        await new Promise((r) => setTimeout(r, ms));
      });
    }
    const sql = (h.database as unknown as { sql: Sql }).sql;
    return sql.begin(async (tx) => {
      await tx.unsafe('lock table rate_limits, subscribers in access exclusive mode');
      await new Promise((r) => setTimeout(r, ms));
    });
  }

  it('answers a stalled signup with 503 in the envelope (JSON) or the error page (form) in time', async () => {
    const held = stall(3000);
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    const [json, form] = await Promise.all([
      postSignup(h, { email: uniqueEmail('stalled') }),
      postSignupForm(h, { email: uniqueEmail('stalled-form'), consent: 'true' }),
    ]);
    const elapsed = Date.now() - started;
    expect(json.status).toBe(503);
    expect((await json.json()).error).toMatchObject({
      code: 'service_unavailable',
      message: expect.stringContaining('Something went wrong on our side'),
    });
    expect(form.status).toBe(503);
    expect(await form.text()).toContain('Something went wrong on our side');
    expect(elapsed).toBeGreaterThanOrEqual(DB_TIMEOUT_MS + 900);
    expect(elapsed).toBeLessThan(DB_TIMEOUT_MS + 2000);
    await held;
    // The database is back: the same request succeeds.
    expect((await postSignup(h, { email: uniqueEmail('after') })).status).toBe(202);
  });

  it('lets an admin request take the time it needs', async () => {
    const held = stall(2500);
    await new Promise((r) => setTimeout(r, 100));
    const res = await admin(h, '/admin/v1/subscribers?limit=1');
    expect(res.status).toBe(200);
    await held;
  });
});
