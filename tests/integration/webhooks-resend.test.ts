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

const SECRET = `whsec_${randomBytes(24).toString('base64')}`;

/**
 * Svix's signature (docs.svix.com, "Verifying Webhooks Manually"), written out here rather than taken
 * from the library the code under test uses: base64 HMAC-SHA256 of `id.timestamp.body` keyed with the
 * base64-decoded secret.
 */
const svixSignature = (secret: string, id: string, t: number, body: string) =>
  `v1,${createHmac('sha256', Buffer.from(secret.replace(/^whsec_/, ''), 'base64'))
    .update(`${id}.${t}.${body}`)
    .digest('base64')}`;

/** Event bodies as Resend's event-type pages show them. */
const event = (type: string, d: SentDelivery, data: Record<string, unknown> = {}) => ({
  type,
  created_at: '2026-11-25T11:59:00.000Z',
  data: {
    broadcast_id: randomUUID(),
    created_at: '2026-11-25T11:58:00.000Z',
    email_id: d.providerMessageId,
    from: 'updates@quire.test',
    to: [d.email],
    subject: 'New chapter article',
    ...data,
  },
});

describe.each(databaseKinds)('POST /webhooks/resend on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await providerHarness(kind, { RESEND_WEBHOOK_SECRET: SECRET });
    // The standardwebhooks library checks the timestamp against the system clock too (as it should in
    // production): keep the service clock on real time so both agree.
    h.clock.advance(Date.now() - h.clock.now().getTime());
  });
  afterAll(() => h?.close());

  const nowSeconds = () => Math.floor(h.clock.now().getTime() / 1000);
  const post = (
    payload: unknown,
    opts: { id?: string; t?: number; signature?: string | null; secret?: string; omit?: string } = {},
  ) => {
    const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
    const id = opts.id ?? `msg_${randomUUID()}`;
    const t = opts.t ?? nowSeconds();
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json',
      'svix-id': id,
      'svix-timestamp': String(t),
    };
    const signature = opts.signature === undefined ? svixSignature(opts.secret ?? SECRET, id, t, body) : opts.signature;
    if (signature !== null) headers['svix-signature'] = signature;
    if (opts.omit) delete headers[opts.omit];
    return h.request('/webhooks/resend', { method: 'POST', headers, body });
  };

  it('email.bounced (Permanent) suppresses and marks the delivery bounced — a redelivery of the same svix-id changes nothing', async () => {
    const d = await sentDelivery(h);
    const payload = event('email.bounced', d, {
      bounce: {
        message: "The recipient's email provider sent a hard bounce message.",
        subType: 'General',
        type: 'Permanent',
      },
    });
    const id = `msg_${randomUUID()}`;
    const res = await post(payload, { id });
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

    // Svix signs each attempt afresh; the id stays.
    const before = await databaseCounts(h);
    h.clock.advance(60_000);
    const again = await post(payload, { id, t: nowSeconds() - 30 });
    expect(await again.json()).toMatchObject({ received: 1, duplicates: 1, suppressed: 0 });
    expect(await databaseCounts(h)).toEqual(before);
    expect(await stateOf(h, d)).toEqual(after);
    await expectLedgerIntact(h);
  });

  it('Transient bounces are soft; complaints and suppressions suppress; deliveries are only counted', async () => {
    const soft = await sentDelivery(h);
    await post(
      event('email.bounced', soft, { bounce: { message: 'Mailbox full', subType: 'MailboxFull', type: 'Transient' } }),
    );
    expect(await stateOf(h, soft)).toEqual(untouched);
    expect(await h.query('select type from bounce_events where delivery_id = $1', [soft.deliveryId])).toEqual([
      { type: 'soft' },
    ]);

    const spam = await sentDelivery(h);
    await post(event('email.complained', spam));
    expect(await stateOf(h, spam)).toEqual({
      status: 'complained',
      suppressions: ['complaint'],
      ledger: ['suppressed:webhook:complaint'],
      delivery: 'bounced',
      bounced: 1,
    });

    const held = await sentDelivery(h);
    await post(
      event('email.suppressed', held, {
        suppressed: { message: 'The address is on the suppression list.', type: 'OnAccountSuppressionList' },
      }),
    );
    expect(await stateOf(h, held)).toMatchObject({
      status: 'bounced',
      suppressions: ['hard_bounce'],
      delivery: 'bounced',
    });

    const ok = await sentDelivery(h);
    expect(await (await post(event('email.delivered', ok))).json()).toMatchObject({ received: 1, suppressed: 0 });
    expect(await stateOf(h, ok)).toEqual(untouched);
    expect(await recordedEvents(h, ok.deliveryId)).toEqual([
      { provider: 'resend', kind: 'delivered', outcome: 'delivered' },
    ]);
  });

  it('refuses missing, wrong, stale or future signatures with 401, changing nothing', async () => {
    const d = await sentDelivery(h);
    const payload = event('email.complained', d);
    const body = JSON.stringify(payload);
    const before = await databaseCounts(h);
    const id = `msg_${randomUUID()}`;
    const refused = [
      await post(payload, { signature: null }),
      await post(payload, { omit: 'svix-id' }),
      await post(payload, { omit: 'svix-timestamp' }),
      await post(payload, { signature: 'v1,' }),
      await post(payload, { secret: `whsec_${randomBytes(24).toString('base64')}` }),
      await post(payload, { t: nowSeconds() - 301 }),
      await post(payload, { t: nowSeconds() + 301 }),
      await post(payload, { id, signature: svixSignature(SECRET, `msg_${randomUUID()}`, nowSeconds(), body) }),
      await post(payload, { id, signature: svixSignature(SECRET, id, nowSeconds(), JSON.stringify(payload, null, 1)) }),
    ];
    for (const res of refused) await expectRefused(res, 401, 'unauthorized');
    expect(await databaseCounts(h)).toEqual(before);
    expect(await stateOf(h, d)).toEqual(untouched);

    // Several signatures (Resend rotating the secret): one matching is enough.
    const t = nowSeconds() - 290;
    const good = svixSignature(SECRET, id, t, body);
    expect((await post(payload, { id, t, signature: `v1,${randomBytes(32).toString('base64')} ${good}` })).status).toBe(
      200,
    );
    expect((await stateOf(h, d)).status).toBe('complained');
  });

  it('answers 4xx to signed bodies that are not Resend events, and ignores event types it does not act on', async () => {
    const d = await sentDelivery(h);
    const before = await databaseCounts(h);
    await expectRefused(await post('{"type": "email.bounced",'), 400, 'invalid_json');
    await expectRefused(
      await post({ type: 'email.bounced', created_at: '2026-11-25T11:59:00.000Z', data: { to: [d.email] } }),
      422,
      'validation_failed',
    );
    await expectRefused(await post({ data: {} }), 422, 'validation_failed');
    expect(await databaseCounts(h)).toEqual(before);
    const opened = await post(event('email.opened', d));
    expect(await opened.json()).toEqual({ received: 0, duplicates: 0, suppressed: 0, unsubscribed: 0, unknown: 0 });
    expect(await databaseCounts(h)).toEqual(before);
  });
});
