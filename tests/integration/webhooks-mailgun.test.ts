import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKinds, type Harness } from '../support/harness.js';
import {
  databaseCounts,
  expectLedgerIntact,
  expectRefused,
  providerHarness,
  recordedEvents,
  type SentDelivery,
  sentDelivery,
  stateOf,
  untouched,
} from '../support/provider-events.js';

const KEY = `key-${randomBytes(16).toString('hex')}`;

/** Mailgun's signature (securing-webhooks): hex HMAC-SHA256 of timestamp + token under the signing key. */
const sign = (key: string, timestamp: string, token: string) =>
  createHmac('sha256', key).update(`${timestamp}${token}`).digest('hex');

/** A Mailgun delivery's message id: the transport keeps it without the angle brackets, as events name it. */
const mailgunId = () => `20261125115800.${randomUUID().slice(0, 8)}@mg.quire.test`;

/** An event as Mailgun's events page shows them. */
const eventData = (d: SentDelivery, event: string, extra: Record<string, unknown> = {}) => ({
  id: randomBytes(16).toString('base64url'),
  timestamp: 1795607940.123456,
  event,
  recipient: d.email,
  'recipient-domain': 'example.com',
  message: {
    headers: {
      'message-id': d.providerMessageId,
      from: 'updates@quire.test',
      to: d.email,
      subject: 'New chapter article',
    },
    size: 4321,
  },
  'user-variables': {},
  ...extra,
});
const failed = (d: SentDelivery, severity: string, reason: string) =>
  eventData(d, 'failed', {
    severity,
    reason,
    'delivery-status': {
      code: severity === 'permanent' ? 550 : 452,
      message: `${severity} failure`,
      description: 'Not delivered',
      'attempt-no': 1,
    },
  });

describe.each(databaseKinds)('POST /webhooks/mailgun on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await providerHarness(kind, { MAILGUN_WEBHOOK_SIGNING_KEY: KEY });
  });
  afterAll(() => h?.close());

  const nowSeconds = () => Math.floor(h.clock.now().getTime() / 1000);
  const signature = (opts: { key?: string; t?: number; token?: string } = {}) => {
    const timestamp = String(opts.t ?? nowSeconds());
    const token = opts.token ?? randomBytes(25).toString('hex');
    return { token, timestamp, signature: sign(opts.key ?? KEY, timestamp, token) };
  };
  const post = (body: unknown) =>
    h.request('/webhooks/mailgun', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const delivery = () => sentDelivery(h, mailgunId());

  it('a permanent failure suppresses and marks the delivery bounced — a redelivery, re-signed or not, changes nothing', async () => {
    const d = await delivery();
    const data = failed(d, 'permanent', 'bounce');
    const first = { signature: signature(), 'event-data': data };
    const res = await post(first);
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await res.json()).toEqual({ received: 1, duplicates: 0, suppressed: 1, unsubscribed: 0, unknown: 0 });
    const after = {
      status: 'bounced',
      suppressions: ['hard_bounce'],
      ledger: ['suppressed:webhook:hard_bounce'],
      delivery: 'bounced',
      bounced: 1,
    };
    expect(await stateOf(h, d)).toEqual(after);
    expect(await recordedEvents(h, d.deliveryId)).toEqual([
      { provider: 'mailgun', kind: 'bounce', outcome: 'suppressed' },
    ]);

    const before = await databaseCounts(h);
    expect(await (await post(first)).json()).toMatchObject({ received: 1, duplicates: 1 });
    expect(await (await post({ signature: signature(), 'event-data': data })).json()).toMatchObject({
      received: 1,
      duplicates: 1,
    });
    expect(await databaseCounts(h)).toEqual(before);
    expect(await stateOf(h, d)).toEqual(after);
    await expectLedgerIntact(h);
  });

  it('temporary failures are soft; complaints, unsubscribes and suppress-* failures act; deliveries are only counted', async () => {
    const soft = await delivery();
    await post({ signature: signature(), 'event-data': failed(soft, 'temporary', 'generic') });
    expect(await stateOf(h, soft)).toEqual(untouched);
    expect(await h.query('select type from bounce_events where delivery_id = $1', [soft.deliveryId])).toEqual([
      { type: 'soft' },
    ]);

    const spam = await delivery();
    await post({ signature: signature(), 'event-data': eventData(spam, 'complained') });
    expect(await stateOf(h, spam)).toEqual({
      status: 'complained',
      suppressions: ['complaint'],
      ledger: ['suppressed:webhook:complaint'],
      delivery: 'bounced',
      bounced: 1,
    });

    const leaver = await delivery();
    expect(
      await (await post({ signature: signature(), 'event-data': eventData(leaver, 'unsubscribed') })).json(),
    ).toMatchObject({ unsubscribed: 1 });
    expect(await stateOf(h, leaver)).toEqual({
      ...untouched,
      status: 'unsubscribed',
      suppressions: ['unsubscribed'],
      ledger: ['unsubscribed:webhook:mailgun'],
    });

    // Mailgun refusing to send because of its own complaint list.
    const listed = await delivery();
    await post({ signature: signature(), 'event-data': failed(listed, 'permanent', 'suppress-complaint') });
    expect(await stateOf(h, listed)).toMatchObject({
      status: 'complained',
      suppressions: ['complaint'],
      delivery: 'bounced',
    });

    const ok = await delivery();
    expect(
      await (await post({ signature: signature(), 'event-data': eventData(ok, 'delivered') })).json(),
    ).toMatchObject({ received: 1, suppressed: 0 });
    expect(await stateOf(h, ok)).toEqual(untouched);
    expect(await recordedEvents(h, ok.deliveryId)).toEqual([
      { provider: 'mailgun', kind: 'delivered', outcome: 'delivered' },
    ]);
  });

  it('refuses a used token carrying another event: Mailgun signs the token, not the body', async () => {
    const victim = await delivery();
    const captured = signature();
    expect((await post({ signature: captured, 'event-data': eventData(await delivery(), 'delivered') })).status).toBe(
      200,
    );
    const before = await databaseCounts(h);
    await expectRefused(
      await post({ signature: captured, 'event-data': eventData(victim, 'complained') }),
      401,
      'unauthorized',
    );
    expect(await databaseCounts(h)).toEqual(before);
    expect(await stateOf(h, victim)).toEqual(untouched);
  });

  it('refuses missing, wrong, stale or future signatures with 401, and accepts a subaccount parent-signature', async () => {
    const d = await delivery();
    const data = eventData(d, 'complained');
    const good = signature();
    const before = await databaseCounts(h);
    const refused = [
      { 'event-data': data },
      { signature: 'x', 'event-data': data },
      { signature: { ...good, signature: undefined }, 'event-data': data },
      { signature: signature({ key: `key-${randomBytes(16).toString('hex')}` }), 'event-data': data },
      { signature: { ...good, token: `${good.token}x` }, 'event-data': data },
      { signature: { ...good, timestamp: String(Number(good.timestamp) - 1) }, 'event-data': data },
      {
        signature: {
          ...good,
          signature: good.signature.toUpperCase().replace(/[0-9A-F]$/, (c) => (c === '0' ? '1' : '0')),
        },
        'event-data': data,
      },
      { signature: signature({ t: nowSeconds() - 301 }), 'event-data': data },
      { signature: signature({ t: nowSeconds() + 301 }), 'event-data': data },
    ];
    for (const body of refused) await expectRefused(await post(body), 401, 'unauthorized');
    expect(await databaseCounts(h)).toEqual(before);
    expect(await stateOf(h, d)).toEqual(untouched);

    const token = randomBytes(25).toString('hex');
    const timestamp = String(nowSeconds());
    const subaccount = {
      token,
      timestamp,
      signature: sign('key-of-the-subaccount-0000', timestamp, token),
      'parent-signature': sign(KEY, timestamp, token),
    };
    expect((await post({ signature: subaccount, 'event-data': data })).status).toBe(200);
    expect((await stateOf(h, d)).status).toBe('complained');
  });

  it('answers 4xx to bodies that are not Mailgun events, changing nothing', async () => {
    const d = await delivery();
    const before = await databaseCounts(h);
    await expectRefused(await post('{"signature": '), 400, 'invalid_json');
    await expectRefused(await post({ signature: signature() }), 422, 'validation_failed');
    await expectRefused(
      await post({ signature: signature(), 'event-data': { ...eventData(d, 'failed'), timestamp: 'yesterday' } }),
      422,
      'validation_failed',
    );
    expect(await databaseCounts(h)).toEqual(before);
    expect(await (await post({ signature: signature(), 'event-data': eventData(d, 'opened') })).json()).toMatchObject({
      received: 0,
    });
    expect(await stateOf(h, d)).toEqual(untouched);
  });
});
