import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyLinkToken } from '../../src/core/tokens.js';
import { type BatchReport, emptyReport } from '../../src/delivery/types.js';
import { admin, broadcastState, createTopic, draftBroadcast, seedActiveSubscribers } from './broadcasts.js';
import { postSignup, uniqueEmail } from './factories.js';
import { createHarness, databaseKinds, type Harness, TEST_SECRET } from './harness.js';
import type { Delivered, ProviderCase, StartedStandIn } from './provider-cases.js';

/*
 * End-to-end delivery through each HTTP transport: the app queues mail in the real database, the real
 * engine sends it with the transport MAIL_DSN names, and the provider's strict stand-in records what
 * arrived. One table row per provider (provider-cases.ts); the suite below runs every row on every
 * database kind.
 */

/** Links in mail point here, so the List-Unsubscribe target is checked as https. */
export const PUBLIC_URL = 'https://news.quire.test';
export const CONFIRM_SUBJECT = 'Confirm your subscription to How Teams Think Before They Build';

export interface BroadcastRow {
  id: string;
  subscriber_id: string;
  to: string;
  status: string;
  attempts: number;
  message_id: string | null;
  provider_message_id: string | null;
  last_error: string | null;
}

export const broadcastRows = (h: Harness, broadcastId: string) =>
  h.query<BroadcastRow>(
    `select id, subscriber_id, "to", status, attempts, message_id, provider_message_id, last_error
       from deliveries where broadcast_id = $1 and kind = 'broadcast' order by "to"`,
    [broadcastId],
  );

/** A broadcast to `n` new subscribers of a topic of its own, sent now. */
export async function startBroadcast(
  h: Harness,
  n: number,
  prefix: string,
  extra: (topic: string) => Promise<unknown> = async () => {},
) {
  const topic = await createTopic(h);
  await seedActiveSubscribers(h, n, { topics: [topic], prefix });
  await extra(topic);
  const draft = await draftBroadcast(h, { topic });
  const res = await admin(h, `/admin/v1/broadcasts/${draft.id}/send`, { method: 'POST' });
  expect(res.status).toBe(202);
  return draft.id;
}

const LIST_UNSUBSCRIBE =
  /^<https:\/\/news\.quire\.test\/unsubscribe\/([A-Za-z0-9_-]+)>, <mailto:unsubscribe@quire\.test\?subject=unsubscribe%20([A-Za-z0-9_-]+)>$/;

/**
 * Each row of the broadcast reached the provider exactly once, as its own message: to its own recipient,
 * with its own Message-ID, the provider's id stored on the row, and RFC 8058 headers whose link
 * unsubscribes that row's subscriber and no one else.
 */
export function expectEachRowDeliveredOnce(h: Harness, s: StartedStandIn, rows: BroadcastRow[]) {
  const byMessageId = new Map<string, Delivered[]>();
  for (const d of s.delivered()) byMessageId.set(d.messageId ?? '', [...(byMessageId.get(d.messageId ?? '') ?? []), d]);
  const counts = s.standIn.countByRecipient();
  for (const row of rows) {
    expect(row.status).toBe('sent');
    expect(counts.get(row.to.toLowerCase())).toBe(1);
    const got = byMessageId.get(row.message_id!) ?? [];
    expect(got).toHaveLength(1);
    const d = got[0]!;
    expect(d.to).toEqual([row.to]);
    expect(row.provider_message_id).toBe(d.providerId);
    const lu = LIST_UNSUBSCRIBE.exec(d.header('List-Unsubscribe') ?? '');
    expect(lu, `List-Unsubscribe of ${row.message_id}: ${d.header('List-Unsubscribe')}`).not.toBeNull();
    expect(lu![2]).toBe(lu![1]);
    expect(verifyLinkToken(TEST_SECRET, 'unsubscribe', lu![1]!, h.clock.now())).toMatchObject({
      ok: true,
      subscriberId: row.subscriber_id,
    });
    expect(d.header('List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');
    // Guards against provider mail that lacks the List-Id the SMTP copy carries (RFC 2919).
    expect(d.header('List-Id')).toMatch(/ <[a-z0-9-]+\.quire\.test>$/);
  }
}

/**
 * Drain until nothing of the broadcast is queued, moving the clock past any wait the transport asked for
 * between rounds; `eachRound` runs after every drain. Returns the reports added up.
 */
export async function deliverAll(
  h: Harness,
  broadcastId: string,
  eachRound: () => Promise<void> = async () => {},
  rounds = 30,
): Promise<BatchReport> {
  const total = emptyReport();
  for (let i = 0; i < rounds; i++) {
    const report = await h.deliver();
    for (const k of Object.keys(total) as (keyof BatchReport)[]) total[k] += report[k];
    await eachRound();
    const [left] = await h.query<{ n: number }>(
      `select count(*)::int as n from deliveries where broadcast_id = $1 and status in ('queued', 'sending')`,
      [broadcastId],
    );
    if (left!.n === 0) return total;
    h.clock.advance(60_000);
  }
  throw new Error(`broadcast ${broadcastId} still has rows queued after ${rounds} rounds`);
}

const harnessEnv = (dsn: string, batch: number) => ({
  MAIL_DSN: dsn,
  SMTP_URL: '',
  DELIVERY_BATCH: String(batch),
  PUBLIC_URL,
});

/** The whole suite for some providers, on every database kind. */
export function providerDeliverySuite(cases: ProviderCase[]) {
  describe.each(databaseKinds)('HTTP transports on %s', (kind) => {
    describe.each(cases)('through $name', (pc) => {
      const REFUSED = `refused.1@example.com`;
      let h: Harness;
      let s: StartedStandIn;
      beforeAll(async () => {
        s = await pc.start({ refuse: [REFUSED] });
        h = await createHarness(kind, harnessEnv(s.dsn, 500));
      });
      afterAll(async () => {
        await h?.close();
        await s?.standIn.close();
      });

      it('delivers a signup confirmation exactly once, and stores the provider id', async () => {
        const email = uniqueEmail('confirm');
        expect((await postSignup(h, { email })).status).toBe(202);
        expect(await h.deliver()).toMatchObject({ sent: 1, failed: 0, retried: 0 });
        const got = s.delivered().filter((d) => d.to.includes(email));
        expect(got).toHaveLength(1);
        expect(got[0]).toMatchObject({ to: [email], subject: CONFIRM_SUBJECT });
        const [row] = await h.query<{ status: string; message_id: string; provider_message_id: string }>(
          `select d.status, d.message_id, d.provider_message_id from deliveries d join subscribers s on s.id = d.subscriber_id
            where s.email = $1 and d.kind = 'confirmation'`,
          [email],
        );
        expect(row).toEqual({ status: 'sent', message_id: got[0]!.messageId, provider_message_id: got[0]!.providerId });
        expect(h.smtp.messages).toHaveLength(0);
      });

      it('sends a 1,000-recipient broadcast in batches, once per recipient, with one-click unsubscribe headers', async () => {
        const requestsBefore = s.standIn.requests.length;
        const id = await startBroadcast(h, 1000, `bulk${pc.name}`);
        const report = await h.deliver();
        expect(report).toMatchObject({ sent: 1000, failed: 0, retried: 0, throttled: 0 });
        const state = await broadcastState(h, id);
        expect(state.status).toBe('sent');
        expect(state.counts).toMatchObject({ sent: 1000, queued: 0, sending: 0 });
        const requests = s.standIn.requests.slice(requestsBefore);
        expect(requests).toHaveLength(pc.requestsFor1000);
        expect(requests.every((r) => r.status >= 200 && r.status < 300)).toBe(true);
        const rows = await broadcastRows(h, id);
        expect(rows).toHaveLength(1000);
        expectEachRowDeliveredOnce(h, s, rows);
        expect(new Set(rows.map((r) => r.provider_message_id)).size).toBe(1000);
      }, 90_000);

      it(`settles a refused recipient alone (${pc.refusal.status}), and sends the rest`, async () => {
        const id = await startBroadcast(h, 4, `kept${pc.name}`, (topic) =>
          seedActiveSubscribers(h, 1, { topics: [topic], prefix: 'refused' }),
        );
        await h.deliver();
        const rows = await broadcastRows(h, id);
        const refused = rows.find((r) => r.to === REFUSED)!;
        expect(refused).toMatchObject({ status: pc.refusal.status });
        expect(refused.last_error).toMatch(new RegExp(`^${pc.name}: `));
        expectEachRowDeliveredOnce(
          h,
          s,
          rows.filter((r) => r !== refused),
        );
        expect(s.standIn.countByRecipient().get(REFUSED)).toBeUndefined();
        const state = await broadcastState(h, id);
        expect(state.status).toBe('sent');
        expect(state.counts).toMatchObject({ sent: 4, [pc.refusal.status]: 1 });
        const [sub] = await h.query<{ status: string; suppressed: boolean }>(
          `select s.status, exists (select 1 from suppressions x where x.email_hash = s.email_hash) as suppressed from subscribers s where s.email = $1`,
          [REFUSED],
        );
        expect(sub).toEqual(
          pc.refusal.suppressed ? { status: 'bounced', suppressed: true } : { status: 'active', suppressed: false },
        );
        // Regression: a provider API's refusal was recorded as an SMTP relay's.
        const bounces = await h.query<{ source: string }>(
          `select b.source from bounce_events b join subscribers s on s.email_hash = b.email_hash where s.email = $1`,
          [REFUSED],
        );
        expect(bounces).toEqual(pc.refusal.suppressed ? [{ source: 'api' }] : []);
      });
    });

    describe.each(cases)('through $name, rate limited', (pc) => {
      let h: Harness;
      let s: StartedStandIn;
      beforeAll(async () => {
        s = await pc.start({ rateLimitPerSecond: pc.rateLimited.rateLimitPerSecond });
        h = await createHarness(kind, harnessEnv(s.dsn, pc.rateLimited.batch));
      });
      afterAll(async () => {
        await h?.close();
        await s?.standIn.close();
      });

      it('slows down on 429 and loses nothing: every recipient once, no attempt spent, never paused', async () => {
        const { recipients } = pc.rateLimited;
        const id = await startBroadcast(h, recipients, `paced${pc.name}`);
        // Whether the engine waits a 429 out in the lane or puts the rows back for later, the provider's
        // "later" is neither a failure nor a retry: no row fails, none spends an attempt, nothing pauses.
        const total = await deliverAll(h, id, async () =>
          expect((await broadcastState(h, id)).status).toMatch(/^(sending|sent)$/),
        );
        expect(total).toMatchObject({ failed: 0, retried: 0, relayUnreachable: 0 });
        const refused = s.standIn.requests.filter((r) => r.status === 429).length;
        expect(refused).toBeGreaterThan(0);
        // Slowed to the provider's pace, not hammering it: a 429 holds every lane of the transport.
        expect(refused).toBeLessThanOrEqual(2 * recipients);
        const rows = await broadcastRows(h, id);
        expect(rows).toHaveLength(recipients);
        expectEachRowDeliveredOnce(h, s, rows);
        expect(rows.map((r) => r.attempts)).toEqual(Array(recipients).fill(1));
        const state = await broadcastState(h, id);
        expect(state).toMatchObject({ status: 'sent', statusReason: null });
        expect(state.counts).toMatchObject({ sent: recipients });
      });
    });
  });
}
