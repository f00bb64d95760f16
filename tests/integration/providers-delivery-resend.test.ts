import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResendRecordedEmail } from '../stand-ins/resend.js';
import { broadcastState } from '../support/broadcasts.js';
import { linkIn, pathOf, postSignup, uniqueEmail } from '../support/factories.js';
import { createHarness, databaseKinds, type Harness } from '../support/harness.js';
import { resend, type StartedStandIn } from '../support/provider-cases.js';
import {
  broadcastRows,
  expectEachRowDeliveredOnce,
  PUBLIC_URL,
  startBroadcast,
} from '../support/providers-delivery.js';

/*
 * A crash between Resend's acceptance and our settle, played by the stand-in: it takes the request in
 * full (messages recorded, Idempotency-Key stored) and drops the connection before answering. The engine
 * sees a transient failure of the whole request and puts its rows back for a retry, which must not send
 * them again.
 *
 * What the engine guarantees: before a batch request to Resend it writes a send key to the request's rows
 * and passes it as the Idempotency-Key; rows that come back with a key are claimed whole, grouped by it
 * and retried at one time, so the retry is the same request under the same key. The broadcast's links are
 * signed as of the send's start, so the body is the same too, and Resend answers with its first answer:
 * nothing sent twice, and the rows get the ids of the messages that did go out. (Were the body to differ,
 * Resend's 409 invalid_idempotent_request still counts the rows as sent, without those ids.) A row sent
 * alone uses its own id as the key.
 *
 * What it does not: a key names one grouping of rows. If another worker holds part of a key's rows (a
 * lease ran out mid-send and both workers claimed a share), the part in hand goes under a new key and
 * Resend may send those rows again; so may a retry after Resend's 24 hours, when it has forgotten the key.
 * Rows regrouped differently get a different key: then delivery is at least once, never lost.
 */
describe.each(databaseKinds)('Resend idempotency through the engine on %s', (kind) => {
  let h: Harness;
  let s: StartedStandIn;
  beforeAll(async () => {
    s = await resend.start({});
    h = await createHarness(kind, { MAIL_DSN: s.dsn, SMTP_URL: '', DELIVERY_BATCH: '500', PUBLIC_URL });
  });
  afterAll(async () => {
    await h?.close();
    await s?.standIn.close();
  });

  it('does not send a batch twice when its answer was lost and the rows are retried', async () => {
    const id = await startBroadcast(h, 100, 'lost');
    s.standIn.dropResponses(1);
    const first = await h.deliver();
    // Resend took all 100; we never heard so. The rows wait for a retry, the broadcast still sending.
    expect(first).toMatchObject({ sent: 0, retried: 100, failed: 0 });
    expect(s.delivered()).toHaveLength(100);
    expect((await broadcastState(h, id)).status).toBe('sending');

    h.clock.advance(3_600_000);
    const second = await h.deliver();
    expect(second).toMatchObject({ sent: 100, retried: 0, failed: 0 });
    const batches = s.standIn.requests.filter((r) => r.path === '/emails/batch');
    expect(batches.map((r) => r.status)).toEqual([0, 200]);
    expect(batches[1]!.headers['idempotency-key']).toBe(batches[0]!.headers['idempotency-key']);
    expect(batches[1]!.body).toBe(batches[0]!.body);

    const rows = await broadcastRows(h, id);
    expect(rows).toHaveLength(100);
    expectEachRowDeliveredOnce(h, s, rows);
    expect(s.delivered()).toHaveLength(100);
    expect((await broadcastState(h, id)).status).toBe('sent');
  });

  /** Resend takes the next single message and its answer is lost; an hour later the row is tried again. */
  const loseAnswerThenRetry = async () => {
    s.standIn.dropResponses(1);
    expect(await h.deliver()).toMatchObject({ sent: 0, retried: 1 });
    h.clock.advance(3_600_000);
    expect(await h.deliver()).toMatchObject({ sent: 1, retried: 0, failed: 0 });
    const singles = s.standIn.requests.filter((r) => r.path === '/emails').slice(-2);
    expect(singles.map((r) => r.status)).toEqual([0, 200]);
    return singles;
  };

  it('does not send a single message twice when its answer was lost (the row id is its key)', async () => {
    const email = uniqueEmail('lost');
    const before = s.delivered().length;
    expect((await postSignup(h, { email })).status).toBe(202);
    const singles = await loseAnswerThenRetry();
    expect(singles[1]!.headers['idempotency-key']).toBe(singles[0]!.headers['idempotency-key']);
    const got = s.delivered().slice(before);
    expect(got).toHaveLength(1);
    const [row] = await h.query(
      `select d.status, d.provider_message_id from deliveries d join subscribers s on s.id = d.subscriber_id where s.email = $1`,
      [email],
    );
    expect(row).toEqual({ status: 'sent', provider_message_id: got[0]!.providerId });
  });

  // Regression: the welcome mail's links were signed at each attempt, so its retry changed the body and
  // Resend refused it (409): counted as sent, but without the provider's id.
  it('repeats a welcome mail whose answer was lost byte for byte, and keeps the provider id', async () => {
    const email = uniqueEmail('welcome');
    expect((await postSignup(h, { email })).status).toBe(202);
    await h.deliver();
    const sent = () => (s.standIn.messages as ResendRecordedEmail[]).filter((m) => m.to.includes(email));
    const [confirmation] = sent();
    const confirmed = await h.request(pathOf(linkIn(confirmation!.text ?? '', '/confirm/')), {
      method: 'POST',
      headers: { accept: 'application/json' },
    });
    expect(confirmed.status).toBe(200);
    const singles = await loseAnswerThenRetry();
    expect(singles[1]!.body).toBe(singles[0]!.body);
    const welcomes = sent().filter((m) => m !== confirmation);
    expect(welcomes).toHaveLength(1);
    const [row] = await h.query(
      `select d.status, d.provider_message_id from deliveries d join subscribers s on s.id = d.subscriber_id where s.email = $1 and d.kind = 'welcome'`,
      [email],
    );
    expect(row).toEqual({ status: 'sent', provider_message_id: welcomes[0]!.id });
  });
});
