import { createHmac, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, createTopic, draftBroadcast, frozenAudience, seedActiveSubscribers } from '../support/broadcasts.js';
import { activeSubscriber, uniqueEmail } from '../support/factories.js';
import { createHarness, databaseKinds, type Harness } from '../support/harness.js';

const WEBHOOK_SECRET = 'whsec-test-0123456789abcdef';
const DAY = 86_400_000;

describe.each(databaseKinds)('bounce webhook on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(kind, { WEBHOOK_SECRET, BOUNCE_ADDRESS: 'bounces@quire.test' });
  });
  afterAll(() => h?.close());

  /** Stripe-style signature over the raw body, at the service clock's time unless told otherwise. */
  const sign = (body: string, opts: { t?: number; secret?: string } = {}) => {
    const t = opts.t ?? Math.floor(h.clock.now().getTime() / 1000);
    return `t=${t},v1=${createHmac('sha256', opts.secret ?? WEBHOOK_SECRET)
      .update(`${t}.${body}`)
      .digest('hex')}`;
  };
  const post = (payload: unknown, opts: { signature?: string | null; t?: number; secret?: string } = {}) => {
    const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
    const signature = opts.signature === undefined ? sign(body, opts) : opts.signature;
    return h.request('/webhooks/bounces', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        ...(signature === null ? {} : { 'x-quire-signature': signature }),
      },
      body,
    });
  };
  const statusOf = async (id: string) =>
    (await h.query<{ status: string }>('select status from subscribers where id = $1', [id]))[0]!.status;
  const ledgerOf = (id: string) =>
    h.query<{ kind: string; source: string }>(
      `select kind, source from consent_events where subscriber_id = $1 and kind = 'suppressed' order by seq`,
      [id],
    );
  const suppressionsOf = (id: string) =>
    h.query<{ reason: string }>(
      'select x.reason from suppressions x join subscribers s on s.email_hash = x.email_hash where s.id = $1 order by x.reason',
      [id],
    );
  const bounceCount = async () =>
    Number((await h.query<{ n: string }>('select count(*) as n from bounce_events'))[0]!.n);

  it('records a signed hard bounce: suppressed, marked bounced, one ledger event — and the same event again adds none', async () => {
    const s = await activeSubscriber(h);
    const event = {
      type: 'hard',
      email: s.email,
      diagnostic: 'smtp; 550 5.1.1 <x>: Recipient address rejected: User unknown',
    };
    const res = await post(event);
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await res.json()).toEqual({ received: 1, suppressed: 1, unknown: 0 });
    expect(await statusOf(s.id)).toBe('bounced');
    expect(await suppressionsOf(s.id)).toEqual([{ reason: 'hard_bounce' }]);
    expect(await ledgerOf(s.id)).toEqual([{ kind: 'suppressed', source: 'webhook:hard_bounce' }]);
    const [bounce] = await h.query<{ type: string; source: string; diagnostic: string }>(
      'select b.type, b.source, b.diagnostic from bounce_events b join subscribers s on s.email_hash = b.email_hash where s.id = $1',
      [s.id],
    );
    expect(bounce).toEqual({ type: 'hard', source: 'webhook', diagnostic: event.diagnostic });

    // The ESP retries (or replays within the window): still 200, nothing new in the ledger.
    const again = await post(event);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ received: 1, suppressed: 1, unknown: 0 });
    expect(await ledgerOf(s.id)).toHaveLength(1);
    expect(await suppressionsOf(s.id)).toEqual([{ reason: 'hard_bounce' }]);
    const chain = await (await admin(h, '/admin/v1/consent/verify')).json();
    expect(chain.ok).toBe(true);
  });

  it('records a complaint: suppressed with reason complaint, marked complained', async () => {
    const s = await activeSubscriber(h);
    const res = await post({ type: 'complaint', email: s.email.toUpperCase() });
    expect(await res.json()).toEqual({ received: 1, suppressed: 1, unknown: 0 });
    expect(await statusOf(s.id)).toBe('complained');
    expect(await suppressionsOf(s.id)).toEqual([{ reason: 'complaint' }]);
    expect(await ledgerOf(s.id)).toEqual([{ kind: 'suppressed', source: 'webhook:complaint' }]);
  });

  it('accepts a signature up to 5 minutes old, and refuses bad, old, future or missing signatures without recording anything', async () => {
    const s = await activeSubscriber(h);
    const event = { type: 'hard', email: s.email };
    const body = JSON.stringify(event);
    const now = Math.floor(h.clock.now().getTime() / 1000);
    const before = await bounceCount();

    const refused = [
      await post(event, { signature: null }),
      await post(event, { signature: '' }),
      await post(event, { signature: 'garbage' }),
      await post(event, { secret: 'another-secret-0123456789' }),
      await post(event, { t: now - 301 }),
      await post(event, { t: now + 301 }),
      await post(event, { signature: sign(JSON.stringify({ type: 'soft', email: s.email })) }), // signed another body
      await post(event, { signature: sign(body).replace(/v1=[0-9a-f]{4}/, 'v1=0000') }),
      await post(event, { signature: `t=${now}` }),
    ];
    for (const res of refused) {
      expect(res.status).toBe(401);
      const envelope = await res.json();
      expect(envelope.error.code).toBe('unauthorized');
      expect(envelope.error.requestId).toBeTruthy();
    }
    // The body must be signed byte for byte: the same JSON re-serialised with a space is another body.
    expect((await post(JSON.stringify(event, null, 1), { signature: sign(body) })).status).toBe(401);
    expect(await bounceCount()).toBe(before);
    expect(await statusOf(s.id)).toBe('active');

    // Several v1 entries (the sender rotating its secret): one matching is enough.
    const t = now - 290;
    const good = sign(body, { t }).split(',')[1]!;
    const rotated = `t=${t},v1=${'ab'.repeat(32)},${good}`;
    const res = await post(event, { signature: rotated });
    expect(res.status).toBe(200);
    expect(await statusOf(s.id)).toBe('bounced');
  });

  it('answers unknown for an address it never held, and keeps nothing about it', async () => {
    const before = await bounceCount();
    const suppressions = async () =>
      Number((await h.query<{ n: string }>('select count(*) as n from suppressions'))[0]!.n);
    const suppressedBefore = await suppressions();
    const res = await post({ type: 'hard', email: uniqueEmail('stranger') });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ received: 1, suppressed: 0, unknown: 1 });
    const byMessageId = await post({ type: 'complaint', message_id: `<${randomUUID()}@quire.test>` });
    expect(await byMessageId.json()).toEqual({ received: 1, suppressed: 0, unknown: 1 });
    expect(await bounceCount()).toBe(before);
    expect(await suppressions()).toBe(suppressedBefore);
  });

  it('resolves a broadcast delivery by message_id, and leaves the suppressed out of the next broadcast', async () => {
    const topic = await createTopic(h);
    const ids = await seedActiveSubscribers(h, 3, { topics: [topic] });
    const first = await draftBroadcast(h, { topic });
    expect((await admin(h, `/admin/v1/broadcasts/${first.id}/send`, { method: 'POST' })).status).toBe(202);
    await h.deliver();
    const rows = await h.query<{ id: string; subscriber_id: string; message_id: string; status: string }>(
      `select id, subscriber_id, message_id, status from deliveries where broadcast_id = $1 order by subscriber_id`,
      [first.id],
    );
    expect(rows.map((r) => r.status)).toEqual(['sent', 'sent', 'sent']);
    const [bounced, complained, kept] = rows as [(typeof rows)[0], (typeof rows)[0], (typeof rows)[0]];
    // VERP: each message's envelope sender names its delivery.
    expect(h.smtp.messages.find((m) => m.parsed.messageId === bounced.message_id)?.envelope.from).toBe(
      `bounces+${bounced.id}@quire.test`,
    );

    const res = await post({
      events: [
        { type: 'hard', message_id: bounced.message_id, diagnostic: 'smtp; 550 5.1.1 user unknown' },
        { type: 'complaint', message_id: complained.message_id.replace(/[<>]/g, '') }, // without angle brackets
      ],
    });
    expect(await res.json()).toEqual({ received: 2, suppressed: 2, unknown: 0 });
    expect(await statusOf(bounced.subscriber_id)).toBe('bounced');
    expect(await statusOf(complained.subscriber_id)).toBe('complained');
    expect(await statusOf(kept.subscriber_id)).toBe('active');
    const after = await h.query<{ id: string; status: string; last_error: string | null }>(
      `select id, status, last_error from deliveries where broadcast_id = $1`,
      [first.id],
    );
    expect(after.find((d) => d.id === bounced.id)).toMatchObject({
      status: 'bounced',
      last_error: 'smtp; 550 5.1.1 user unknown',
    });
    const [linked] = await h.query<{ n: string }>('select count(*) as n from bounce_events where delivery_id = $1', [
      bounced.id,
    ]);
    expect(Number(linked!.n)).toBe(1);

    const next = await draftBroadcast(h, { topic });
    const audience = await (await admin(h, `/admin/v1/broadcasts/${next.id}/audience`)).json();
    expect(audience.audience).toBe(1);
    await admin(h, `/admin/v1/broadcasts/${next.id}/send`, { method: 'POST' });
    expect(await frozenAudience(h, next.id)).toEqual([kept.subscriber_id]);
    expect(ids).toContain(kept.subscriber_id);
  });

  it('takes a batch of events, and refuses a batch with an invalid event as a whole', async () => {
    const [a, b, c] = [await activeSubscriber(h), await activeSubscriber(h), await activeSubscriber(h)];
    const before = await bounceCount();

    const invalid = await post({
      events: [{ type: 'hard', email: a.email }, { type: 'hard' }, { type: 'bounced', email: b.email }],
    });
    expect(invalid.status).toBe(422);
    const envelope = await invalid.json();
    expect(envelope.error.code).toBe('validation_failed');
    expect(envelope.error.fields.map((f: { path: string }) => f.path)).toEqual(
      expect.arrayContaining(['events.1.email', 'events.2.type']),
    );
    expect((await post({ type: 'hard' })).status).toBe(422);
    expect((await post({ events: [] })).status).toBe(422);
    expect((await post({ events: Array.from({ length: 101 }, () => ({ type: 'soft', email: a.email })) })).status).toBe(
      422,
    );
    const notJson = await post('{"type": "hard",');
    expect(notJson.status).toBe(400);
    expect((await notJson.json()).error.code).toBe('invalid_json');
    expect(await bounceCount()).toBe(before);

    const res = await post({
      events: [
        { type: 'hard', email: a.email },
        { type: 'complaint', email: b.email },
        { type: 'soft', email: c.email },
        { type: 'hard', email: uniqueEmail('stranger') },
      ],
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ received: 4, suppressed: 2, unknown: 1 });
    expect([await statusOf(a.id), await statusOf(b.id), await statusOf(c.id)]).toEqual([
      'bounced',
      'complained',
      'active',
    ]);
    expect(await bounceCount()).toBe(before + 3);
  });

  it('suppresses soft bounces only once three of them span more than 14 days', async () => {
    const s = await activeSubscriber(h);
    const soft = () => post({ type: 'soft', email: s.email, diagnostic: 'smtp; 452 4.2.2 Mailbox full' });

    for (const gap of [0, 5 * DAY, 5 * DAY]) {
      h.clock.advance(gap);
      const res = await soft();
      expect(await res.json()).toEqual({ received: 1, suppressed: 0, unknown: 0 });
    }
    // Three soft bounces over 10 days: recorded, not suppressed.
    expect(await statusOf(s.id)).toBe('active');
    expect(await suppressionsOf(s.id)).toEqual([]);
    expect(await ledgerOf(s.id)).toEqual([]);
    const [count] = await h.query<{ n: string }>(
      `select count(*) as n from bounce_events b join subscribers s on s.email_hash = b.email_hash where s.id = $1 and b.type = 'soft'`,
      [s.id],
    );
    expect(Number(count!.n)).toBe(3);

    // A fourth, 15 days after the first: the address keeps failing, so it is suppressed.
    h.clock.advance(5 * DAY);
    const res = await soft();
    expect(await res.json()).toEqual({ received: 1, suppressed: 1, unknown: 0 });
    expect(await statusOf(s.id)).toBe('bounced');
    expect(await suppressionsOf(s.id)).toEqual([{ reason: 'hard_bounce' }]);
    expect(await ledgerOf(s.id)).toEqual([{ kind: 'suppressed', source: 'webhook:soft_bounces' }]);
  });

  it('is documented in the OpenAPI description', async () => {
    const doc = await (await h.request('/openapi.json')).json();
    expect(doc.paths['/webhooks/bounces'].post).toBeTruthy();
    expect(doc.paths['/admin/v1/bounces/ingest'].post.requestBody.content['message/rfc822']).toBeTruthy();
  });
});

describe.each(databaseKinds)('bounce webhook without WEBHOOK_SECRET on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(kind);
  });
  afterAll(() => h?.close());

  it('does not exist', async () => {
    const body = JSON.stringify({ type: 'hard', email: 'reader@example.com' });
    const t = Math.floor(h.clock.now().getTime() / 1000);
    // Even a body signed with an empty secret finds nothing.
    const signature = `t=${t},v1=${createHmac('sha256', '').update(`${t}.${body}`).digest('hex')}`;
    const res = await h.request('/webhooks/bounces', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', 'x-quire-signature': signature },
      body,
    });
    expect(res.status).toBe(404);
    expect((await res.json()).error.code).toBe('not_found');
  });
});
