import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  admin,
  broadcastState,
  createTopic,
  draftBroadcast,
  frozenAudience,
  seedActiveSubscribers,
  sendBroadcast,
} from '../support/broadcasts.js';
import { postSignup, uniqueEmail } from '../support/factories.js';
import { createHarness, databaseKinds, type Harness } from '../support/harness.js';

/**
 * The outbox and the frozen audience have no foreign keys to subscribers and broadcasts (migration 0010):
 * their checks locked every subscriber row a freeze wrote. What the constraints guaranteed is kept by the
 * code that writes the columns; these tests go through every such path and then look for an id that
 * points nowhere, and for a recipient frozen twice or sent twice while chunks are split between claims.
 */
describe.each(databaseKinds)('outbox integrity without foreign keys on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    // Batches that do not divide a chunk: claims take parts of chunks, and concurrent claims meet.
    h = await createHarness(kind, { DELIVERY_BATCH: '70', DELIVERY_CONCURRENCY: '3' });
  });
  afterAll(() => h?.close());

  const dangling = async () => {
    const [row] = await h.query<Record<string, string>>(`
      select
        (select count(*) from deliveries d where d.subscriber_id is not null
            and not exists (select 1 from subscribers s where s.id = d.subscriber_id)) as outbox_subscriber,
        (select count(*) from deliveries d where d.broadcast_id is not null
            and not exists (select 1 from broadcasts b where b.id = d.broadcast_id)) as outbox_broadcast,
        (select count(*) from broadcast_audience a cross join unnest(a.subscriber_ids) u(id)
            where not exists (select 1 from subscribers s where s.id = u.id)) as audience_subscriber,
        (select count(*) from broadcast_audience a
            where not exists (select 1 from broadcasts b where b.id = a.broadcast_id)) as audience_broadcast`);
    return Object.fromEntries(Object.entries(row!).map(([k, v]) => [k, Number(v)]));
  };

  it('every path that writes the outbox or an audience names subscribers and broadcasts that exist', async () => {
    const topic = await createTopic(h);
    const ids = await seedActiveSubscribers(h, 1_200, { topics: [topic] });
    await postSignup(h, { email: uniqueEmail('integrity') }); // a confirmation row
    const draft = await draftBroadcast(h, { topic });
    await admin(h, `/admin/v1/broadcasts/${draft.id}/test`, {
      method: 'POST',
      body: JSON.stringify({ to: ['author@example.com'] }), // a test row: a broadcast, no subscriber
    });
    await sendBroadcast(h, draft.id);
    // Erased while the send is under way: the row stays, blanked, and the recipient is skipped.
    const erased = ids[7]!;
    expect((await admin(h, `/admin/v1/subscribers/${erased}`, { method: 'DELETE' })).status).toBeLessThan(300);
    expect(await dangling()).toEqual({
      outbox_subscriber: 0,
      outbox_broadcast: 0,
      audience_subscriber: 0,
      audience_broadcast: 0,
    });

    const frozen = await frozenAudience(h, draft.id);
    expect(frozen.length).toBe(1_200);
    expect(new Set(frozen).size).toBe(1_200);
    expect(new Set(frozen)).toEqual(new Set(ids));

    // Three drains at once, as three workers would: chunks are split between them, never shared.
    await Promise.all([h.deliver(), h.deliver(), h.deliver()]);
    const rows = await h.query<{ subscriber_id: string; status: string; n: string }>(
      `select subscriber_id, status, count(*) over (partition by subscriber_id) as n
         from deliveries where broadcast_id = $1 and kind = 'broadcast'`,
      [draft.id],
    );
    expect(rows.length).toBe(1_200);
    expect(rows.filter((r) => Number(r.n) !== 1)).toEqual([]);
    expect(rows.find((r) => r.subscriber_id === erased)?.status).toBe('skipped');
    const state = await broadcastState(h, draft.id);
    expect(state.status).toBe('sent');
    expect(state.counts).toMatchObject({ sent: 1_199, skipped: 1, queued: 0, sending: 0 });
    const messageIds = h.smtp.messages.map((m) => m.parsed.messageId);
    expect(messageIds.length).toBe(new Set(messageIds).size);
    expect(await dangling()).toEqual({
      outbox_subscriber: 0,
      outbox_broadcast: 0,
      audience_subscriber: 0,
      audience_broadcast: 0,
    });
  });

  it('a cancelled broadcast keeps its unclaimed audience out of the outbox and counts it as skipped', async () => {
    const topic = await createTopic(h);
    await seedActiveSubscribers(h, 600, { topics: [topic] });
    const draft = await draftBroadcast(h, { topic });
    await sendBroadcast(h, draft.id);
    expect((await admin(h, `/admin/v1/broadcasts/${draft.id}/cancel`, { method: 'POST' })).status).toBe(200);
    await h.deliver();
    const state = await broadcastState(h, draft.id);
    expect(state.status).toBe('cancelled');
    expect(state.counts).toMatchObject({ skipped: 600, sent: 0, queued: 0 });
    const [row] = await h.query<{ n: string }>(`select count(*) as n from deliveries where broadcast_id = $1`, [
      draft.id,
    ]);
    expect(Number(row!.n)).toBe(0);
  });
});
