import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, broadcastState, draftBroadcast } from '../support/broadcasts.js';
import { postSignup, uniqueEmail } from '../support/factories.js';
import { createHarness, databaseKinds, type Harness } from '../support/harness.js';
import { postmark, type StartedStandIn } from '../support/provider-cases.js';
import {
  broadcastRows,
  CONFIRM_SUBJECT,
  expectEachRowDeliveredOnce,
  PUBLIC_URL,
  startBroadcast,
} from '../support/providers-delivery.js';
import { SmtpSink } from '../support/smtp-sink.js';

/*
 * BROADCAST_MAIL_DSN puts bulk mail on a transport of its own: here MAIL_DSN names an SMTP relay (an
 * in-process sink) for the lifecycle mails, and BROADCAST_MAIL_DSN Postmark's broadcast stream for
 * broadcasts and their test sends. The harness's own sink (h.smtp, behind SMTP_URL) is switched off, so
 * MAIL_DSN itself is what reaches the relay.
 */
describe.each(databaseKinds)('BROADCAST_MAIL_DSN on %s', (kind) => {
  let h: Harness;
  let relay: SmtpSink;
  let pm: StartedStandIn;
  beforeAll(async () => {
    relay = await new SmtpSink().start();
    pm = await postmark.start({});
    h = await createHarness(kind, {
      MAIL_DSN: relay.url,
      SMTP_URL: '',
      BROADCAST_MAIL_DSN: `${pm.dsn}?message_stream=broadcast`,
      DELIVERY_BATCH: '500',
      PUBLIC_URL,
    });
  });
  afterAll(async () => {
    await h?.close();
    await pm?.standIn.close();
    await relay?.stop();
  });

  it('sends the confirmation over MAIL_DSN (SMTP), not the broadcast transport', async () => {
    const email = uniqueEmail('split');
    expect((await postSignup(h, { email })).status).toBe(202);
    expect(await h.deliver()).toMatchObject({ sent: 1 });
    const mails = relay.to(email);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.parsed.subject).toBe(CONFIRM_SUBJECT);
    expect(pm.delivered().filter((d) => d.to.includes(email))).toEqual([]);
    expect(h.smtp.messages).toEqual([]);
    // SMTP gives no provider id: the row keeps our Message-ID only.
    const [row] = await h.query(
      `select d.status, d.provider_message_id from deliveries d join subscribers s on s.id = d.subscriber_id where s.email = $1`,
      [email],
    );
    expect(row).toEqual({ status: 'sent', provider_message_id: null });
  });

  it("sends a broadcast's test and the broadcast itself over Postmark's broadcast stream", async () => {
    const draft = await draftBroadcast(h);
    const author = uniqueEmail('author');
    expect(
      (
        await admin(h, `/admin/v1/broadcasts/${draft.id}/test`, {
          method: 'POST',
          body: JSON.stringify({ to: [author] }),
        })
      ).status,
    ).toBe(202);
    await h.deliver();
    const test = pm.delivered().filter((d) => d.to.includes(author));
    expect(test).toHaveLength(1);
    expect(test[0]).toMatchObject({ stream: 'broadcast', subject: expect.stringMatching(/^\[Test\] /) });
    expect(relay.to(author)).toEqual([]);

    const id = await startBroadcast(h, 30, 'split');
    await h.deliver();
    const rows = await broadcastRows(h, id);
    expect(rows).toHaveLength(30);
    expectEachRowDeliveredOnce(h, pm, rows);
    const sent = pm.delivered().filter((d) => rows.some((r) => r.message_id === d.messageId));
    expect(sent.map((d) => d.stream)).toEqual(Array(30).fill('broadcast'));
    // One batch request, on the batch endpoint.
    expect(pm.standIn.requests.filter((r) => r.path === '/email/batch')).toHaveLength(1);
    expect(relay.messages.filter((m) => rows.some((r) => m.envelope.to.includes(r.to)))).toEqual([]);
    expect((await broadcastState(h, id)).status).toBe('sent');
  });
});
