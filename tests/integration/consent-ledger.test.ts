import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENESIS_HASH, verifyConsentChain } from '../../src/core/consent.js';
import {
  activeSubscriber,
  lastMailTo,
  linkIn,
  pathOf,
  pendingSubscriber,
  postSignup,
  postSignupForm,
  uniqueEmail,
} from '../support/factories.js';
import { ADMIN_TOKEN, createHarness, databaseKinds, type Harness } from '../support/harness.js';

interface LedgerRow {
  seq: number;
  kind: string;
  prev_hash: string;
  hash: string;
}

/** The sealed chain, in chain order (sealing what is pending first, as the service does every 200 ms). */
const ledger = async (h: Harness) => {
  await h.seal();
  return h.query<LedgerRow>('select seq::int as seq, kind, prev_hash, hash from consent_events order by chain_seq');
};

const ledgerCount = async (h: Harness) =>
  (await h.query<{ n: number }>('select count(*)::int as n from consent_events'))[0]!.n;

const verify = async (h: Harness) => {
  const res = await h.request('/admin/v1/consent/verify', {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, accept: 'application/json' },
  });
  expect(res.status).toBe(200);
  return res.json() as Promise<{ ok: boolean; events: number; head?: string; brokenAt?: number; reason?: string }>;
};

/** Every row links to the one before it, the first to the genesis hash. */
function expectLinked(rows: LedgerRow[]) {
  rows.forEach((row, i) => {
    expect(row.prev_hash, `prev_hash of seq ${row.seq}`).toBe(i === 0 ? GENESIS_HASH : rows[i - 1]!.hash);
  });
}

/** Bypass the append-only trigger the way only a database owner could, to play the tamperer. */
async function tamper(h: Harness, statement: string, params: unknown[] = []) {
  await h.query('alter table consent_events disable trigger consent_events_append_only');
  try {
    await h.query(statement, params);
  } finally {
    await h.query('alter table consent_events enable trigger consent_events_append_only');
  }
}

/** Signups (JSON and form), confirmations, topic changes, unsubscribes, a hard bounce, an erase. */
async function realisticFlow(h: Harness) {
  const ada = await activeSubscriber(h, { name: 'Ada', topics: ['release', 'updates'], source: 'book-site' });
  const grace = await activeSubscriber(h, { topics: ['release'] });
  const linus = await activeSubscriber(h, { source: 'talk' });
  await pendingSubscriber(h); // never confirms

  const formEmail = uniqueEmail('form');
  expect((await postSignupForm(h, { email: formEmail, consent: 'on', topics: 'updates' })).status).toBe(303);
  await h.deliver();
  const formConfirm = linkIn(lastMailTo(h, formEmail).parsed.text ?? '', '/confirm/');
  expect((await h.request(pathOf(formConfirm), { method: 'POST' })).status).toBe(200);

  h.clock.advance(3600_000);
  const putPrefs = (token: string, body: unknown) =>
    h.request(`/v1/preferences/${token}`, {
      method: 'PUT',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    });
  expect((await putPrefs(ada.preferencesToken, { topics: ['updates'] })).status).toBe(200);
  expect((await putPrefs(grace.preferencesToken, { topics: ['release', 'updates'] })).status).toBe(200);
  expect((await putPrefs(linus.preferencesToken, { unsubscribe_all: true })).status).toBe(200);
  expect(
    (
      await h.request(pathOf(grace.unsubscribeUrl), {
        method: 'POST',
        body: 'List-Unsubscribe=One-Click',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      })
    ).status,
  ).toBe(200);

  // A hard bounce on a confirmation mail becomes a `suppressed` event.
  h.smtp.failNext(550, '5.1.1 mailbox unavailable');
  expect((await postSignup(h, { email: uniqueEmail('bounce') })).status).toBe(202);
  await h.deliver();

  h.clock.advance(3600_000);
  const erased = await h.request(`/v1/preferences/${ada.preferencesToken}/erase`, {
    method: 'POST',
    body: JSON.stringify({ confirm: true }),
    headers: { 'content-type': 'application/json' },
  });
  expect(erased.status).toBe(200);
}

describe.each(databaseKinds)('consent ledger on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(kind);
    await realisticFlow(h);
  });
  afterAll(() => h?.close());

  it('records every kind of decision the flow made', async () => {
    const kinds = new Set((await ledger(h)).map((r) => r.kind));
    for (const k of ['requested', 'confirmed', 'topics_changed', 'unsubscribed', 'suppressed', 'erased'])
      expect(kinds).toContain(k);
  });

  it('holds no plaintext address or name, and only hashed IPs', async () => {
    const rows = await h.query<{ row: string; ip_hash: string | null }>(
      'select row_to_json(e)::text as row, ip_hash from consent_events e',
    );
    for (const r of rows) {
      expect(r.row).not.toMatch(/@example\.com/i);
      expect(r.row).not.toContain('Ada');
      expect(r.row).not.toMatch(/\b(192\.0\.2|203\.0\.113)\.\d+/);
      if (r.ip_hash !== null) expect(r.ip_hash).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('rejects UPDATE on consent_events', async () => {
    const before = await ledger(h);
    await expect(
      h.query('update consent_events set topics = \'["forged"]\'::jsonb where seq = $1', [before[0]!.seq]),
    ).rejects.toThrow(/append-only/);
    await expect(h.query("update consent_events set kind = 'confirmed'")).rejects.toThrow(/append-only/);
    expect(await ledger(h)).toEqual(before);
  });

  it('rejects DELETE on consent_events', async () => {
    const before = await ledger(h);
    await expect(h.query('delete from consent_events where seq = $1', [before.at(-1)!.seq])).rejects.toThrow(
      /append-only/,
    );
    await expect(h.query('delete from consent_events')).rejects.toThrow(/append-only/);
    expect(await ledger(h)).toEqual(before);
  });

  it('rejects TRUNCATE on consent_events', async () => {
    const before = await ledger(h);
    await expect(h.query('truncate consent_events')).rejects.toThrow(/append-only/);
    await expect(h.query('truncate consent_events cascade')).rejects.toThrow(/append-only/);
    expect(await ledger(h)).toEqual(before);
  });

  it('verify walks the whole chain: ok, with the row count and the last hash as head', async () => {
    const rows = await ledger(h);
    expect(rows.length).toBeGreaterThan(15);
    expectLinked(rows);
    const result = await verify(h);
    expect(result).toEqual({ ok: true, events: rows.length, head: rows.at(-1)!.hash, pending: 0 });
    expect(result.events).toBe(await ledgerCount(h));
  });

  it('verify reads the chain in pages with the same answer', async () => {
    const rows = await ledger(h);
    expect(await verifyConsentChain(h.services.db, 3)).toEqual({
      ok: true,
      events: rows.length,
      head: rows.at(-1)!.hash,
      pending: 0,
    });
    expect(await verifyConsentChain(h.services.db, rows.length)).toEqual({
      ok: true,
      events: rows.length,
      head: rows.at(-1)!.hash,
      pending: 0,
    });
  });

  it('verify is an admin route: 401 without the bearer token', async () => {
    const res = await h.request('/admin/v1/consent/verify', { headers: { accept: 'application/json' } });
    expect(res.status).toBe(401);
    expect((await res.json()).error.code).toBe('unauthorized');
    const wrong = await h.request('/admin/v1/consent/verify', {
      headers: { authorization: 'Bearer not-the-admin-token-xyz' },
    });
    expect(wrong.status).toBe(401);
  });
});

describe.each(databaseKinds)('consent ledger tampering on %s', (kind) => {
  /** A fresh harness with a realistic ledger, so tampering never leaks into another test. */
  async function tamperable(fn: (h: Harness, rows: LedgerRow[]) => Promise<void>) {
    const h = await createHarness(kind);
    try {
      await realisticFlow(h);
      const rows = await ledger(h);
      expect((await verify(h)).ok).toBe(true);
      await fn(h, rows);
    } finally {
      await h.close();
    }
  }

  it('an edited topics list breaks the chain at that row', () =>
    tamperable(async (h, rows) => {
      const target = rows.find((r) => r.kind === 'confirmed')!;
      await tamper(h, `update consent_events set topics = '["release","updates","partners"]'::jsonb where seq = $1`, [
        target.seq,
      ]);
      expect(await verify(h)).toMatchObject({ ok: false, brokenAt: target.seq, reason: 'hash_mismatch' });
    }));

  it('a back-dated occurred_at breaks the chain at that row', () =>
    tamperable(async (h, rows) => {
      const target = rows[Math.floor(rows.length / 2)]!;
      await tamper(h, `update consent_events set occurred_at = occurred_at - interval '30 days' where seq = $1`, [
        target.seq,
      ]);
      expect(await verify(h)).toMatchObject({ ok: false, brokenAt: target.seq });
    }));

  it('a deleted middle row is detected at the row after it', () =>
    tamperable(async (h, rows) => {
      const middle = Math.floor(rows.length / 2);
      await tamper(h, 'delete from consent_events where seq = $1', [rows[middle]!.seq]);
      expect(await ledgerCount(h)).toBe(rows.length - 1);
      expect(await verify(h)).toMatchObject({
        ok: false,
        brokenAt: rows[middle + 1]!.seq,
        reason: 'prev_hash_mismatch',
      });
    }));

  it('an edited row whose own hash is recomputed still breaks the link to the next row', () =>
    tamperable(async (h, rows) => {
      const target = rows[2]!;
      // The tamperer also overwrites the row's hash with something self-consistent-looking.
      await tamper(h, `update consent_events set kind = 'confirmed', hash = md5(hash) || md5(hash) where seq = $1`, [
        target.seq,
      ]);
      const result = await verify(h);
      expect(result.ok).toBe(false);
      expect(result.brokenAt).toBe(target.seq);
    }));

  it('a rewritten last row changes the head, so a head recorded earlier exposes it', () =>
    tamperable(async (h, rows) => {
      const recordedHead = (await verify(h)).head;
      const last = rows.at(-1)!;
      await tamper(h, `update consent_events set source = 'admin' where seq = $1`, [last.seq]);
      const result = await verify(h);
      expect(result).toMatchObject({ ok: false, brokenAt: last.seq });
      expect(result.head).not.toBe(recordedHead);
    }));
});

describe.each(databaseKinds)('consent ledger under concurrency on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(kind);
  });
  afterAll(() => h?.close());

  it('20 concurrent signups still make one valid chain', async () => {
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        postSignup(h, { email: uniqueEmail(`burst${i}`) }, { ip: `192.0.2.${i + 1}` }),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(202));
    const rows = await ledger(h);
    expect(rows.filter((r) => r.kind === 'requested')).toHaveLength(20);
    expectLinked(rows);
    expect(new Set(rows.map((r) => r.hash)).size).toBe(rows.length);
    expect(await verify(h)).toEqual({ ok: true, events: rows.length, head: rows.at(-1)!.hash, pending: 0 });
  });

  it('concurrent confirmations, topic changes and unsubscribes interleaved with signups keep the chain valid', async () => {
    await Promise.all(Array.from({ length: 10 }, (_, i) => postSignup(h, { email: uniqueEmail(`mix${i}`) })));
    await h.deliver();
    const confirmLinks = h.smtp.messages
      .filter((m) => /Confirm your subscription/.test(m.parsed.subject ?? ''))
      .map((m) => linkIn(m.parsed.text ?? '', '/confirm/'));
    expect(confirmLinks.length).toBeGreaterThanOrEqual(30);

    const actives = [];
    for (let i = 0; i < 5; i++) actives.push(await activeSubscriber(h));
    const work: Promise<Response>[] = [
      ...confirmLinks.map((url) => h.request(pathOf(url), { method: 'POST' })),
      ...Array.from({ length: 10 }, (_, i) => postSignup(h, { email: uniqueEmail(`late${i}`) })),
      ...actives.map((s, i) =>
        i % 2
          ? h.request(pathOf(s.unsubscribeUrl), {
              method: 'POST',
              body: 'List-Unsubscribe=One-Click',
              headers: { 'content-type': 'application/x-www-form-urlencoded' },
            })
          : h.request(`/v1/preferences/${s.preferencesToken}`, {
              method: 'PUT',
              body: JSON.stringify({ topics: ['release'] }),
              headers: { 'content-type': 'application/json' },
            }),
      ),
    ];
    const statuses = (await Promise.all(work)).map((r) => r.status);
    expect(statuses.every((s) => s === 200 || s === 202)).toBe(true);

    const rows = await ledger(h);
    expectLinked(rows);
    expect(await verify(h)).toEqual({ ok: true, events: rows.length, head: rows.at(-1)!.hash, pending: 0 });
  });
});
