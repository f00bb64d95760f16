import { randomUUID } from 'node:crypto';
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
import {
  makeSnsSigner,
  SNS_CERT_URL,
  type SnsSigner,
  type SnsStandIn,
  signSns,
  snsNotification,
  snsSubscriptionConfirmation,
  startSnsStandIn,
} from '../support/sns.js';

const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:quire-ses-events';
const OTHER_TOPIC = 'arn:aws:sns:eu-west-1:123456789012:someone-elses-topic';
const MINUTE = 60_000;

/** SES event bodies as the notification-contents page shows them. */
const mail = (d: SentDelivery) => ({
  timestamp: '2026-11-25T11:58:00.000Z',
  messageId: d.providerMessageId,
  source: 'updates@quire.test',
  destination: [d.email],
});
const sesBounce = (d: SentDelivery, bounceType: string, extra: object = {}) => ({
  notificationType: 'Bounce',
  bounce: {
    bounceType,
    bounceSubType: bounceType === 'Permanent' ? 'General' : 'MailboxFull',
    bouncedRecipients: [
      { emailAddress: d.email, action: 'failed', status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 user unknown' },
    ],
    timestamp: '2026-11-25T11:59:00.000Z',
    feedbackId: '0102015fd91a6479-ae22395c-1f7d-4423-a9e5-e0715bffc731-000000',
    ...extra,
  },
  mail: mail(d),
});

describe.each(databaseKinds)('POST /webhooks/ses on %s', (kind) => {
  let h: Harness;
  let signer: SnsSigner;
  let sns: SnsStandIn;
  beforeAll(async () => {
    signer = makeSnsSigner();
    sns = await startSnsStandIn(signer);
    h = await providerHarness(
      kind,
      { SES_SNS_TOPIC_ARNS: `arn:aws:sns:us-east-1:123456789012:unused, ${TOPIC}` },
      { fetch: sns.fetch },
    );
  });
  afterAll(async () => {
    await h?.close();
    await sns?.close();
  });

  // SNS posts JSON as text/plain (sns-message-and-json-formats).
  const post = (message: unknown) =>
    h.request('/webhooks/ses', {
      method: 'POST',
      headers: {
        'content-type': 'text/plain; charset=UTF-8',
        accept: 'application/json',
        'x-amz-sns-message-type': 'Notification',
      },
      body: typeof message === 'string' ? message : JSON.stringify(message),
    });
  const now = () => h.clock.now();

  it('confirms a subscription to a configured topic by visiting its SubscribeURL, and no other', async () => {
    const res = await post(signSns(signer, snsSubscriptionConfirmation(TOPIC, now())));
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await res.json()).toEqual({ subscription: 'confirmed' });
    expect(sns.confirmations).toHaveLength(1);
    expect(sns.confirmations[0]).toContain(`TopicArn=${TOPIC}`);

    const fetched = sns.fetched.length;
    await expectRefused(
      await post(signSns(signer, snsSubscriptionConfirmation(OTHER_TOPIC, now()))),
      401,
      'unauthorized',
    );
    expect(sns.confirmations).toHaveLength(1);
    expect(sns.fetched).toHaveLength(fetched); // refused before anything was fetched
  });

  it('a Permanent bounce (SignatureVersion 1) suppresses and marks the delivery bounced — the redelivery changes nothing', async () => {
    const d = await sentDelivery(h, `0102019a${randomUUID()}-000000`);
    const message = signSns(signer, snsNotification(TOPIC, sesBounce(d, 'Permanent'), now()), { version: '1' });
    const res = await post(message);
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
    expect(await recordedEvents(h, d.deliveryId)).toEqual([{ provider: 'ses', kind: 'bounce', outcome: 'suppressed' }]);

    // SNS retries keep MessageId, Timestamp and signature: a retry 20 minutes later is accepted and changes nothing.
    const before = await databaseCounts(h);
    h.clock.advance(20 * MINUTE);
    const again = await post(message);
    expect(await again.json()).toMatchObject({ received: 1, duplicates: 1, suppressed: 0 });
    expect(await databaseCounts(h)).toEqual(before);
    expect(await stateOf(h, d)).toEqual(after);
    await expectLedgerIntact(h);
  });

  it('a Transient bounce is soft, a Complaint suppresses as a complaint, a Delivery is only counted', async () => {
    const soft = await sentDelivery(h);
    expect((await post(signSns(signer, snsNotification(TOPIC, sesBounce(soft, 'Transient'), now())))).status).toBe(200);
    expect(await stateOf(h, soft)).toEqual(untouched);
    expect(await h.query('select type from bounce_events where delivery_id = $1', [soft.deliveryId])).toEqual([
      { type: 'soft' },
    ]);

    const spam = await sentDelivery(h);
    const complaint = {
      notificationType: 'Complaint',
      complaint: {
        complainedRecipients: [{ emailAddress: spam.email }],
        timestamp: '2026-11-25T11:59:00.000Z',
        feedbackId: 'f-1',
        complaintFeedbackType: 'abuse',
      },
      mail: mail(spam),
    };
    await post(signSns(signer, snsNotification(TOPIC, complaint, now())));
    expect(await stateOf(h, spam)).toEqual({
      status: 'complained',
      suppressions: ['complaint'],
      ledger: ['suppressed:webhook:complaint'],
      delivery: 'bounced',
      bounced: 1,
    });

    const ok = await sentDelivery(h);
    // Event publishing names the type eventType (event-publishing-retrieving-sns-contents).
    const delivery = {
      eventType: 'Delivery',
      delivery: { timestamp: '2026-11-25T11:59:00.000Z', recipients: [ok.email], smtpResponse: '250 ok' },
      mail: mail(ok),
    };
    expect(await (await post(signSns(signer, snsNotification(TOPIC, delivery, now())))).json()).toMatchObject({
      received: 1,
      suppressed: 0,
    });
    expect(await stateOf(h, ok)).toEqual(untouched);
    expect(await recordedEvents(h, ok.deliveryId)).toEqual([
      { provider: 'ses', kind: 'delivered', outcome: 'delivered' },
    ]);
    // One certificate fetch served every message so far.
    expect(sns.fetched.filter((u) => u === SNS_CERT_URL)).toHaveLength(1);
  });

  it('refuses a certificate URL off an sns.<region>.amazonaws.com https host without fetching it', async () => {
    const d = await sentDelivery(h);
    const fetched = sns.fetched.length;
    const before = await databaseCounts(h);
    for (const certUrl of [
      'https://sns.eu-west-1.amazonaws.com.attacker.example/SimpleNotificationService-1.pem',
      'https://attacker.example/SimpleNotificationService-1.pem',
      'http://sns.eu-west-1.amazonaws.com/SimpleNotificationService-1.pem',
      'https://sns.eu-west-1.amazonaws.com:8443/SimpleNotificationService-1.pem',
      'https://user@sns.eu-west-1.amazonaws.com/SimpleNotificationService-1.pem',
      'https://sns.eu-west-1.amazonaws.com/redirect?to=https://attacker.example/cert',
      'not a url',
    ]) {
      await expectRefused(
        await post(signSns(signer, snsNotification(TOPIC, sesBounce(d, 'Permanent'), now()), { certUrl })),
        401,
        'unauthorized',
      );
    }
    expect(sns.fetched).toHaveLength(fetched);
    expect(await databaseCounts(h)).toEqual(before);
  });

  it('refuses bad, missing or unsupported signatures, other topics and stale timestamps with 401, changing nothing', async () => {
    const d = await sentDelivery(h);
    const fields = snsNotification(TOPIC, sesBounce(d, 'Permanent'), now());
    const signed = signSns(signer, fields);
    const before = await databaseCounts(h);
    const refused = [
      { ...signed, Message: JSON.stringify(sesBounce({ ...d, email: 'someone.else@example.com' }, 'Permanent')) },
      { ...signed, Subject: 'added after signing' },
      { ...signed, Signature: undefined },
      { ...signed, SignatureVersion: '3' },
      signSns(signer, { ...fields, TopicArn: OTHER_TOPIC }),
      signSns(signer, { ...fields, Timestamp: new Date(now().getTime() - 66 * MINUTE).toISOString() }),
      signSns(signer, { ...fields, Timestamp: new Date(now().getTime() + 6 * MINUTE).toISOString() }),
      signSns(makeSnsSigner(), fields), // signed with another key than the certificate's
    ];
    for (const message of refused) await expectRefused(await post(message), 401, 'unauthorized');
    expect(await databaseCounts(h)).toEqual(before);
    expect(await stateOf(h, d)).toEqual(untouched);

    // Published 50 minutes ago (inside SNS's hour of retries): accepted.
    const late = signSns(signer, {
      ...fields,
      MessageId: randomUUID(),
      Timestamp: new Date(now().getTime() - 50 * MINUTE).toISOString(),
    });
    expect((await post(late)).status).toBe(200);
    expect((await stateOf(h, d)).status).toBe('bounced');
  });

  it('answers 4xx to bodies that are not SNS messages or SES events, changing nothing', async () => {
    const before = await databaseCounts(h);
    await expectRefused(await post('{"Type": "Notification",'), 400, 'invalid_json');
    await expectRefused(await post({ Type: 'Notification', Message: 'x' }), 422, 'validation_failed');
    await expectRefused(await post([1, 2]), 422, 'validation_failed');
    await expectRefused(
      await post(signSns(signer, snsNotification(TOPIC, 'not an SES event', now()))),
      422,
      'validation_failed',
    );
    const notJson = signSns(signer, { ...snsNotification(TOPIC, {}, now()), Message: 'plain text' });
    await expectRefused(await post(notJson), 422, 'validation_failed');
    expect(await databaseCounts(h)).toEqual(before);
  });
});
