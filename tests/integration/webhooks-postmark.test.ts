import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config.js';
import { uniqueEmail } from '../support/factories.js';
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

// Postmark sends the webhook URL's user:pass as HTTP Basic credentials (webhooks-overview).
const AUTH = 'postmark-hook:9f3c1e7a5b2d4c6e';
const basic = (credentials: string) => `Basic ${Buffer.from(credentials).toString('base64')}`;
let bounceId = 7_000_000;

/** Records shaped as Postmark's webhook docs show them. */
const bounce = (d: SentDelivery, type: string, extra: Record<string, unknown> = {}) => ({
  RecordType: 'Bounce',
  ID: bounceId++,
  Type: type,
  TypeCode: 1,
  Name: type,
  MessageID: d.providerMessageId,
  Description: 'The server was unable to deliver your message (ex: unknown user, mailbox not found).',
  Details: 'smtp;550 5.1.1 The email account that you tried to reach does not exist.',
  Email: d.email,
  From: 'updates@quire.test',
  BouncedAt: '2026-11-25T11:59:00Z',
  Inactive: true,
  CanActivate: true,
  MessageStream: 'broadcast',
  ...extra,
});

describe.each(databaseKinds)('POST /webhooks/postmark on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await providerHarness(kind, { POSTMARK_WEBHOOK_AUTH: AUTH });
  });
  afterAll(() => h?.close());

  const post = (payload: unknown, authorization: string | null = basic(AUTH), contentType = 'application/json') =>
    h.request('/webhooks/postmark', {
      method: 'POST',
      headers: {
        'content-type': contentType,
        accept: 'application/json',
        ...(authorization === null ? {} : { authorization }),
      },
      body: typeof payload === 'string' ? payload : JSON.stringify(payload),
    });

  it('a HardBounce suppresses, marks the subscriber and the delivery bounced, once — the redelivery changes nothing', async () => {
    const d = await sentDelivery(h);
    const record = bounce(d, 'HardBounce');
    const res = await post(record);
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
      { provider: 'postmark', kind: 'bounce', outcome: 'suppressed' },
    ]);

    const before = await databaseCounts(h);
    const again = await post(record);
    expect(await again.json()).toEqual({ received: 1, duplicates: 1, suppressed: 0, unsubscribed: 0, unknown: 0 });
    expect(await databaseCounts(h)).toEqual(before);
    expect(await stateOf(h, d)).toEqual(after);
    await expectLedgerIntact(h);
  });

  it('a SoftBounce is recorded without suppressing; a SpamComplaint record suppresses as a complaint', async () => {
    const soft = await sentDelivery(h);
    expect((await post(bounce(soft, 'SoftBounce'))).status).toBe(200);
    expect(await stateOf(h, soft)).toEqual(untouched);
    const [row] = await h.query<{ type: string; diagnostic: string }>(
      'select type, diagnostic from bounce_events where delivery_id = $1',
      [soft.deliveryId],
    );
    expect(row).toEqual({ type: 'soft', diagnostic: expect.stringContaining('postmark: smtp;550') });

    const spam = await sentDelivery(h);
    const res = await post(bounce(spam, 'SpamComplaint', { RecordType: 'SpamComplaint', TypeCode: 100001 }));
    expect((await res.json()).suppressed).toBe(1);
    expect(await stateOf(h, spam)).toEqual({
      status: 'complained',
      suppressions: ['complaint'],
      ledger: ['suppressed:webhook:complaint'],
      delivery: 'bounced',
      bounced: 1,
    });
  });

  it('a Delivery record is counted and changes nothing else', async () => {
    const d = await sentDelivery(h);
    const res = await post({
      RecordType: 'Delivery',
      ServerID: 23,
      MessageStream: 'broadcast',
      MessageID: d.providerMessageId,
      Recipient: d.email,
      DeliveredAt: '2026-11-25T11:58:00Z',
      Details: 'Test delivery webhook details',
    });
    expect(await res.json()).toEqual({ received: 1, duplicates: 0, suppressed: 0, unsubscribed: 0, unknown: 0 });
    expect(await stateOf(h, d)).toEqual(untouched);
    expect(await recordedEvents(h, d.deliveryId)).toEqual([
      { provider: 'postmark', kind: 'delivered', outcome: 'delivered' },
    ]);
  });

  it('SubscriptionChange: a recipient unsubscribing through Postmark unsubscribes; Postmark suppressing after a hard bounce suppresses', async () => {
    const change = (d: SentDelivery, fields: Record<string, unknown>) => ({
      RecordType: 'SubscriptionChange',
      ServerID: 123456,
      MessageStream: 'broadcast',
      ChangedAt: '2026-11-25T11:57:00Z',
      Recipient: d.email,
      MessageID: d.providerMessageId,
      Tag: null,
      Metadata: {},
      ...fields,
    });
    const leaver = await sentDelivery(h);
    const res = await post(
      change(leaver, { Origin: 'Recipient', SuppressSending: true, SuppressionReason: 'ManualSuppression' }),
    );
    expect((await res.json()).unsubscribed).toBe(1);
    expect(await stateOf(h, leaver)).toEqual({
      ...untouched,
      status: 'unsubscribed',
      suppressions: ['unsubscribed'],
      ledger: ['unsubscribed:webhook:postmark'],
    });

    const dead = await sentDelivery(h);
    await post(change(dead, { Origin: 'Recipient', SuppressSending: true, SuppressionReason: 'HardBounce' }));
    expect(await stateOf(h, dead)).toEqual({
      status: 'bounced',
      suppressions: ['hard_bounce'],
      ledger: ['suppressed:webhook:hard_bounce'],
      delivery: 'bounced',
      bounced: 1,
    });

    // A reactivation is Postmark's business: quire's own consent decides who gets mail again.
    const back = await post(
      change(dead, {
        Origin: 'Customer',
        SuppressSending: false,
        SuppressionReason: null,
        ChangedAt: '2026-11-25T11:59:30Z',
      }),
    );
    expect(back.status).toBe(200);
    expect((await stateOf(h, dead)).status).toBe('bounced');
  });

  it('finds the subscriber by address when the MessageID is not one of ours, and counts an unknown address without keeping it', async () => {
    const d = await sentDelivery(h);
    await post(bounce({ ...d, providerMessageId: randomUUID() }, 'HardBounce'));
    expect((await stateOf(h, d)).suppressions).toEqual(['hard_bounce']);

    const stranger = uniqueEmail('stranger');
    const before = await databaseCounts(h);
    const res = await post(bounce({ ...d, providerMessageId: randomUUID(), email: stranger }, 'HardBounce'));
    expect(await res.json()).toEqual({ received: 1, duplicates: 0, suppressed: 0, unsubscribed: 0, unknown: 1 });
    expect(await databaseCounts(h)).toEqual({ ...before, provider_events: before.provider_events! + 1 });
  });

  it('refuses missing or wrong credentials with 401, changing nothing', async () => {
    const d = await sentDelivery(h);
    const before = await databaseCounts(h);
    for (const authorization of [
      null,
      '',
      'Basic',
      basic('postmark-hook:wrong-password-00'),
      basic(`other:${AUTH.split(':')[1]}`),
      `Bearer ${AUTH}`,
      basic(`${AUTH}x`),
    ]) {
      await expectRefused(await post(bounce(d, 'HardBounce'), authorization), 401, 'unauthorized');
    }
    expect(await databaseCounts(h)).toEqual(before);
    expect(await stateOf(h, d)).toEqual(untouched);
  });

  it('answers 4xx to bodies that are not Postmark records, changing nothing', async () => {
    const d = await sentDelivery(h);
    const before = await databaseCounts(h);
    await expectRefused(await post('{"RecordType": "Bounce",'), 400, 'invalid_json');
    await expectRefused(await post({ ...bounce(d, 'HardBounce'), Email: undefined }), 422, 'validation_failed');
    await expectRefused(
      await post({ RecordType: 'Delivery', MessageID: d.providerMessageId }),
      422,
      'validation_failed',
    );
    await expectRefused(await post([bounce(d, 'HardBounce')]), 422, 'validation_failed');
    await expectRefused(await post(bounce(d, 'HardBounce'), basic(AUTH), 'text/plain'), 415, 'unsupported_media_type');
    expect(await databaseCounts(h)).toEqual(before);
    // Opens, clicks and record types Postmark adds later are accepted and ignored.
    expect(
      await (await post({ RecordType: 'Open', MessageID: d.providerMessageId, Recipient: d.email })).json(),
    ).toMatchObject({ received: 0 });
    expect(await stateOf(h, d)).toEqual(untouched);
  });
});

describe.each(databaseKinds)('provider webhooks without their secrets on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await providerHarness(kind, {});
  });
  afterAll(() => h?.close());

  it('answer 404 on every provider route', async () => {
    for (const provider of ['ses', 'postmark', 'resend', 'mailgun', 'sendgrid']) {
      const res = await h.request(`/webhooks/${provider}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: '[]',
      });
      await expectRefused(res, 404, 'not_found');
    }
  });
});

describe('provider webhook configuration', () => {
  const parse = (env: Record<string, string>) => parseConfig({ NODE_ENV: 'test', ...env });
  const problemsOf = (env: Record<string, string>) => {
    try {
      parse(env);
    } catch (err) {
      if (err instanceof ConfigError) return err.message;
      throw err;
    }
    throw new Error('expected a ConfigError');
  };

  it('refuses malformed secrets, naming the variable and never echoing the value', () => {
    const bad = {
      SES_SNS_TOPIC_ARNS: 'arn:aws:sqs:eu-west-1:123456789012:not-a-topic',
      POSTMARK_WEBHOOK_AUTH: 'no-colon-in-this-secret-value',
      RESEND_WEBHOOK_SECRET: 'sk_live_secretvaluethatisnotwhsec',
      MAILGUN_WEBHOOK_SIGNING_KEY: 'short-secret',
      SENDGRID_WEBHOOK_PUBLIC_KEY: 'c2VjcmV0LWJ1dC1ub3QtYS1wMjU2LWtleQ==',
    };
    for (const [key, value] of Object.entries(bad)) {
      const message = problemsOf({ [key]: value });
      expect(message).toContain(key);
      expect(message).not.toContain(value);
    }
  });

  it('reads topic lists and takes the SendGrid key as base64 or PEM', () => {
    const der = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
      .publicKey.export({ type: 'spki', format: 'der' })
      .toString('base64');
    const pem = `-----BEGIN PUBLIC KEY-----\n${der.slice(0, 64)}\n${der.slice(64)}\n-----END PUBLIC KEY-----`;
    const c = parse({
      SES_SNS_TOPIC_ARNS: ' arn:aws:sns:eu-west-1:123456789012:a ,arn:aws:sns:us-east-1:123456789012:b.fifo',
      SENDGRID_WEBHOOK_PUBLIC_KEY: pem,
    });
    expect(c.SES_SNS_TOPIC_ARNS).toEqual([
      'arn:aws:sns:eu-west-1:123456789012:a',
      'arn:aws:sns:us-east-1:123456789012:b.fifo',
    ]);
    expect(c.SENDGRID_WEBHOOK_PUBLIC_KEY).toBe(der);
    expect(parse({ SES_SNS_TOPIC_ARNS: '' }).SES_SNS_TOPIC_ARNS).toBeUndefined();
  });
});
