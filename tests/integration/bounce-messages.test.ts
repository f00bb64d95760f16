import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyseBounceMessage, classifyDeliveryStatus, parseBounceMessage } from '../../src/core/bounce-messages.js';
import { admin, createTopic, draftBroadcast, seedActiveSubscribers } from '../support/broadcasts.js';
import { activeSubscriber } from '../support/factories.js';
import { ADMIN_TOKEN, createHarness, databaseKinds, type Harness } from '../support/harness.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/bounces/${name}`, import.meta.url), 'utf8');

/** What each fixture names: its delivery id (in VERP addresses and Message-IDs) and its recipient. */
const FIXTURES = {
  postfix: {
    file: 'postfix-5.1.1-verp.eml',
    deliveryId: '6f1d3c2a-8b4e-4f7a-9c15-2e8d7b3a1f40',
    email: 'gone.reader@example.net',
  },
  gmail: {
    file: 'gmail-5.1.1-message-id.eml',
    deliveryId: 'c0ffee00-1d2e-4a3b-8c9d-0e1f2a3b4c5d',
    email: 'no.such.reader@gmail.com',
  },
  delayed: {
    file: 'postfix-delayed-4.4.1.eml',
    deliveryId: '2b7e9d14-5a6c-4e8f-b1d3-9a0c7e5f2d86',
    email: 'slow.reader@example.org',
  },
  arf: {
    file: 'arf-abuse-yahoo.eml',
    deliveryId: '9e8d7c6b-5a49-4382-a716-0f1e2d3c4b5a',
    email: 'angry.reader@yahoo.com',
  },
  autoReply: {
    file: 'auto-reply-out-of-office.eml',
    deliveryId: '4d3c2b1a-0f9e-4d8c-b7a6-5e4d3c2b1a09',
    email: 'away.reader@example.com',
  },
} as const;

const DOMAIN = 'howteamsthink.example';
const opts = { bounceAddress: `bounces@${DOMAIN}` };
const mid = (id: string) => `<${id}@${DOMAIN}>`;

/** A fixture re-addressed to a real delivery of this test run. */
const fixtureFor = (name: keyof typeof FIXTURES, to: { deliveryId: string; email: string }) => {
  const f = FIXTURES[name];
  return fixture(f.file).replaceAll(f.deliveryId, to.deliveryId).replaceAll(f.email, to.email);
};

/** A minimal RFC 3464 report, for the cases the fixtures do not cover. */
function dsn(recipients: string[], opts: { to?: string; original?: string } = {}) {
  return [
    'From: MAILER-DAEMON@relay.example.net (Mail Delivery System)',
    `To: ${opts.to ?? `updates@${DOMAIN}`}`,
    'Subject: Undelivered Mail Returned to Sender',
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=delivery-status; boundary="b0"',
    '',
    '--b0',
    'Content-Type: text/plain',
    '',
    'Delivery report.',
    '',
    '--b0',
    'Content-Type: message/delivery-status',
    '',
    'Reporting-MTA: dns; relay.example.net',
    '',
    recipients.join('\n\n'),
    '',
    ...(opts.original ? ['--b0', 'Content-Type: text/rfc822-headers', '', opts.original, ''] : []),
    '--b0--',
    '',
  ].join('\n');
}

describe('parsing bounce messages', () => {
  it('reads a Postfix DSN for 5.1.1: hard, with the VERP delivery id, the original Message-ID and the recipient', async () => {
    const f = FIXTURES.postfix;
    const reports = await parseBounceMessage(fixture(f.file), opts);
    expect(reports).toEqual([
      {
        type: 'hard',
        source: 'dsn',
        deliveryId: f.deliveryId,
        messageId: mid(f.deliveryId),
        email: f.email,
        // Diagnostic-Code's continuation line unfolded.
        diagnostic:
          'smtp; 550 5.1.1 <gone.reader@example.net>: Recipient address rejected: User unknown in virtual mailbox table',
      },
    ]);
    // From a Buffer just the same.
    expect(await parseBounceMessage(Buffer.from(fixture(f.file)), opts)).toEqual(reports);
  });

  it('takes the VERP id only from BOUNCE_ADDRESS’s local part when one is configured, and from any +<uuid>@ otherwise', async () => {
    const f = FIXTURES.postfix;
    const [other] = await parseBounceMessage(fixture(f.file), { bounceAddress: `returns@${DOMAIN}` });
    expect(other).toMatchObject({ deliveryId: undefined, messageId: mid(f.deliveryId), email: f.email });
    const [unconfigured] = await parseBounceMessage(fixture(f.file), {});
    expect(unconfigured?.deliveryId).toBe(f.deliveryId);
  });

  it('reads a Gmail DSN (CRLF) without VERP by the Message-ID in the returned headers', async () => {
    const f = FIXTURES.gmail;
    expect(fixture(f.file)).toContain('\r\n');
    const reports = await parseBounceMessage(fixture(f.file), opts);
    expect(reports).toEqual([
      {
        type: 'hard',
        source: 'dsn',
        deliveryId: undefined,
        messageId: mid(f.deliveryId),
        email: f.email,
        diagnostic: expect.stringMatching(
          /^smtp; 550-5\.1\.1 The email account that you tried to reach does not exist\. .* - gsmtp$/,
        ),
      },
    ]);
  });

  it('reads a delayed 4.4.1 DSN as a soft bounce', async () => {
    const f = FIXTURES.delayed;
    expect(await parseBounceMessage(fixture(f.file), opts)).toEqual([
      {
        type: 'soft',
        source: 'dsn',
        deliveryId: f.deliveryId, // from X-Original-To: Delivered-To is the bare bounce address
        messageId: mid(f.deliveryId),
        email: f.email,
        diagnostic: 'X-Postfix; connect to mx.example.org[192.0.2.44]:25: Connection timed out',
      },
    ]);
  });

  it('reads an ARF abuse report with text/rfc822-headers as a complaint', async () => {
    const f = FIXTURES.arf;
    expect(await analyseBounceMessage(fixture(f.file), opts)).toEqual({
      kind: 'arf',
      reports: [
        {
          type: 'complaint',
          source: 'arf',
          deliveryId: undefined,
          messageId: mid(f.deliveryId),
          email: f.email,
          diagnostic: 'feedback-type abuse (Yahoo!-Mail-Feedback/2.0)',
        },
      ],
    });
    // Sent with VERP, the report's Original-Mail-From names the delivery.
    const verp = fixture(f.file).replace(
      `Original-Mail-From: <updates@${DOMAIN}>`,
      `Original-Mail-From: <bounces+${f.deliveryId}@${DOMAIN}>`,
    );
    expect((await parseBounceMessage(verp, opts))[0]?.deliveryId).toBe(f.deliveryId);
    // A redacted recipient still resolves by Message-ID.
    const redacted = fixture(f.file)
      .replace(/^Original-Rcpt-To: .*\n/m, '')
      .replaceAll(`To: ${f.email}`, 'To: redacted@yahoo.com');
    expect(await parseBounceMessage(redacted, opts)).toMatchObject([
      { type: 'complaint', messageId: mid(f.deliveryId), email: 'redacted@yahoo.com' },
    ]);
    // "not-spam" is the opposite of a complaint: a report, with nothing to record.
    const notSpam = fixture(f.file).replace('Feedback-Type: abuse', 'Feedback-Type: not-spam');
    expect(await analyseBounceMessage(notSpam, opts)).toEqual({ kind: 'arf', reports: [] });
  });

  it('finds nothing in an out-of-office auto-reply, though it came back to a VERP address', async () => {
    expect(await analyseBounceMessage(fixture(FIXTURES.autoReply.file), opts)).toEqual({ kind: null, reports: [] });
    expect(await parseBounceMessage('Subject: hello\n\nAction: failed\nStatus: 5.1.1\n', opts)).toEqual([]);
  });

  it('maps DSN actions and RFC 3463 status codes: only a bad or disabled mailbox is a hard bounce', () => {
    const cases: [string | undefined, string | undefined, string | null][] = [
      ['failed', '5.1.1', 'hard'], // bad destination mailbox
      ['failed', '5.1.2', 'hard'], // bad destination system
      ['failed', '5.1.10', 'hard'], // null MX (RFC 7505)
      ['failed', '5.2.1', 'hard'], // mailbox disabled
      ['failed', '5.1.7', 'soft'], // bad *sender* address: ours, not theirs
      ['failed', '5.1.8', 'soft'],
      ['failed', '5.2.2', 'soft'], // mailbox full
      ['failed', '5.4.4', 'soft'], // unable to route
      ['failed', '5.7.1', 'soft'], // policy: spam filter or blocklist
      ['failed', '5.7.26', 'soft'], // DMARC
      ['failed', '4.4.7', 'soft'], // the queue gave up
      ['failed', undefined, 'soft'],
      ['delayed', '4.4.1', 'soft'],
      ['delivered', '2.0.0', null],
      ['relayed', '2.0.0', null],
      ['expanded', '2.0.0', null],
      [undefined, '5.1.1', 'hard'],
      [undefined, '4.2.0', 'soft'],
      [undefined, '2.0.0', null],
    ];
    for (const [action, status, expected] of cases)
      expect([action, status, classifyDeliveryStatus(action, status)]).toEqual([action, status, expected]);
  });

  it('reports each failed recipient by address when nothing names the message, skipping successful ones', async () => {
    const message = dsn([
      'Final-Recipient: rfc822; one@example.com\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 no such user',
      'Final-Recipient: rfc822; two@example.com\nAction: delivered\nStatus: 2.0.0',
      // No Status field: the code comes from the diagnostic.
      'Final-Recipient: rfc822;three@example.com\nAction: failed\nDiagnostic-Code: smtp; 554 5.7.1 Service unavailable; client host blocked',
    ]);
    expect(await parseBounceMessage(message, opts)).toEqual([
      {
        type: 'hard',
        source: 'dsn',
        deliveryId: undefined,
        messageId: undefined,
        email: 'one@example.com',
        diagnostic: 'smtp; 550 5.1.1 no such user',
      },
      {
        type: 'soft',
        source: 'dsn',
        deliveryId: undefined,
        messageId: undefined,
        email: 'three@example.com',
        diagnostic: 'smtp; 554 5.7.1 Service unavailable; client host blocked',
      },
    ]);
    const successOnly = dsn(['Final-Recipient: rfc822; two@example.com\nAction: relayed\nStatus: 2.0.0']);
    expect(await analyseBounceMessage(successOnly, opts)).toEqual({ kind: 'dsn', reports: [] });
  });

  it('records a message it names once, at its worst, when an alias expanded into several failing recipients', async () => {
    const id = randomUUID();
    const message = dsn(
      [
        'Original-Recipient: rfc822; alias@example.com\nFinal-Recipient: rfc822; a@example.com\nAction: delayed\nStatus: 4.2.2',
        'Original-Recipient: rfc822; alias@example.com\nFinal-Recipient: rfc822; b@example.com\nAction: failed\nStatus: 5.1.1',
      ],
      { to: `bounces+${id}@${DOMAIN}`, original: `From: updates@${DOMAIN}\nMessage-ID: ${mid(id)}\nSubject: x` },
    );
    expect(await parseBounceMessage(message, opts)).toEqual([
      {
        type: 'hard',
        source: 'dsn',
        deliveryId: id,
        messageId: mid(id),
        email: 'b@example.com',
        diagnostic: 'failed 5.1.1',
      },
    ]);
  });
});

describe.each(databaseKinds)('ingesting bounce messages on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(kind, {
      MAIL_FROM: `How Teams Think Before They Build <updates@${DOMAIN}>`,
      BOUNCE_ADDRESS: `bounces@${DOMAIN}`,
    });
  });
  afterAll(() => h?.close());

  const ingest = (raw: string | Uint8Array, headers: Record<string, string> = {}) =>
    h.request('/admin/v1/bounces/ingest', {
      method: 'POST',
      headers: {
        authorization: `Bearer ${ADMIN_TOKEN}`,
        accept: 'application/json',
        'content-type': 'message/rfc822',
        ...headers,
      },
      body: raw as BodyInit,
    });
  const statusOf = async (id: string) =>
    (await h.query<{ status: string }>('select status from subscribers where id = $1', [id]))[0]!.status;
  const bounceCount = async () =>
    Number((await h.query<{ n: string }>('select count(*) as n from bounce_events'))[0]!.n);

  /** A broadcast to `n` new subscribers of a topic of their own, delivered; its deliveries by subscriber. */
  async function sentBroadcast(n: number) {
    const topic = await createTopic(h);
    await seedActiveSubscribers(h, n, { topics: [topic] });
    const draft = await draftBroadcast(h, { topic });
    await admin(h, `/admin/v1/broadcasts/${draft.id}/send`, { method: 'POST' });
    await h.deliver();
    const rows = await h.query<{ id: string; subscriber_id: string; to: string; message_id: string }>(
      `select id, subscriber_id, "to", message_id from deliveries where broadcast_id = $1 order by subscriber_id`,
      [draft.id],
    );
    return { topic, rows };
  }

  it('suppresses the right subscribers from a Postfix DSN (VERP), a Gmail DSN (Message-ID) and an ARF complaint', async () => {
    const { topic, rows } = await sentBroadcast(5);
    const [gone, noSuch, angry, slow, bystander] = rows as [
      (typeof rows)[0],
      (typeof rows)[0],
      (typeof rows)[0],
      (typeof rows)[0],
      (typeof rows)[0],
    ];
    // The fixtures are what this installation really sends and gets back.
    expect(gone.message_id).toBe(mid(gone.id));
    expect(h.smtp.messages.find((m) => m.parsed.messageId === gone.message_id)?.envelope.from).toBe(
      `bounces+${gone.id}@${DOMAIN}`,
    );

    const postfix = await ingest(fixtureFor('postfix', { deliveryId: gone.id, email: gone.to }));
    expect(postfix.status, await postfix.clone().text()).toBe(200);
    expect(await postfix.json()).toEqual({ kind: 'dsn', reports: 1, suppressed: 1, unknown: 0 });

    // Gmail's report knows nothing of VERP; the Message-ID names the delivery. The address in it is
    // someone else's, to show the Message-ID wins over Final-Recipient.
    const gmail = await ingest(fixtureFor('gmail', { deliveryId: noSuch.id, email: bystander.to }));
    expect(await gmail.json()).toEqual({ kind: 'dsn', reports: 1, suppressed: 1, unknown: 0 });

    const arf = await ingest(fixtureFor('arf', { deliveryId: angry.id, email: angry.to }));
    expect(await arf.json()).toEqual({ kind: 'arf', reports: 1, suppressed: 1, unknown: 0 });

    const delayed = await ingest(fixtureFor('delayed', { deliveryId: slow.id, email: slow.to }));
    expect(await delayed.json()).toEqual({ kind: 'dsn', reports: 1, suppressed: 0, unknown: 0 });

    expect([
      await statusOf(gone.subscriber_id),
      await statusOf(noSuch.subscriber_id),
      await statusOf(angry.subscriber_id),
      await statusOf(slow.subscriber_id),
      await statusOf(bystander.subscriber_id),
    ]).toEqual(['bounced', 'bounced', 'complained', 'active', 'active']);
    const ledger = await h.query<{ subscriber_id: string; source: string }>(
      `select subscriber_id, source from consent_events where kind = 'suppressed' and subscriber_id = any($1::uuid[]) order by seq`,
      [rows.map((r) => r.subscriber_id)],
    );
    expect(ledger).toEqual([
      { subscriber_id: gone.subscriber_id, source: 'dsn:hard_bounce' },
      { subscriber_id: noSuch.subscriber_id, source: 'dsn:hard_bounce' },
      { subscriber_id: angry.subscriber_id, source: 'arf:complaint' },
    ]);
    const events = await h.query<{ delivery_id: string; type: string; source: string }>(
      `select delivery_id, type, source from bounce_events where delivery_id = any($1::uuid[]) order by at, type`,
      [rows.map((r) => r.id)],
    );
    expect(events).toEqual(
      expect.arrayContaining([
        { delivery_id: gone.id, type: 'hard', source: 'dsn' },
        { delivery_id: noSuch.id, type: 'hard', source: 'dsn' },
        { delivery_id: angry.id, type: 'complaint', source: 'arf' },
        { delivery_id: slow.id, type: 'soft', source: 'dsn' },
      ]),
    );
    expect(events).toHaveLength(4);

    // The same DSN again (the bounce mailbox fetched twice): no second ledger event.
    await ingest(fixtureFor('postfix', { deliveryId: gone.id, email: gone.to }));
    const again = await h.query(`select 1 from consent_events where kind = 'suppressed' and subscriber_id = $1`, [
      gone.subscriber_id,
    ]);
    expect(again).toHaveLength(1);

    // The next broadcast to the topic goes to the two left.
    const next = await draftBroadcast(h, { topic });
    expect((await (await admin(h, `/admin/v1/broadcasts/${next.id}/audience`)).json()).audience).toBe(2);
  });

  it('falls back to the reported address when the report names no delivery of ours, and says unknown for strangers', async () => {
    const s = await activeSubscriber(h);
    const res = await ingest(fixtureFor('gmail', { deliveryId: randomUUID(), email: s.email }));
    expect(await res.json()).toEqual({ kind: 'dsn', reports: 1, suppressed: 1, unknown: 0 });
    expect(await statusOf(s.id)).toBe('bounced');

    const before = await bounceCount();
    const stranger = await ingest(
      fixtureFor('gmail', { deliveryId: randomUUID(), email: 'never.subscribed@gmail.com' }),
    );
    expect(await stranger.json()).toEqual({ kind: 'dsn', reports: 1, suppressed: 0, unknown: 1 });
    expect(await bounceCount()).toBe(before);
  });

  it('refuses what is not a DSN or ARF report, a wrong content type, no token, and more than 1 MB', async () => {
    const before = await bounceCount();
    const autoReply = await ingest(fixture(FIXTURES.autoReply.file));
    expect(autoReply.status).toBe(422);
    expect((await autoReply.json()).error).toMatchObject({
      code: 'validation_failed',
      message: expect.stringContaining('RFC 3464'),
    });
    expect((await ingest('')).status).toBe(422);
    expect((await ingest(new Uint8Array([0xff, 0xfe, 0x00, 0x01, 0x02]))).status).toBe(422);

    const asJson = await ingest(JSON.stringify({ raw: 'x' }), { 'content-type': 'application/json' });
    expect(asJson.status).toBe(415);
    expect((await asJson.json()).error.code).toBe('unsupported_media_type');
    const noToken = await h.request('/admin/v1/bounces/ingest', {
      method: 'POST',
      headers: { 'content-type': 'message/rfc822', accept: 'application/json' },
      body: fixture(FIXTURES.postfix.file),
    });
    expect(noToken.status).toBe(401);

    const huge = ingest(fixture(FIXTURES.postfix.file) + 'x'.repeat(1024 * 1024));
    const tooLarge = await huge;
    expect(tooLarge.status).toBe(413);
    expect((await tooLarge.json()).error.code).toBe('payload_too_large');
    expect(await bounceCount()).toBe(before);
  });

  it('takes a report larger than the JSON body limit (a DSN that returns the whole original message)', async () => {
    const { rows } = await sentBroadcast(1);
    const d = rows[0]!;
    const postfix = fixtureFor('postfix', { deliveryId: d.id, email: d.to });
    // 300 kB of returned message body, well past the 64 kB JSON limit.
    const big = postfix.replace(
      'Read the article -> ',
      `${'Lorem ipsum dolor sit amet, consectetur adipiscing elit.\n'.repeat(5000)}Read the article -> `,
    );
    expect(big.length).toBeGreaterThan(250_000);
    const res = await ingest(big);
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await res.json()).toEqual({ kind: 'dsn', reports: 1, suppressed: 1, unknown: 0 });
    expect(await statusOf(d.subscriber_id)).toBe('bounced');
  });
});
