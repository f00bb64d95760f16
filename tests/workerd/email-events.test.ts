import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorker, startWorkerRig, type WorkerBuild, type WorkerRig, waitFor } from './support.js';

/**
 * Email Service's delivery events through the Worker's queue consumer (src/runtime/worker/email-events.ts)
 * in real workerd. Mail goes out through the local `send_email` binding, so each delivery row holds the id
 * the binding answered; the events are then put on `quire-email-events` through wrangler.toml's producer
 * binding (from the harness's getEnv()), and Miniflare hands them to the consumer as Cloudflare's event
 * subscription would. Payloads follow https://developers.cloudflare.com/email-service/platform/event-subscriptions/.
 */

const EXPLORER_SENT = '/cdn-cgi/local/explorer/api/local/email/sending';
/** Email Service refuses a List-Unsubscribe with an http target, so the site is https here. */
const HTTPS_PUBLIC_URL = 'https://quire.test';

interface Producer {
  send(body: unknown): Promise<void>;
}

let build: WorkerBuild | undefined;
beforeAll(async () => {
  // The Local Explorer exposes what the send_email binding sent (the confirmation link is read there).
  process.env.X_LOCAL_EXPLORER = 'true';
  if (process.env.TEST_DATABASE_URL) build = await buildWorker();
}, 120_000);
afterAll(() => build?.remove());

function emailSendingEvent(kind: string, p: { eventId: string; messageId: string; recipient: string }, extra = {}) {
  return {
    type: `cf.email.sending.message.${kind}`,
    source: { type: 'email.sending', zoneId: '023e105f4ecef8ad9ca31a8372d0c353', domain: 'quire.test' },
    payload: { ...p, sender: 'updates@quire.test', subject: 'Confirm your subscription', terminal: true, ...extra },
    metadata: {
      accountId: 'f9f79265f388666de8122cfb508d7776',
      eventSubscriptionId: '1830c4bb612e43c3af7f4cada31fbf3f',
      eventSchemaVersion: 1,
      eventTimestamp: new Date().toISOString(),
    },
  };
}

describe.runIf(process.env.TEST_DATABASE_URL)('Email Service delivery events on the quire-email-events queue', () => {
  let w: WorkerRig;
  let events: Producer;
  beforeAll(async () => {
    w = await startWorkerRig(
      { PUBLIC_URL: HTTPS_PUBLIC_URL, SMTP_URL: '', MAIL_DSN: 'cloudflare+email://EMAIL' },
      build,
      { sendEmail: ['EMAIL'] },
    );
    events = (await w.server.getWorker<{ EMAIL_EVENTS: Producer }>().getEnv()).EMAIL_EVENTS;
  });
  afterAll(() => w?.close());

  const signup = async (email: string) => {
    const res = await w.fetch('/v1/subscriptions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, consent: true }),
    });
    expect(res.status).toBe(202);
  };
  /** The reader's delivery of `kind`, once the binding has taken it. */
  const sent = (email: string, kind: string) =>
    waitFor(
      async () =>
        (
          await w.sql<{ id: string; provider_message_id: string }[]>`
            select d.id, d.provider_message_id from deliveries d join subscribers s on s.id = d.subscriber_id
            where s.email = ${email} and d.kind = ${kind} and d.status = 'sent' and d.provider_message_id is not null`
        )[0],
      `the ${kind} sent through the binding`,
    );
  const applied = (eventId: string, duplicates: number) =>
    waitFor(
      () => w.logs().find((l) => l.msg === 'email event' && l.eventId === eventId && l.duplicates === duplicates),
      `event ${eventId} consumed${duplicates ? ' again' : ''}`,
    );
  /** Everything an event may change about one reader. */
  const stateOf = async (email: string) => {
    const [sub] = await w.sql<{ id: string; status: string; email_hash: string }[]>`
      select id, status, email_hash from subscribers where email = ${email}`;
    return {
      status: sub!.status,
      deliveries:
        await w.sql`select id, kind, status from deliveries where subscriber_id = ${sub!.id} order by created_at`,
      suppressions: await w.sql`select reason from suppressions where email_hash = ${sub!.email_hash}`,
      bounces: await w.sql`select type, source, delivery_id from bounce_events where email_hash = ${sub!.email_hash}`,
      ledger: await w.sql`select kind, source from consent_events where subscriber_id = ${sub!.id} order by seq`,
      providerEvents: await w.sql`
        select provider, kind, outcome, delivery_id from provider_events
        where delivery_id in (select id from deliveries where subscriber_id = ${sub!.id})`,
    };
  };

  it('a hard message.bounced suppresses the address and marks the delivery bounced; its repeat changes nothing', async () => {
    const typo = `typo.${Date.now()}@example.com`;
    await signup(typo);
    const confirmation = await sent(typo, 'confirmation');
    const eventId = crypto.randomUUID();
    const bounce = emailSendingEvent(
      'bounced',
      // As the docs write message ids: bare, where the local binding answered one in angle brackets.
      { eventId, messageId: confirmation.provider_message_id.replace(/^<(.*)>$/, '$1'), recipient: typo },
      {
        delivery: { status: 'bounced', smtpStatusCode: '550', smtpResponse: '550 5.1.1 User unknown' },
        bounce: { type: 'hard', classification: 'permanent_failure', reason: '550 5.1.1 User unknown' },
      },
    );
    await events.send(bounce);
    expect(await applied(eventId, 0)).toMatchObject({ type: 'bounced', suppressed: 1, duplicates: 0 });

    const after = await stateOf(typo);
    expect(after).toMatchObject({
      status: 'bounced',
      deliveries: [{ id: confirmation.id, kind: 'confirmation', status: 'bounced' }],
      suppressions: [{ reason: 'hard_bounce' }],
      bounces: [{ type: 'hard', source: 'webhook', delivery_id: confirmation.id }],
      providerEvents: [{ provider: 'cloudflare', kind: 'bounce', outcome: 'suppressed', delivery_id: confirmation.id }],
    });
    expect(after.ledger).toContainEqual({ kind: 'suppressed', source: 'webhook:hard_bounce' });

    // Queues deliver at least once: the same event again is acknowledged and changes nothing.
    await events.send(bounce);
    expect(await applied(eventId, 1)).toMatchObject({ duplicates: 1, suppressed: 0 });
    expect(await stateOf(typo)).toEqual(after);
  });

  it('a message.complained marks the reader complained and suppresses the address', async () => {
    const reader = `reader.${Date.now()}@example.com`;
    await signup(reader);
    await sent(reader, 'confirmation');
    const confirmed = await w.fetch(await confirmPath(w, reader), {
      method: 'POST',
      headers: { accept: 'application/json' },
    });
    expect(await confirmed.json()).toEqual({ status: 'confirmed' });
    const welcome = await sent(reader, 'welcome');
    const eventId = crypto.randomUUID();
    await events.send(
      emailSendingEvent(
        'complained',
        { eventId, messageId: welcome.provider_message_id, recipient: reader },
        { delivery: { status: 'complained' }, complaint: { type: 'abuse' } },
      ),
    );
    expect(await applied(eventId, 0)).toMatchObject({ type: 'complained', suppressed: 1 });
    const after = await stateOf(reader);
    expect(after).toMatchObject({
      status: 'complained',
      suppressions: [{ reason: 'complaint' }],
      providerEvents: [{ provider: 'cloudflare', kind: 'complaint', outcome: 'suppressed', delivery_id: welcome.id }],
    });
    expect(after.deliveries).toContainEqual({ id: welcome.id, kind: 'welcome', status: 'bounced' });
  });

  it('a deferral and an unreadable message are acknowledged and change nothing', async () => {
    const reader = `deferred.${Date.now()}@example.com`;
    await signup(reader);
    const confirmation = await sent(reader, 'confirmation');
    const before = await stateOf(reader);
    w.server.clearLogs();
    await events.send(
      emailSendingEvent(
        'deferred',
        { eventId: crypto.randomUUID(), messageId: confirmation.provider_message_id, recipient: reader },
        {
          terminal: false,
          delivery: { status: 'deferred', smtpResponse: '451 4.2.0 Temporary mailbox error' },
          bounce: { type: 'soft', classification: 'temporary_failure', reason: '451 4.2.0 Temporary mailbox error' },
        },
      ),
    );
    await events.send({ type: 'cf.email.sending.message.bounced', payload: { recipient: reader } });
    await waitFor(() => w.logs().find((l) => l.msg === 'email event ignored' && l.type === 'deferred'), 'the deferral');
    await waitFor(() => w.logs().find((l) => l.msg === 'email event unreadable'), 'the unreadable message');
    expect(await stateOf(reader)).toEqual(before);
    // Neither log line names the reader.
    expect(JSON.stringify(w.logs())).not.toContain(reader);
  });
});

/** The /confirm/ path from the confirmation the binding sent to `address` (the Local Explorer's store). */
async function confirmPath(w: WorkerRig, address: string): Promise<string> {
  const { url: origin } = await w.server.listen();
  const list = (await (await fetch(new URL(`${EXPLORER_SENT}?per_page=100`, origin))).json()) as {
    result: { to: string[]; messageId: string }[];
  };
  const id = list.result.find((e) => e.to.includes(address))?.messageId;
  if (!id) throw new Error('no confirmation in the Email Service store');
  const mail = (await (await fetch(new URL(`${EXPLORER_SENT}?email_id=${encodeURIComponent(id)}`, origin))).json()) as {
    result: { text?: string };
  };
  const found = /https:\/\/quire\.test(\/confirm\/[A-Za-z0-9_.~%-]+)/.exec(mail.result.text ?? '')?.[1];
  if (!found) throw new Error('no /confirm/ link in the confirmation');
  return found;
}
