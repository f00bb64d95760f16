import { createSign, generateKeyPairSync, type KeyObject, randomBytes, randomUUID } from 'node:crypto';
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

/** SendGrid's Signed Event Webhook key pair: ECDSA P-256; the public key is shown as base64 DER SPKI. */
const keyPair = () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const { privateKey, publicKey } = keyPair();
const PUBLIC_KEY = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');

/** base64 DER ECDSA-SHA256 signature of timestamp + raw body (getting-started-event-webhook-security-features). */
const sign = (key: KeyObject, timestamp: string, body: string) =>
  createSign('sha256')
    .update(timestamp + body)
    .sign(key)
    .toString('base64');

/** X-Message-Id as SendGrid answers it at send: older ones hold dots, newer ones do not. */
const xMessageId = () =>
  Math.random() < 0.5
    ? randomBytes(16).toString('base64url').slice(0, 22)
    : `${randomBytes(5).toString('hex')}.dfd.64b469`;

/** An event as the Event Webhook Reference shows it; sg_message_id extends the X-Message-Id. */
const ev = (d: SentDelivery, event: string, extra: Record<string, unknown> = {}) => ({
  email: d.email,
  timestamp: 1795607940,
  'smtp-id': `<${randomUUID()}@ismtpd-555>`,
  event,
  category: ['broadcast'],
  sg_event_id: randomBytes(16).toString('base64url'),
  sg_message_id: `${d.providerMessageId}.filterdrecv-5645d9c87f-6r8pp-1-5E6F7A8B-2.0`,
  quire_message_id: d.messageId,
  ...extra,
});

describe.each(databaseKinds)('POST /webhooks/sendgrid on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await providerHarness(kind, { SENDGRID_WEBHOOK_PUBLIC_KEY: PUBLIC_KEY });
  });
  afterAll(() => h?.close());

  const nowSeconds = () => Math.floor(h.clock.now().getTime() / 1000);
  const post = (
    events: unknown,
    opts: { t?: number; signature?: string | null; key?: KeyObject; signedBody?: string } = {},
  ) => {
    const body = typeof events === 'string' ? events : JSON.stringify(events);
    const t = String(opts.t ?? nowSeconds());
    const signature =
      opts.signature === undefined ? sign(opts.key ?? privateKey, t, opts.signedBody ?? body) : opts.signature;
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json',
      'x-twilio-email-event-webhook-timestamp': t,
    };
    if (signature !== null) headers['x-twilio-email-event-webhook-signature'] = signature;
    return h.request('/webhooks/sendgrid', { method: 'POST', headers, body });
  };
  const delivery = () => sentDelivery(h, xMessageId());

  it('a batch: a bounce suppresses, a spam report suppresses as a complaint, a delivery is counted — the redelivered batch changes nothing', async () => {
    const [dead, spam, ok] = [await delivery(), await delivery(), await delivery()];
    const batch = [
      ev(ok, 'processed'),
      ev(dead, 'bounce', {
        type: 'bounce',
        reason: '550 5.1.1 The email account that you tried to reach does not exist.',
        status: '5.1.1',
        bounce_classification: 'Invalid Address',
      }),
      ev(spam, 'spamreport'),
      ev(ok, 'delivered', { response: '250 OK' }),
    ];
    const res = await post(batch);
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await res.json()).toEqual({ received: 3, duplicates: 0, suppressed: 2, unsubscribed: 0, unknown: 0 });
    const deadAfter = {
      status: 'bounced',
      suppressions: ['hard_bounce'],
      ledger: ['suppressed:webhook:hard_bounce'],
      delivery: 'bounced',
      bounced: 1,
    };
    expect(await stateOf(h, dead)).toEqual(deadAfter);
    expect(await stateOf(h, spam)).toEqual({
      status: 'complained',
      suppressions: ['complaint'],
      ledger: ['suppressed:webhook:complaint'],
      delivery: 'bounced',
      bounced: 1,
    });
    expect(await stateOf(h, ok)).toEqual(untouched);
    expect(await recordedEvents(h, ok.deliveryId)).toEqual([
      { provider: 'sendgrid', kind: 'delivered', outcome: 'delivered' },
    ]);

    const before = await databaseCounts(h);
    h.clock.advance(60_000); // SendGrid retries sign afresh
    expect(await (await post(batch)).json()).toEqual({
      received: 3,
      duplicates: 3,
      suppressed: 0,
      unsubscribed: 0,
      unknown: 0,
    });
    expect(await databaseCounts(h)).toEqual(before);
    expect(await stateOf(h, dead)).toEqual(deadAfter);
    await expectLedgerIntact(h);
  });

  it('blocked is soft; dropped acts on SendGrid suppressions only; unsubscribes unsubscribe', async () => {
    const blocked = await delivery();
    await post([ev(blocked, 'bounce', { type: 'blocked', reason: '421 4.7.0 Try again later', status: '4.7.0' })]);
    expect(await stateOf(h, blocked)).toEqual(untouched);
    expect(await h.query('select type from bounce_events where delivery_id = $1', [blocked.deliveryId])).toEqual([
      { type: 'soft' },
    ]);

    const listed = await delivery();
    await post([ev(listed, 'dropped', { reason: 'Bounced Address', status: '5.0.0' })]);
    expect(await stateOf(h, listed)).toMatchObject({
      status: 'bounced',
      suppressions: ['hard_bounce'],
      delivery: 'bounced',
    });

    const leaver = await delivery();
    const optOut = await delivery();
    const res = await post([
      ev(leaver, 'dropped', { reason: 'Unsubscribed Address', status: '5.0.0' }),
      ev(optOut, 'group_unsubscribe', { asm_group_id: 42 }),
    ]);
    expect(await res.json()).toMatchObject({ received: 2, unsubscribed: 2 });
    for (const d of [leaver, optOut])
      expect(await stateOf(h, d)).toEqual({
        ...untouched,
        status: 'unsubscribed',
        suppressions: ['unsubscribed'],
        ledger: ['unsubscribed:webhook:sendgrid'],
      });

    // Dropped for our own content says nothing about the recipient.
    const content = await delivery();
    await post([ev(content, 'dropped', { reason: 'Spam Content (if spam checker app is enabled)', status: '5.7.1' })]);
    expect(await stateOf(h, content)).toEqual(untouched);
  });

  it('falls back to our Message-ID, then to the address, when sg_message_id is not one we stored', async () => {
    const byMessageId = await delivery();
    await post([ev(byMessageId, 'bounce', { type: 'bounce', sg_message_id: `${xMessageId()}.filter0001.0` })]);
    expect(await stateOf(h, byMessageId)).toMatchObject({ status: 'bounced', delivery: 'bounced' });

    const byAddress = await delivery();
    await post([ev(byAddress, 'spamreport', { sg_message_id: undefined, quire_message_id: undefined })]);
    expect(await stateOf(h, byAddress)).toMatchObject({
      status: 'complained',
      suppressions: ['complaint'],
      delivery: 'sent',
    });
  });

  it('refuses missing, wrong, stale or future signatures with 401, changing nothing', async () => {
    const d = await delivery();
    const events = [ev(d, 'spamreport')];
    const body = JSON.stringify(events);
    const before = await databaseCounts(h);
    const refused = [
      await post(events, { signature: null }),
      await post(events, { signature: '' }),
      await post(events, { signature: 'not base64!' }),
      await post(events, { key: keyPair().privateKey }),
      await post(events, { signedBody: JSON.stringify([ev(d, 'delivered')]) }),
      await post(JSON.stringify(events, null, 1), { signedBody: body }),
      await post(events, { t: nowSeconds() - 301 }),
      await post(events, { t: nowSeconds() + 301 }),
      await post(events, { signature: sign(privateKey, String(nowSeconds() - 1), body) }),
    ];
    for (const res of refused) await expectRefused(res, 401, 'unauthorized');
    expect(await databaseCounts(h)).toEqual(before);
    expect(await stateOf(h, d)).toEqual(untouched);
  });

  it('answers 4xx to signed bodies that are not event batches, changing nothing', async () => {
    const d = await delivery();
    const before = await databaseCounts(h);
    await expectRefused(await post('[{"event": "bounce",'), 400, 'invalid_json');
    await expectRefused(await post(ev(d, 'bounce')), 422, 'validation_failed');
    await expectRefused(await post([]), 422, 'validation_failed');
    await expectRefused(await post([{ email: d.email, timestamp: 1795607940 }]), 422, 'validation_failed');
    expect(await databaseCounts(h)).toEqual(before);
  });
});
