import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activeSubscriber, postSignup, uniqueEmail } from '../support/factories.js';
import { ADMIN_TOKEN, createHarness, databaseKinds, type Harness } from '../support/harness.js';

const bearer = { authorization: `Bearer ${ADMIN_TOKEN}` };

interface ListedSubscriber {
  id: string;
  email: string | null;
  status: string;
  createdAt: string;
}
interface Page {
  data: ListedSubscriber[];
  nextCursor: string | null;
}

function admin(h: Harness, path: string, init: RequestInit = {}) {
  return h.request(path, {
    ...init,
    headers: { accept: 'application/json', ...bearer, ...(init.headers as Record<string, string>) },
  });
}

async function list(h: Harness, query: Record<string, string>): Promise<Page> {
  const res = await admin(h, `/admin/v1/subscribers?${new URLSearchParams(query)}`);
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json() as Promise<Page>;
}

/** Follow nextCursor until the end, returning every page. */
async function allPages(h: Harness, query: Record<string, string>): Promise<Page[]> {
  const pages: Page[] = [];
  let cursor: string | null = null;
  do {
    const page: Page = await list(h, { ...query, ...(cursor ? { cursor } : {}) });
    pages.push(page);
    cursor = page.nextCursor;
    expect(pages.length).toBeLessThan(100);
  } while (cursor);
  return pages;
}

async function idOf(h: Harness, email: string): Promise<string> {
  const [row] = await h.query<{ id: string }>('select id from subscribers where lower(email) = lower($1)', [email]);
  if (!row) throw new Error(`no subscriber ${email}`);
  return row.id;
}

/** A 401 in the envelope, with the challenge RFC 6750 §3 asks for. */
async function expectUnauthorized(res: Response) {
  expect(res.status).toBe(401);
  expect(res.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
  const body = await res.json();
  expect(body).toEqual({ error: { code: 'unauthorized', message: expect.any(String), requestId: expect.any(String) } });
}

describe.each(databaseKinds)('admin API on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(kind);
  });
  afterAll(() => h?.close());

  describe('authentication', () => {
    const routes: [string, string][] = [
      ['GET', '/admin/v1/subscribers'],
      ['GET', '/admin/v1/subscribers/00000000-0000-4000-8000-000000000000'],
      ['DELETE', '/admin/v1/subscribers/00000000-0000-4000-8000-000000000000'],
      ['GET', '/admin/v1/stats'],
      ['GET', '/admin/v1/consent/verify'],
    ];

    it.each(routes)('%s %s without a token answers 401 with WWW-Authenticate', async (method, path) => {
      await expectUnauthorized(await h.request(path, { method, headers: { accept: 'application/json' } }));
    });

    it.each(routes)('%s %s with a wrong token answers 401', async (method, path) => {
      await expectUnauthorized(
        await h.request(path, {
          method,
          headers: { accept: 'application/json', authorization: `Bearer ${ADMIN_TOKEN}x` },
        }),
      );
    });

    it('refuses the token in the query string', async () => {
      await expectUnauthorized(
        await h.request(`/admin/v1/subscribers?token=${ADMIN_TOKEN}`, { headers: { accept: 'application/json' } }),
      );
      await expectUnauthorized(
        await h.request(`/admin/v1/stats?access_token=${ADMIN_TOKEN}`, { headers: { accept: 'application/json' } }),
      );
    });

    it('refuses the Basic scheme, even carrying the right token', async () => {
      const basic = Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64');
      await expectUnauthorized(
        await h.request('/admin/v1/subscribers', {
          headers: { accept: 'application/json', authorization: `Basic ${basic}` },
        }),
      );
      await expectUnauthorized(
        await h.request('/admin/v1/subscribers', {
          headers: { accept: 'application/json', authorization: `Basic ${ADMIN_TOKEN}` },
        }),
      );
    });

    it('refuses an empty bearer token and a token prefix', async () => {
      await expectUnauthorized(
        await h.request('/admin/v1/stats', { headers: { accept: 'application/json', authorization: 'Bearer ' } }),
      );
      await expectUnauthorized(
        await h.request('/admin/v1/stats', {
          headers: { accept: 'application/json', authorization: `Bearer ${ADMIN_TOKEN.slice(0, -1)}` },
        }),
      );
    });

    it('accepts the right bearer token', async () => {
      expect((await admin(h, '/admin/v1/stats')).status).toBe(200);
    });
  });

  describe('GET /admin/v1/subscribers', () => {
    it('filters by status', async () => {
      const active = await activeSubscriber(h);
      const pendingEmail = uniqueEmail('pending');
      await postSignup(h, { email: pendingEmail });

      const activeIds = (await allPages(h, { status: 'active', limit: '500' })).flatMap((p) => p.data);
      expect(activeIds.every((s) => s.status === 'active')).toBe(true);
      expect(activeIds.map((s) => s.id)).toContain(active.id);
      expect(activeIds.map((s) => s.email)).not.toContain(pendingEmail);

      const pending = (await allPages(h, { status: 'pending', limit: '500' })).flatMap((p) => p.data);
      expect(pending.every((s) => s.status === 'pending')).toBe(true);
      expect(pending.map((s) => s.email)).toContain(pendingEmail);
    });

    it('rejects an unknown status with 422', async () => {
      const res = await admin(h, '/admin/v1/subscribers?status=vip');
      expect(res.status).toBe(422);
      expect((await res.json()).error.code).toBe('validation_failed');
    });

    it('filters by topic: only subscribers subscribed to it', async () => {
      const releaseOnly = await activeSubscriber(h, { topics: ['release'] });
      const updatesOnly = await activeSubscriber(h, { topics: ['updates'] });
      const both = await activeSubscriber(h, { topics: ['release', 'updates'] });

      const release = (await allPages(h, { topic: 'release', limit: '500' })).flatMap((p) => p.data).map((s) => s.id);
      expect(release).toEqual(expect.arrayContaining([releaseOnly.id, both.id]));
      expect(release).not.toContain(updatesOnly.id);

      const updates = (await allPages(h, { topic: 'updates', limit: '500' })).flatMap((p) => p.data).map((s) => s.id);
      expect(updates).toEqual(expect.arrayContaining([updatesOnly.id, both.id]));
      expect(updates).not.toContain(releaseOnly.id);
    });

    it('searches by substring of the address, case-insensitively', async () => {
      const tag = `needle${Date.now().toString(36)}`;
      const hit = uniqueEmail(`hay.${tag}.stack`);
      const miss = uniqueEmail('hay.stack');
      await postSignup(h, { email: hit });
      await postSignup(h, { email: miss });
      const found = (await list(h, { q: tag.toUpperCase() })).data.map((s) => s.email);
      expect(found).toEqual([hit]);
    });

    it('treats % and _ in q literally, not as LIKE wildcards', async () => {
      const tag = `w${Date.now().toString(36)}`;
      const percent = uniqueEmail(`${tag}.50%off`);
      const percentDecoy = uniqueEmail(`${tag}.50xxoff`);
      const underscore = uniqueEmail(`${tag}.a_b`);
      const underscoreDecoy = uniqueEmail(`${tag}.axb`);
      for (const email of [percent, percentDecoy, underscore, underscoreDecoy])
        expect((await postSignup(h, { email })).status).toBe(202);

      expect((await list(h, { q: `${tag}.50%off` })).data.map((s) => s.email)).toEqual([percent]);
      expect((await list(h, { q: `${tag}.a_b` })).data.map((s) => s.email)).toEqual([underscore]);
      expect((await list(h, { q: '%' })).data.every((s) => s.email?.includes('%'))).toBe(true);
      expect((await list(h, { q: `${tag}.\\` })).data).toEqual([]);
    });

    it('paginates with a cursor: every subscriber exactly once, newest first, ties broken by id', async () => {
      const tag = `page${Date.now().toString(36)}`;
      const created: string[] = [];
      // Several per timestamp, so the cursor must break ties on id.
      for (let t = 0; t < 4; t++) {
        for (let i = 0; i < 3; i++) {
          const email = uniqueEmail(`${tag}.${t}.${i}`);
          expect((await postSignup(h, { email })).status).toBe(202);
          created.push(email);
        }
        h.clock.advance(1000);
      }
      const rows = await h.query<{ id: string; created_at: Date }>(
        `select id, created_at from subscribers where email like $1`,
        [`${tag}.%`],
      );
      const expected = rows
        .sort(
          (a, b) =>
            new Date(b.created_at).getTime() - new Date(a.created_at).getTime() ||
            (a.id < b.id ? 1 : a.id > b.id ? -1 : 0),
        )
        .map((r) => r.id);
      expect(expected).toHaveLength(12);

      for (const limit of ['1', '5', '12', '50']) {
        const pages = await allPages(h, { q: tag, limit });
        const ids = pages.flatMap((p) => p.data.map((s) => s.id));
        expect(ids).toEqual(expected);
        expect(pages.every((p) => p.data.length <= Number(limit))).toBe(true);
        expect(pages.at(-1)!.nextCursor).toBeNull();
      }
      const first = await list(h, { q: tag, limit: '5' });
      const times = first.data.map((s) => Date.parse(s.createdAt));
      expect(times).toEqual([...times].sort((a, b) => b - a));
    });

    // Guards against a bug: the cursor carried created_at at millisecond precision while PostgreSQL keeps
    // microseconds, so rows created by the database's own clock (imports, SQL) were skipped between pages.
    it('paginates rows whose created_at has microseconds without skipping any', async () => {
      const tag = `micro${Date.now().toString(36)}`;
      const stamps = [
        '2026-11-20T08:00:00.123456Z',
        '2026-11-20T08:00:00.123789Z',
        '2026-11-20T08:00:00.123001Z',
        '2026-11-20T08:00:00.124000Z',
        '2026-11-20T08:00:00.122999Z',
      ];
      for (const [i, at] of stamps.entries()) {
        await h.query(
          `insert into subscribers (email, email_hash, status, created_at, status_changed_at) values ($1, $2, 'pending', $3, $3)`,
          [uniqueEmail(`${tag}.${i}`), `${tag}-hash-${i}`, at],
        );
      }
      const expected = (
        await h.query<{ id: string }>(
          `select id from subscribers where email like $1 order by created_at desc, id desc`,
          [`${tag}.%`],
        )
      ).map((r) => r.id);
      expect(expected).toHaveLength(stamps.length);
      for (const limit of ['1', '2', '3']) {
        const ids = (await allPages(h, { q: tag, limit })).flatMap((p) => p.data.map((s) => s.id));
        expect(ids).toEqual(expected);
      }
    });

    it('does not skip or repeat rows created between pages', async () => {
      const tag = `grow${Date.now().toString(36)}`;
      for (let i = 0; i < 4; i++) {
        await postSignup(h, { email: uniqueEmail(`${tag}.${i}`) });
        h.clock.advance(1000);
      }
      const first = await list(h, { q: tag, limit: '2' });
      await postSignup(h, { email: uniqueEmail(`${tag}.late`) });
      const second = await list(h, { q: tag, limit: '10', cursor: first.nextCursor! });
      const seen = [...first.data, ...second.data].map((s) => s.email);
      expect(new Set(seen).size).toBe(4);
      expect(seen.some((e) => e?.includes('.late.'))).toBe(false);
    });

    it.each([
      ['garbage', 'not-a-cursor'],
      ['a date without an id', Buffer.from('2026-11-25T12:00:00.000Z').toString('base64url')],
      ['an id without a date', Buffer.from('|00000000-0000-4000-8000-000000000000').toString('base64url')],
      ['SQL', Buffer.from("2026-11-25T12:00:00.000Z|' or 1=1 --").toString('base64url')],
    ])('answers 422 for an invalid cursor (%s)', async (_label, cursor) => {
      const res = await admin(h, `/admin/v1/subscribers?cursor=${encodeURIComponent(cursor)}`);
      expect(res.status).toBe(422);
      const body = await res.json();
      expect(body.error.code).toBe('validation_failed');
      expect(body.error.requestId).toEqual(expect.any(String));
    });

    it.each(['501', '0', '-1', 'ten', '1.5'])('answers 422 for limit=%s', async (limit) => {
      const res = await admin(h, `/admin/v1/subscribers?limit=${limit}`);
      expect(res.status).toBe(422);
      expect((await res.json()).error.code).toBe('validation_failed');
    });

    it('accepts limit=500', async () => {
      expect((await admin(h, '/admin/v1/subscribers?limit=500')).status).toBe(200);
    });

    it('never lists the email hash', async () => {
      await activeSubscriber(h);
      const res = await admin(h, '/admin/v1/subscribers?limit=500');
      const text = await res.text();
      expect(text).not.toMatch(/email_?hash/i);
      const hashes = await h.query<{ email_hash: string }>('select email_hash from subscribers');
      for (const { email_hash } of hashes) expect(text).not.toContain(email_hash);
    });
  });

  describe('GET /admin/v1/subscribers/:id', () => {
    it('returns the subscriber with topics and consent history, without the email hash', async () => {
      const sub = await activeSubscriber(h, { name: 'Grace', topics: ['release'] });
      const res = await admin(h, `/admin/v1/subscribers/${sub.id}`);
      expect(res.status).toBe(200);
      const text = await res.text();
      const body = JSON.parse(text);
      expect(body).toMatchObject({ id: sub.id, email: sub.email, name: 'Grace', status: 'active' });
      expect(body.subscriptions).toEqual(
        expect.arrayContaining([expect.objectContaining({ topic: 'release', subscribed: true })]),
      );
      expect(body.consentHistory.map((e: { kind: string }) => e.kind)).toEqual(['requested', 'confirmed']);
      expect(body.consentHistory[0]).toMatchObject({ consentTextVersion: 1, topics: ['release'] });
      expect(body).not.toHaveProperty('emailHash');
      expect(body).not.toHaveProperty('email_hash');
      const [row] = await h.query<{ email_hash: string }>('select email_hash from subscribers where id = $1', [sub.id]);
      expect(text).not.toContain(row!.email_hash);
    });

    it('answers 404 for an unknown id', async () => {
      const res = await admin(h, `/admin/v1/subscribers/${crypto.randomUUID()}`);
      expect(res.status).toBe(404);
      expect((await res.json()).error).toMatchObject({ code: 'not_found', requestId: expect.any(String) });
    });

    it.each(['42', 'not-a-uuid', "' or 1=1 --", '00000000-0000-4000-8000-00000000000g'])(
      'answers 422 for a non-uuid id %j',
      async (id) => {
        const res = await admin(h, `/admin/v1/subscribers/${encodeURIComponent(id)}`);
        expect(res.status).toBe(422);
        expect((await res.json()).error.code).toBe('validation_failed');
      },
    );
  });

  describe('DELETE /admin/v1/subscribers/:id', () => {
    it('erases the subscriber and writes an erased ledger event', async () => {
      const sub = await activeSubscriber(h, { name: 'Erin' });
      const res = await admin(h, `/admin/v1/subscribers/${sub.id}`, { method: 'DELETE' });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: 'erased' });

      const [row] = await h.query<{ status: string; email: string | null; name: string | null }>(
        'select status, email, name from subscribers where id = $1',
        [sub.id],
      );
      expect(row).toEqual({ status: 'erased', email: null, name: null });
      const events = await h.query<{ kind: string; source: string }>(
        'select kind, source from consent_events where subscriber_id = $1 order by seq',
        [sub.id],
      );
      expect(events.at(-1)).toEqual({ kind: 'erased', source: 'admin' });
      const suppressed = await h.query(
        'select 1 from suppressions s join subscribers u on u.email_hash = s.email_hash where u.id = $1 and s.reason = $2',
        [sub.id, 'erased'],
      );
      expect(suppressed).toHaveLength(1);

      const detail = await (await admin(h, `/admin/v1/subscribers/${sub.id}`)).json();
      expect(detail).toMatchObject({ status: 'erased', email: null, name: null });
      expect(JSON.stringify(detail)).not.toContain(sub.email);
    });

    it('is idempotent', async () => {
      const sub = await activeSubscriber(h);
      await admin(h, `/admin/v1/subscribers/${sub.id}`, { method: 'DELETE' });
      const again = await admin(h, `/admin/v1/subscribers/${sub.id}`, { method: 'DELETE' });
      expect(again.status).toBe(200);
      expect(await again.json()).toEqual({ status: 'already_erased' });
      const erasedEvents = await h.query("select 1 from consent_events where subscriber_id = $1 and kind = 'erased'", [
        sub.id,
      ]);
      expect(erasedEvents).toHaveLength(1);
    });

    it('answers 404 for an unknown id and 422 for a non-uuid', async () => {
      expect((await admin(h, `/admin/v1/subscribers/${crypto.randomUUID()}`, { method: 'DELETE' })).status).toBe(404);
      expect((await admin(h, '/admin/v1/subscribers/123', { method: 'DELETE' })).status).toBe(422);
    });
  });

  describe('GET /admin/v1/consent/verify', () => {
    it('seals what is pending, then walks an intact chain covering every ledger event', async () => {
      await activeSubscriber(h);
      const [pending] = await h.query<{ n: number }>(
        'select count(*)::int as n from consent_events where chain_seq is null',
      );
      expect(pending!.n).toBeGreaterThan(0); // nothing has sealed them yet: the route must
      const res = await admin(h, '/admin/v1/consent/verify');
      expect(res.status).toBe(200);
      const [count] = await h.query<{ n: number }>('select count(*)::int as n from consent_events');
      const [last] = await h.query<{ hash: string }>('select hash from consent_events order by chain_seq desc limit 1');
      expect(count!.n).toBeGreaterThan(0);
      expect(await res.json()).toEqual({ ok: true, events: count!.n, head: last!.hash, pending: 0 });
    });
  });
});

describe.each(databaseKinds)('admin stats on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(kind);
  });
  afterAll(() => h?.close());

  it('counts subscribers by status and active subscribers by topic', async () => {
    await activeSubscriber(h, { topics: ['release'] });
    await activeSubscriber(h, { topics: ['release', 'updates'] });
    await activeSubscriber(h, { topics: ['updates'] });
    await postSignup(h, { email: uniqueEmail('pending') });
    await postSignup(h, { email: uniqueEmail('pending') });

    const leaving = await activeSubscriber(h, { topics: ['release', 'updates'] });
    const unsub = await h.request(new URL(leaving.unsubscribeUrl).pathname, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(unsub.status).toBe(200);

    const erased = await activeSubscriber(h, { topics: ['release'] });
    expect((await admin(h, `/admin/v1/subscribers/${erased.id}`, { method: 'DELETE' })).status).toBe(200);

    const bouncedEmail = uniqueEmail('bounced');
    await postSignup(h, { email: bouncedEmail });
    await h.query("update subscribers set status = 'bounced' where id = $1", [await idOf(h, bouncedEmail)]);

    const res = await admin(h, '/admin/v1/stats');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      total: 8,
      byStatus: { pending: 2, active: 3, unsubscribed: 1, bounced: 1, complained: 0, erased: 1 },
      activeByTopic: { release: 2, updates: 2 },
    });
  });
});

describe.each(databaseKinds)('admin API without ADMIN_TOKEN on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(kind, { ADMIN_TOKEN: '' });
  });
  afterAll(() => h?.close());

  it('is disabled: every request answers 401, whatever token is sent', async () => {
    expect(h.config.ADMIN_TOKEN).toBeUndefined();
    for (const authorization of [undefined, `Bearer ${ADMIN_TOKEN}`, 'Bearer ', 'Bearer undefined']) {
      const headers: Record<string, string> = {
        accept: 'application/json',
        ...(authorization ? { authorization } : {}),
      };
      await expectUnauthorized(await h.request('/admin/v1/subscribers', { headers }));
      await expectUnauthorized(await h.request('/admin/v1/stats', { headers }));
    }
  });
});
