import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyConsentChain } from '../../src/core/consent.js';
import { type ChainedEvent, chainHash, GENESIS_HASH } from '../../src/core/consent-canonical.js';
import {
  type Checkpoint,
  type CheckpointStore,
  checkpointIfDue,
  createCheckpoint,
} from '../../src/core/consent-checkpoints.js';
import { importLedgerKey, newLedgerSeed } from '../../src/core/ledger-key.js';
import { createLogger } from '../../src/log.js';
import { checkpointDir, readCheckpointFiles, startCheckpoints } from '../../src/runtime/node/checkpoints.js';
import { admin } from '../support/broadcasts.js';
import { activeSubscriber, postSignup, uniqueEmail } from '../support/factories.js';
import { createHarness, databaseKinds, type Harness } from '../support/harness.js';

/**
 * Checkpoints hold against the database's owner: a chain rewritten from the middle, every later link
 * recomputed, verifies by itself, and differs from a checkpoint signed before at the first event changed.
 */

const checkpointNow = async (h: Harness, from?: number): Promise<Checkpoint> => {
  const res = await admin(h, '/admin/v1/consent/checkpoints', {
    method: 'POST',
    body: JSON.stringify(from === undefined ? {} : { from }),
  });
  expect(res.status).toBe(201);
  return res.json();
};

const verifyAgainst = async (h: Harness, checkpoints: unknown[]) => {
  const res = await admin(h, '/admin/v1/consent/verify', { method: 'POST', body: JSON.stringify({ checkpoints }) });
  expect(res.status).toBe(200);
  return res.json();
};

const chain = (h: Harness) =>
  h.query<ChainedEvent & { seq: number; chainSeq: number; hash: string }>(
    `select seq::int as seq, chain_seq::int as "chainSeq", hash, subscriber_id as "subscriberId", email_hash as "emailHash", kind,
            consent_text_version as "consentTextVersion", topics, source, ip_hash as "ipHash", user_agent as "userAgent",
            details_salt as "detailsSalt", details_digest as "detailsDigest", canonical_form as "canonicalForm",
            occurred_at as "occurredAt"
       from consent_events where chain_seq is not null order by chain_seq`,
  );

/**
 * What an owner can do: switch the trigger off, change the event at `position`, and relink every event
 * from there on, so the chain verifies by itself.
 */
async function rewriteFrom(h: Harness, position: number, edit: string) {
  const rows = await chain(h);
  await h.query('alter table consent_events disable trigger consent_events_append_only');
  try {
    await h.query(`update consent_events set ${edit} where chain_seq = $1`, [position]);
    let prev = rows.find((r) => r.chainSeq === position - 1)?.hash ?? GENESIS_HASH;
    for (const r of await chain(h)) {
      if (r.chainSeq < position) continue;
      const hash = chainHash(prev, { ...r, occurredAt: new Date(r.occurredAt) });
      await h.query('update consent_events set prev_hash = $2, hash = $3 where seq = $1', [r.seq, prev, hash]);
      prev = hash;
    }
  } finally {
    await h.query('alter table consent_events enable trigger consent_events_append_only');
  }
}

async function someHistory(h: Harness, n: number) {
  for (let i = 0; i < n; i++) await activeSubscriber(h, { topics: ['release'], source: `history-${i}` });
  await h.seal();
}

describe.each(databaseKinds)('consent ledger checkpoints on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(kind);
  });
  afterAll(() => h?.close());

  it('a chain rewritten from the middle by the owner verifies by itself, and a checkpoint names the first event changed', async () => {
    await someHistory(h, 4);
    const first = await checkpointNow(h);
    expect(first).toMatchObject({ format: 'quire-consent-checkpoint/1', from: 0, prev: GENESIS_HASH });
    expect(first.links).toHaveLength(first.seq);
    await someHistory(h, 2);
    const second = await checkpointNow(h, first.seq);
    expect(second).toMatchObject({ from: first.seq, prev: first.head });
    expect(await verifyAgainst(h, [first, second])).toMatchObject({
      ok: true,
      checkpoints: { checked: 2, upTo: second.seq, ignored: [] },
    });

    const middle = Math.floor(first.seq / 2);
    const [target] = await h.query<{ seq: number }>('select seq::int as seq from consent_events where chain_seq = $1', [
      middle,
    ]);
    await rewriteFrom(h, middle, `topics = '["release","updates","partner-offers"]'::jsonb`);

    expect(await verifyConsentChain(h.services.db)).toMatchObject({ ok: true });
    const result = await verifyAgainst(h, [second, first]);
    expect(result).toMatchObject({
      ok: false,
      reason: 'differs_from_checkpoint',
      brokenAt: target!.seq,
      chainSeq: middle,
      checkpoint: { index: 1, seq: first.seq, at: first.at, expected: first.links[middle - 1] },
    });
    // The later checkpoint alone still catches it, at the first place it covers.
    expect(await verifyAgainst(h, [second])).toMatchObject({
      ok: false,
      reason: 'differs_from_checkpoint',
      chainSeq: first.seq,
    });
    // A rewritten chain is never signed on top of a checkpoint kept before it.
    const store = memoryStore([second]);
    await expect(checkpointIfDue(h.services.db, h.services.ledgerKey!, store, new Date(), 0)).rejects.toThrow(
      /differs from the last checkpoint/,
    );
  });

  it('events cut from the end are named as missing', async () => {
    const fresh = await createHarness(kind);
    try {
      await someHistory(fresh, 2);
      const kept = await checkpointNow(fresh);
      await fresh.query('alter table consent_events disable trigger consent_events_append_only');
      await fresh.query('delete from consent_events where chain_seq > $1', [kept.seq - 2]);
      await fresh.query('alter table consent_events enable trigger consent_events_append_only');
      expect(await verifyConsentChain(fresh.services.db)).toMatchObject({ ok: true });
      expect(await verifyAgainst(fresh, [kept])).toMatchObject({
        ok: false,
        reason: 'missing_from_checkpoint',
        brokenAt: null,
        chainSeq: kept.seq - 1,
      });
    } finally {
      await fresh.close();
    }
  });

  it('relies only on checkpoints signed by its own key as they stand', async () => {
    const fresh = await createHarness(kind);
    try {
      await someHistory(fresh, 1);
      const good = await checkpointNow(fresh);
      const otherKey = await importLedgerKey(newLedgerSeed());
      const foreign = await createCheckpoint(fresh.services.db, otherKey, new Date());
      const edited = { ...good, links: good.links.map((l, i) => (i === 0 ? 'f'.repeat(64) : l)) };
      const relinked = { ...good, at: '2020-01-01T00:00:00.000Z' };
      const short = { ...good, links: good.links.slice(1) };
      const result = await verifyAgainst(fresh, [foreign, edited, relinked, short, good]);
      expect(result).toMatchObject({ ok: true, checkpoints: { checked: 1, upTo: good.seq } });
      expect(result.checkpoints.ignored).toEqual([
        { checkpoint: 0, reason: 'unknown_key' },
        { checkpoint: 1, reason: 'invalid_signature' },
        { checkpoint: 2, reason: 'invalid_signature' },
        { checkpoint: 3, reason: 'malformed' },
      ]);
      const bad = await admin(fresh, '/admin/v1/consent/verify', {
        method: 'POST',
        body: JSON.stringify({ checkpoints: [{ ...good, head: 'not a hash' }] }),
      });
      expect(bad.status).toBe(422);
    } finally {
      await fresh.close();
    }
  });

  it('a broken chain is never signed', async () => {
    const fresh = await createHarness(kind);
    try {
      await someHistory(fresh, 1);
      await fresh.query('alter table consent_events disable trigger consent_events_append_only');
      await fresh.query(`update consent_events set kind = 'confirmed' where chain_seq = 1`);
      await fresh.query('alter table consent_events enable trigger consent_events_append_only');
      const res = await admin(fresh, '/admin/v1/consent/checkpoints', { method: 'POST' });
      expect(res.status).toBe(409);
      expect((await res.json()).error.message).toMatch(/breaks at event/);
    } finally {
      await fresh.close();
    }
  });

  it('kept automatically: one per interval while the ledger grows, each holding the links since the last', async () => {
    const fresh = await createHarness(kind);
    const dir = await mkdtemp(join(tmpdir(), 'quire-checkpoints-'));
    try {
      await someHistory(fresh, 1);
      const key = fresh.services.ledgerKey!;
      const store = checkpointDir(dir);
      const t0 = fresh.clock.now();
      const first = await checkpointIfDue(fresh.services.db, key, store, t0, 3600_000);
      expect(first).toMatchObject({ from: 0 });
      expect(await checkpointIfDue(fresh.services.db, key, store, t0, 3600_000)).toBeUndefined();
      const later = new Date(t0.getTime() + 3600_000);
      expect(await checkpointIfDue(fresh.services.db, key, store, later, 3600_000)).toBeUndefined(); // nothing new
      expect((await postSignup(fresh, { email: uniqueEmail('later') })).status).toBe(202);
      await fresh.seal();
      const second = await checkpointIfDue(fresh.services.db, key, store, later, 3600_000);
      expect(second).toMatchObject({ from: first!.seq, prev: first!.head, seq: first!.seq + 1 });
      const files = await readCheckpointFiles(dir);
      expect(files.map((f) => f.name)).toEqual([
        `consent-${String(first!.seq).padStart(12, '0')}.json`,
        `consent-${String(second!.seq).padStart(12, '0')}.json`,
      ]);
      expect(
        await verifyAgainst(
          fresh,
          files.map((f) => f.checkpoint),
        ),
      ).toMatchObject({
        ok: true,
        checkpoints: { checked: 2 },
      });

      // The Node process's timer: a first checkpoint at start into LEDGER_CHECKPOINT_DIR.
      const own = join(dir, 'node');
      const stop = startCheckpoints(
        fresh.services.db,
        key,
        { ...fresh.config, LEDGER_CHECKPOINT_DIR: own, LEDGER_CHECKPOINT_INTERVAL_MINUTES: 60 },
        createLogger('silent'),
      );
      try {
        await expect.poll(() => readdir(own).catch(() => []), { timeout: 5000 }).toHaveLength(1);
        const [name] = await readdir(own);
        expect(JSON.parse(await readFile(join(own, name!), 'utf8'))).toMatchObject({ seq: second!.seq, from: 0 });
      } finally {
        stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
      await fresh.close();
    }
  });
});

function memoryStore(initial: Checkpoint[] = []): CheckpointStore {
  const kept = [...initial];
  return {
    latest: async () => kept.at(-1),
    put: async (c) => {
      kept.push(c);
    },
  };
}
