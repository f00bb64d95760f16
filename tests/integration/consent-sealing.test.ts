import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyConsentChain } from '../../src/core/consent.js';
import {
  createConsentSealer,
  hasUnsealedEvents,
  LEDGER_LOCK,
  sealConsentEvents,
} from '../../src/core/consent-sealer.js';
import { activeSubscriber, postSignup, uniqueEmail } from '../support/factories.js';
import { createHarness, databaseKinds, type Harness } from '../support/harness.js';

interface Row {
  seq: number;
  chain_seq: number | null;
  prev_hash: string | null;
  hash: string | null;
}
const rows = (h: Harness) =>
  h.query<Row>('select seq::int as seq, chain_seq::int as chain_seq, prev_hash, hash from consent_events order by seq');
const unsealed = async (h: Harness) => (await rows(h)).filter((r) => r.chain_seq === null);

describe.each(databaseKinds)('consent ledger sealing on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(kind);
  });
  afterAll(() => h?.close());

  it('a signup writes its event unsealed in its own transaction; sealing links it after the head, once', async () => {
    await h.seal();
    const [head] = await h.query<{ chain_seq: number; hash: string }>(
      'select chain_seq::int as chain_seq, hash from consent_events order by chain_seq desc nulls last limit 1',
    );
    expect((await postSignup(h, { email: uniqueEmail('seal') })).status).toBe(202);
    const [pending] = await unsealed(h);
    expect(pending).toMatchObject({ chain_seq: null, prev_hash: null, hash: null });

    expect(await h.seal()).toBe(1);
    const sealed = (await rows(h)).find((r) => r.seq === pending!.seq)!;
    expect(sealed.chain_seq).toBe((head?.chain_seq ?? 0) + 1);
    expect(sealed.prev_hash).toBe(head?.hash ?? '0'.repeat(64));
    expect(sealed.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(await h.seal()).toBe(0);
    expect(await verifyConsentChain(h.services.db)).toMatchObject({ ok: true, pending: 0 });
  });

  it('seals a backlog larger than one batch in several, in seq order, as one chain', async () => {
    await Promise.all(
      Array.from({ length: 7 }, (_, i) =>
        postSignup(h, { email: uniqueEmail(`backlog${i}`) }, { ip: `198.51.100.${i + 1}` }),
      ),
    );
    const backlog = await unsealed(h);
    expect(backlog).toHaveLength(7);
    expect(await sealConsentEvents(h.services.db, { wait: true, batchSize: 3 })).toBe(7);
    const sealed = (await rows(h)).filter((r) => backlog.some((b) => b.seq === r.seq));
    const positions = sealed.map((r) => r.chain_seq!);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    expect(new Set(positions).size).toBe(7);
    expect(await verifyConsentChain(h.services.db)).toMatchObject({ ok: true, pending: 0 });
  });

  it('the trigger lets sealing happen once and change nothing else', async () => {
    expect((await postSignup(h, { email: uniqueEmail('trigger') })).status).toBe(202);
    const [pending] = await unsealed(h);
    const fakeLink = ['9'.repeat(64), 'a'.repeat(64)];
    // Sealing that also edits the event is refused…
    await expect(
      h.query(
        `update consent_events set chain_seq = 1000000, prev_hash = $2, hash = $3, kind = 'confirmed' where seq = $1`,
        [pending!.seq, ...fakeLink],
      ),
    ).rejects.toThrow(/append-only/);
    // …an unsealed event cannot be edited either…
    await expect(
      h.query(`update consent_events set topics = '["forged"]'::jsonb where seq = $1`, [pending!.seq]),
    ).rejects.toThrow(/append-only/);
    // …and once sealed, its link cannot be rewritten.
    await h.seal();
    await expect(
      h.query(`update consent_events set prev_hash = $2, hash = $3 where seq = $1`, [pending!.seq, ...fakeLink]),
    ).rejects.toThrow(/append-only/);
    await expect(
      h.query(`update consent_events set chain_seq = null, prev_hash = null, hash = null where seq = $1`, [
        pending!.seq,
      ]),
    ).rejects.toThrow(/append-only/);
    // A half-sealed row breaks the table's check.
    expect((await postSignup(h, { email: uniqueEmail('half') })).status).toBe(202);
    const [half] = await unsealed(h);
    await expect(h.query(`update consent_events set chain_seq = 1000001 where seq = $1`, [half!.seq])).rejects.toThrow(
      /consent_events_sealed_whole/,
    );
    await h.seal();
    expect(await verifyConsentChain(h.services.db)).toMatchObject({ ok: true, pending: 0 });
  });

  it('verify counts events not sealed yet as pending, outside the chain', async () => {
    const before = await verifyConsentChain(h.services.db);
    expect((await postSignup(h, { email: uniqueEmail('pending') })).status).toBe(202);
    const after = await verifyConsentChain(h.services.db);
    expect(after).toEqual({ ...before, pending: 1 });
  });

  it('a running sealer seals new events by itself', async () => {
    const sealer = createConsentSealer(h.services.db, { intervalMs: 20 });
    sealer.start();
    try {
      await activeSubscriber(h);
      await expect.poll(() => hasUnsealedEvents(h.services.db), { timeout: 5000, interval: 20 }).toBe(false);
    } finally {
      await sealer.stop();
    }
  });
});

describe.runIf(databaseKinds.includes('postgres'))('consent ledger sealing across connections on postgres', () => {
  let h: Harness;
  let other: postgres.Sql;
  beforeAll(async () => {
    h = await createHarness('postgres');
    other = postgres(h.databaseUrl!, { max: 4, onnotice: () => {} });
  });
  afterAll(async () => {
    await other?.end();
    await h?.close();
  });

  // Regression: every signup took the ledger's global lock inside its transaction, so each commit waited
  // for the one before it (signups ran at a quarter of the bare stack's rate).
  it('a signup does not wait for the ledger lock', async () => {
    await other.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(${LEDGER_LOCK})`;
      const res = await postSignup(h, { email: uniqueEmail('unblocked') });
      expect(res.status).toBe(202);
      // A polling sealer gives way to the holder instead of queueing behind it.
      expect(await sealConsentEvents(h.services.db, { wait: false })).toBe(0);
    });
    expect(await h.seal()).toBeGreaterThan(0);
  });

  it('an event committed after later ones is sealed after them, and the chain stays valid', async () => {
    const subscriber = await activeSubscriber(h);
    await h.seal();
    let releaseSlow!: () => void;
    const slowMayCommit = new Promise<void>((resolve) => (releaseSlow = resolve));
    let slowInserted!: () => void;
    const inserted = new Promise<void>((resolve) => (slowInserted = resolve));
    // A transaction that takes an early seq and commits late.
    const slow = other.begin(async (tx) => {
      await tx`insert into consent_events (subscriber_id, email_hash, kind, topics, occurred_at)
               values (${subscriber.id}, 'slow', 'topics_changed', '["release"]', now())`;
      slowInserted();
      await slowMayCommit;
    });
    try {
      await inserted;
      await Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          postSignup(h, { email: uniqueEmail(`fast${i}`) }, { ip: `192.0.2.${i + 50}` }),
        ),
      );
      expect(await h.seal()).toBe(5);
    } finally {
      releaseSlow();
      await slow;
    }
    expect(await h.seal()).toBe(1);

    const chain = await h.query<{ email_hash: string; seq: number }>(
      'select email_hash, seq::int as seq from consent_events order by chain_seq desc limit 6',
    );
    expect(chain[0]!.email_hash).toBe('slow');
    expect(chain.slice(1).every((r) => r.seq > chain[0]!.seq)).toBe(true);
    expect(await verifyConsentChain(h.services.db)).toMatchObject({ ok: true, pending: 0 });
  });

  it('sealers racing in parallel seal every event exactly once', async () => {
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        postSignup(h, { email: uniqueEmail(`race${i}`) }, { ip: `203.0.113.${i + 100}` }),
      ),
    );
    const sealed = await Promise.all([
      sealConsentEvents(h.services.db, { wait: true, batchSize: 4 }),
      sealConsentEvents(h.services.db, { wait: true, batchSize: 7 }),
      sealConsentEvents(h.services.db, { wait: false }),
    ]);
    expect(sealed.reduce((a, b) => a + b, 0)).toBe(30);
    expect(await verifyConsentChain(h.services.db)).toMatchObject({ ok: true, pending: 0 });
  });
});
