import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendConsentEvent, verifyConsentChain } from '../../src/core/consent.js';
import { chainHash, detailsDigest, GENESIS_HASH } from '../../src/core/consent-canonical.js';
import { admin, draftBroadcast } from '../support/broadcasts.js';
import { activeSubscriber, uniqueEmail } from '../support/factories.js';
import { createHarness, databaseKinds, type Harness } from '../support/harness.js';

/**
 * The chain covers an event's details (source, IP hash, user agent) through a salted digest, so erasure
 * can remove them and the chain still verifies; the database seals in the form the code verifies.
 */

interface EventRow {
  seq: number;
  source: string | null;
  ip_hash: string | null;
  user_agent: string | null;
  details_salt: string | null;
  details_digest: string | null;
  canonical_form: number;
  hash: string | null;
}

const eventsOf = (h: Harness, subscriberId: string) =>
  h.query<EventRow>(
    `select seq::int as seq, source, ip_hash, user_agent, details_salt, details_digest, canonical_form, hash
       from consent_events where subscriber_id = $1 order by seq`,
    [subscriberId],
  );

/** Text JSON.stringify and PostgreSQL's to_json could disagree on, and topics UTF-16 and UTF-8 order apart. */
const AWKWARD = [
  'quote " backslash \\ slash /',
  'controls \u0001\u001f\t\n\r\b\f and DEL \u007f',
  'line separators \u2028\u2029, accents é ß, CJK 書',
  'astral 😀 𝔘, zero-width \u200b',
];

describe.each(databaseKinds)('consent event details on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(kind);
  });
  afterAll(() => h?.close());

  it('the database digests and seals exactly what the code verifies, byte for byte', async () => {
    const subscriberId = randomUUID();
    for (const [i, text] of AWKWARD.entries()) {
      await appendConsentEvent(h.services.db, {
        subscriberId,
        emailHash: `hash "${i}" \\`,
        kind: i % 2 ? 'topics_changed' : 'requested',
        consentTextVersion: i % 2 ? null : h.services.consentVersion,
        // U+FF5E sorts after U+1F600 in UTF-16 and before it in UTF-8: the forms must agree on one.
        topics: ['\uff5e', '😀', 'release', 'Z', text.slice(0, 3)],
        source: text,
        ipHash: i === 2 ? null : 'f'.repeat(64),
        userAgent: `${text} Mozilla/5.0`,
        occurredAt: new Date(Date.UTC(2026, 10, 25, 12, 0, i, 999)),
      });
    }
    expect(await h.seal()).toBe(AWKWARD.length);
    const rows = await eventsOf(h, subscriberId);
    for (const r of rows) {
      expect(r.canonical_form).toBe(2);
      expect(r.details_salt).toMatch(/^[0-9a-f]{32}$/);
      expect(r.details_digest).toBe(detailsDigest(r.details_salt!, r.source, r.ip_hash, r.user_agent));
    }
    expect(await verifyConsentChain(h.services.db)).toMatchObject({ ok: true, pending: 0 });
  });

  it('erasure removes the details and their salt, keeps the digest, and the chain still verifies', async () => {
    const sub = await activeSubscriber(h, { source: `talk-${randomUUID()}` });
    await h.seal();
    const before = await eventsOf(h, sub.id);
    expect(before.length).toBeGreaterThanOrEqual(2);
    expect(before.some((r) => r.source !== null)).toBe(true);

    const [{ n }] = (await h.query<{ n: number }>('select consent_events_erase_details($1) as n', [sub.id])) as [
      { n: number },
    ];
    expect(n).toBe(before.length);
    const after = await eventsOf(h, sub.id);
    for (const [i, r] of after.entries()) {
      expect(r).toMatchObject({ source: null, ip_hash: null, user_agent: null, details_salt: null });
      expect(r.details_digest).toBe(before[i]!.details_digest);
      expect(r.hash).toBe(before[i]!.hash);
    }
    expect(await verifyConsentChain(h.services.db)).toMatchObject({ ok: true });
    // Once: there is nothing left to erase.
    expect((await h.query<{ n: number }>('select consent_events_erase_details($1) as n', [sub.id]))[0]!.n).toBe(0);
  });

  it('the trigger allows erasing details only whole, only to NULL, and nothing else with them', async () => {
    const sub = await activeSubscriber(h, { source: 'book-site' });
    await h.seal();
    const [event] = await eventsOf(h, sub.id);
    const attempts = [
      `update consent_events set source = 'elsewhere' where seq = $1`,
      'update consent_events set source = null where seq = $1',
      'update consent_events set source = null, ip_hash = null, user_agent = null where seq = $1',
      'update consent_events set details_salt = null where seq = $1',
      'update consent_events set source = null, ip_hash = null, user_agent = null, details_salt = null, details_digest = null where seq = $1',
      `update consent_events set source = null, ip_hash = null, user_agent = null, details_salt = null, kind = 'erased' where seq = $1`,
      'update consent_events set canonical_form = 1 where seq = $1',
    ];
    for (const statement of attempts)
      await expect(h.query(statement, [event!.seq]), statement).rejects.toThrow(/append-only/);
    expect(await eventsOf(h, sub.id)).toEqual(await eventsOf(h, sub.id));
    // A row arrives unsealed, in form 2, with the digest of what it holds, whatever the writer sent.
    await expect(
      h.query(
        `insert into consent_events (subscriber_id, email_hash, kind, occurred_at, chain_seq, prev_hash, hash)
         values ($1, 'x', 'requested', now(), 999999, $2, $2)`,
        [sub.id, GENESIS_HASH],
      ),
    ).rejects.toThrow(/unsealed/);
    const [written] = await h.query<EventRow>(
      `insert into consent_events (subscriber_id, email_hash, kind, occurred_at, source, canonical_form, details_digest)
       values ($1, 'x', 'requested', now(), 'typed', 1, 'forged')
       returning seq::int as seq, source, ip_hash, user_agent, details_salt, details_digest, canonical_form, hash`,
      [sub.id],
    );
    expect(written!.canonical_form).toBe(2);
    expect(written!.details_digest).toBe(detailsDigest(written!.details_salt!, 'typed', null, null));
    await h.seal();
    expect(await verifyConsentChain(h.services.db)).toMatchObject({ ok: true });
  });

  it('text edited behind the digest is caught at its event', async () => {
    const sub = await activeSubscriber(h, { source: 'book-site' });
    await h.seal();
    const [event] = await eventsOf(h, sub.id);
    await h.query('alter table consent_events disable trigger consent_events_append_only');
    try {
      await h.query(`update consent_events set source = 'bought-list' where seq = $1`, [event!.seq]);
    } finally {
      await h.query('alter table consent_events enable trigger consent_events_append_only');
    }
    expect(await verifyConsentChain(h.services.db)).toMatchObject({
      ok: false,
      brokenAt: event!.seq,
      reason: 'details_mismatch',
    });
  });
});

describe.each(databaseKinds)('consent events sealed before erasable details, on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(kind);
  });
  afterAll(() => h?.close());

  it('keep verifying in form 1 with newer events after them, and keep their text through erasure', async () => {
    const sub = await activeSubscriber(h);
    await h.seal();
    // Play history: an owner's restore of an event sealed in form 1 before every other one.
    const [first] = await h.query<{ seq: number }>('select min(seq)::int as seq from consent_events');
    const old = {
      subscriberId: sub.id,
      emailHash: 'e'.repeat(64),
      kind: 'imported' as const,
      consentTextVersion: h.services.consentVersion,
      topics: ['updates', 'release'],
      source: 'import: list-2025.csv',
      ipHash: null,
      userAgent: 'curl/8.5.0',
      detailsSalt: null,
      detailsDigest: null,
      canonicalForm: 1,
      occurredAt: new Date('2025-06-01T09:30:00.000Z'),
    };
    const rows = await h.query<{ seq: number; chain_seq: number }>(
      'select seq::int as seq, chain_seq::int as chain_seq from consent_events order by chain_seq',
    );
    await h.query('alter table consent_events disable trigger user');
    try {
      // Shift the chain up one place and relink it after the restored event, as it was sealed.
      await h.query('update consent_events set chain_seq = chain_seq + 1000000');
      let prev = chainHash(GENESIS_HASH, old);
      await h.query(
        `insert into consent_events (seq, subscriber_id, email_hash, kind, consent_text_version, topics, source, user_agent,
           occurred_at, canonical_form, chain_seq, prev_hash, hash)
         values ($1, $2, $3, 'imported', $4, $5, $6, $7, $8, 1, 1, $9, $10)`,
        [
          first!.seq - 1,
          old.subscriberId,
          old.emailHash,
          old.consentTextVersion,
          JSON.stringify(old.topics),
          old.source,
          old.userAgent,
          old.occurredAt.toISOString(),
          GENESIS_HASH,
          prev,
        ],
      );
      const full = await h.query<Parameters<typeof chainHash>[1] & { seq: number }>(
        `select seq::int as seq, subscriber_id as "subscriberId", email_hash as "emailHash", kind,
                consent_text_version as "consentTextVersion", topics, source, ip_hash as "ipHash", user_agent as "userAgent",
                details_salt as "detailsSalt", details_digest as "detailsDigest", canonical_form as "canonicalForm",
                occurred_at as "occurredAt"
           from consent_events where chain_seq > 1000000 order by chain_seq`,
      );
      for (const [i, e] of full.entries()) {
        const hash = chainHash(prev, { ...e, occurredAt: new Date(e.occurredAt) });
        await h.query('update consent_events set chain_seq = $2, prev_hash = $3, hash = $4 where seq = $1', [
          e.seq,
          i + 2,
          prev,
          hash,
        ]);
        prev = hash;
      }
    } finally {
      await h.query('alter table consent_events enable trigger user');
    }
    expect(rows.length).toBeGreaterThan(0);
    expect(await verifyConsentChain(h.services.db)).toMatchObject({ ok: true, events: rows.length + 1 });

    // New events seal after it, in form 2.
    await activeSubscriber(h);
    expect(await h.seal()).toBeGreaterThan(0);
    expect(await verifyConsentChain(h.services.db)).toMatchObject({ ok: true });

    // Erasure removes what form 2 allows; the form-1 event keeps its text, or its link would break.
    const erased = await admin(h, `/admin/v1/subscribers/${sub.id}`, { method: 'DELETE' });
    expect(erased.status).toBe(200);
    await h.seal();
    const events = await eventsOf(h, sub.id);
    expect(events.find((e) => e.canonical_form === 1)).toMatchObject({ source: old.source, user_agent: old.userAgent });
    expect(events.filter((e) => e.canonical_form === 2).every((e) => e.source === null || e.source === 'admin')).toBe(
      true,
    );
    await expect(
      h.query(
        'update consent_events set source = null, ip_hash = null, user_agent = null, details_salt = null where canonical_form = 1',
      ),
    ).rejects.toThrow(/append-only/);
    expect(await verifyConsentChain(h.services.db)).toMatchObject({ ok: true });
  });
});

describe.each(databaseKinds)('a test send’s address on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(kind);
  });
  afterAll(() => h?.close());

  const testRows = (broadcastId: string) =>
    h.query<{ to: string | null; status: string; last_error: string | null }>(
      `select "to", status, last_error from deliveries where broadcast_id = $1 and kind = 'test' order by status`,
      [broadcastId],
    );

  it('is held only until the row is settled, and a relay reply quoting it loses it too', async () => {
    const draft = await draftBroadcast(h);
    const sent = uniqueEmail('proof');
    const refused = uniqueEmail('refused');
    const test = (to: string) =>
      admin(h, `/admin/v1/broadcasts/${draft.id}/test`, { method: 'POST', body: JSON.stringify({ to: [to] }) });
    expect((await test(sent)).status).toBe(202);
    expect((await testRows(draft.id))[0]).toMatchObject({ to: sent, status: 'queued' });
    await h.deliver();
    expect(h.smtp.messages.some((m) => m.envelope.to.includes(sent))).toBe(true);

    h.smtp.failNext(554, `5.7.1 <${refused.toUpperCase()}>: Recipient address rejected`);
    expect((await test(refused)).status).toBe(202);
    await h.deliver();
    const rows = await testRows(draft.id);
    expect(rows.map((r) => r.status)).toEqual(['failed', 'sent']);
    expect(rows.every((r) => r.to === null)).toBe(true);
    expect(rows[0]!.last_error).toContain('<test recipient>');
    expect(JSON.stringify(rows).toLowerCase()).not.toContain(refused.split('@')[0]);
  });

  it('one still waiting when its address is erased is not sent, and forgets it', async () => {
    const sub = await activeSubscriber(h);
    const draft = await draftBroadcast(h);
    const res = await admin(h, `/admin/v1/broadcasts/${draft.id}/test`, {
      method: 'POST',
      body: JSON.stringify({ to: [sub.email.toUpperCase()] }),
    });
    expect(res.status).toBe(202);
    expect((await admin(h, `/admin/v1/subscribers/${sub.id}`, { method: 'DELETE' })).status).toBe(200);
    expect(await testRows(draft.id)).toEqual([{ to: null, status: 'skipped', last_error: null }]);
  });
});
