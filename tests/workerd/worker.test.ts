import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { templates } from '../../emails/index.js';
import {
  buildWorker,
  linkIn,
  listUnsubscribeUrl,
  mailTo,
  startWorkerRig,
  type WorkerBuild,
  type WorkerRig,
  waitFor,
} from './support.js';

/**
 * The Worker (src/runtime/worker/) in real workerd (wrangler's test harness) against PostgreSQL through
 * the Hyperdrive binding and a real SMTP server: the subscriber lifecycle with mail sent from waitUntil, the cron
 * draining the outbox, and the queue consumer delivering a broadcast.
 */
const pathOf = (url: string) => new URL(url).pathname;

if (!process.env.TEST_DATABASE_URL) {
  process.stderr.write(
    'quire workerd tests: skipped — the Worker needs PostgreSQL (set TEST_DATABASE_URL; npm test probes 127.0.0.1:5432)\n',
  );
}

let build: WorkerBuild | undefined;
beforeAll(async () => {
  if (process.env.TEST_DATABASE_URL) build = await buildWorker();
}, 120_000);
afterAll(() => build?.remove());

describe.runIf(process.env.TEST_DATABASE_URL)('the Worker in workerd (PostgreSQL via Hyperdrive, SMTP)', () => {
  let w: WorkerRig;
  beforeAll(async () => {
    // Small batches, so one waitUntil batch cannot finish a broadcast and the queue has work left.
    w = await startWorkerRig({ DELIVERY_BATCH: '5', QUEUE_FANOUT: '2', QUEUE_SLICE_SECONDS: '5' }, build);
  });
  afterAll(() => w?.close());

  const statusOf = async (email: string) =>
    (await w.sql<{ status: string }[]>`select status from subscribers where email = ${email}`)[0]?.status;

  it('serves the app: readiness through Hyperdrive, production mode, one error envelope', async () => {
    const ready = await w.fetch('/readyz');
    expect(ready.status).toBe(200);
    const root = await w.fetch('/');
    expect(await root.json()).toEqual({ name: 'quire', docs: '/docs' });
    const missing = await w.fetch('/nope', { headers: { accept: 'application/json' } });
    expect(missing.status).toBe(404);
    expect((await missing.json()).error.code).toBe('not_found');
  });

  it('signup → confirmation mail (sent in waitUntil, no cron) → confirm → welcome → one-click unsubscribe', async () => {
    const email = `edge.${Date.now()}@example.com`;
    const signup = await w.fetch('/v1/subscriptions', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'cf-connecting-ip': '198.51.100.4' },
      body: JSON.stringify({ email, consent: true, name: 'Ada' }),
    });
    expect(signup.status).toBe(202);
    expect((await signup.json()).status).toBe('pending');

    const [confirmation] = await waitFor(() => mailTo(w.smtp, email), 'the confirmation mail');
    const confirmUrl = linkIn(confirmation!, '/confirm/');
    expect(confirmUrl.startsWith('http://quire.test/confirm/')).toBe(true);
    // The sink has the mail before the relay's reply reaches the Worker, which then marks the row.
    const delivered = await waitFor(async () => {
      const rows = await w.sql<
        { kind: string; status: string }[]
      >`select d.kind, d.status from deliveries d join subscribers s on s.id = d.subscriber_id where s.email = ${email}`;
      return rows.every((r) => r.status !== 'sending') ? rows : undefined;
    }, 'the confirmation row settled');
    expect(delivered).toEqual([{ kind: 'confirmation', status: 'sent' }]);

    // GET changes nothing (link scanners); POST confirms.
    expect((await w.fetch(pathOf(confirmUrl))).status).toBe(200);
    expect(await statusOf(email)).toBe('pending');
    const confirmed = await w.fetch(pathOf(confirmUrl), { method: 'POST', headers: { accept: 'application/json' } });
    expect(await confirmed.json()).toEqual({ status: 'confirmed' });
    expect(await statusOf(email)).toBe('active');

    const mails = await waitFor(() => mailTo(w.smtp, email, 2), 'the welcome mail');
    const welcome = mails[1]!;
    const unsubscribeUrl = listUnsubscribeUrl(welcome);
    expect(welcome.parsed.headerLines.find((l) => l.key === 'list-unsubscribe-post')?.line).toBe(
      'List-Unsubscribe-Post: List-Unsubscribe=One-Click',
    );

    const unsubscribed = await w.fetch(pathOf(unsubscribeUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
      redirect: 'manual',
    });
    expect(unsubscribed.status).toBe(200);
    expect(unsubscribed.headers.get('location')).toBeNull();
    expect(await statusOf(email)).toBe('unsubscribed');
  });

  it('a cron tick (scheduled handler) sends mail the request could not', async () => {
    const email = `cron.${Date.now()}@example.com`;
    // The relay refuses the attempt made in waitUntil: the row goes back to the queue with a backoff.
    w.smtp.failNext(451, '4.3.0 Try again later');
    const signup = await w.fetch('/v1/subscriptions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, consent: true }),
    });
    expect(signup.status).toBe(202);
    const [row] = await waitFor(async () => {
      const rows = await w.sql<{ id: string; status: string; attempts: number; last_error: string | null }[]>`
        select d.id, d.status, d.attempts, d.last_error from deliveries d join subscribers s on s.id = d.subscriber_id where s.email = ${email}`;
      return rows[0]?.attempts === 1 && rows[0].status === 'queued' ? rows : undefined;
    }, 'the refused first attempt');
    expect(row!.last_error).toContain('451');
    expect(mailTo(w.smtp, email)).toBeUndefined();

    // Its backoff has passed; the cron takes it.
    await w.sql`update deliveries set next_attempt_at = now() - interval '1 second' where id = ${row!.id}`;
    const result = await w.server.getWorker().scheduled({ cron: '* * * * *', scheduledTime: new Date() });
    expect(result.outcome).toBe('ok');
    expect(mailTo(w.smtp, email)).toHaveLength(1);
    const [after] = await w.sql<
      { status: string; attempts: number }[]
    >`select status, attempts from deliveries where id = ${row!.id}`;
    expect(after).toEqual({ status: 'sent', attempts: 2 });
  });

  it('the send fans the broadcast out to the queue at once; a repeated message sends nothing more', async () => {
    const topic = `edge${Date.now().toString(36)}`;
    const n = 23;
    await w.sql`insert into topics (slug, name, description, default_on) values (${topic}, ${`Topic ${topic}`}, 'Workers test topic', false)`;
    await w.sql`
      insert into subscribers (email, email_hash, name, status, confirmed_at)
      select ${topic} || '.' || g || '@example.com', md5(${topic} || g), 'Reader ' || g, 'active', now() from generate_series(1, ${n}::int) g`;
    await w.sql`insert into subscriptions (subscriber_id, topic, subscribed) select id, ${topic}, true from subscribers where email like ${`${topic}.%`}`;
    const sentTo = () => w.smtp.messages.filter((m) => m.envelope.to.some((a) => a.startsWith(`${topic}.`))).length;

    const created = await w.admin('/admin/v1/broadcasts', {
      method: 'POST',
      body: JSON.stringify({
        template: 'update-announcement',
        topic,
        subject: 'New chapter article: Coaching through tech refinement',
        preheader: 'Chapter 21 is up.',
        props: templates['update-announcement']!.previewProps,
      }),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    w.server.clearLogs();
    const send = await w.admin(`/admin/v1/broadcasts/${id}/send`, { method: 'POST' });
    expect(send.status).toBe(202);
    expect(((await send.json()) as { status: string }).status).toBe('freezing');
    // The send request's waitUntil freezes the audience and fans the broadcast out to the queue at once
    // ("deliver for this broadcast for up to 5 seconds"); consumers deliver it, no cron tick needed.
    expect(await waitFor(() => w.logs().find((l) => l.msg === 'delivery fanned out'), 'the fan-out')).toMatchObject({
      messages: 1,
    });
    await waitFor(() => (sentTo() === n ? true : undefined), 'the broadcast delivered by the queue consumers');
    await waitFor(
      async () =>
        (await w.sql`select 1 from broadcasts where id = ${id} and status = 'sent'`).length ? true : undefined,
      'the broadcast to be marked sent',
    );
    const slice = await waitFor(
      () => w.logs().find((l) => l.msg === 'delivery slice' && Number(l.sent) > 0),
      'a consumer to log its slice',
    );
    expect(slice).toMatchObject({ broadcastId: id });
    const counts = await w.sql<
      { status: string; n: number }[]
    >`select status, count(*)::int as n from deliveries where broadcast_id = ${id} group by status`;
    expect(counts).toEqual([{ status: 'sent', n }]);
    expect(
      new Set(
        w.smtp.messages
          .filter((m) => m.envelope.to.some((a) => a.startsWith(`${topic}.`)))
          .map((m) => m.envelope.to[0]),
      ).size,
    ).toBe(n);

    // The same message again (queues deliver at least once) finds the broadcast sent and sends nothing.
    const env = await w.server.getWorker<{ DELIVERY_QUEUE: { send(body: unknown): Promise<void> } }>().getEnv();
    await env.DELIVERY_QUEUE.send({ kind: 'deliver', broadcastId: id, seconds: 5 });
    await new Promise((r) => setTimeout(r, 1500));
    expect(sentTo()).toBe(n);
  });

  it('the cron fans a sending broadcast out to the queue', async () => {
    const topic = `fan${Date.now().toString(36)}`;
    await w.sql`insert into topics (slug, name, description, default_on) values (${topic}, ${`Topic ${topic}`}, 'Workers test topic', false)`;
    await w.sql`
      insert into subscribers (email, email_hash, name, status, confirmed_at)
      select ${topic} || '.' || g || '@example.com', md5(${topic} || g), null, 'active', now() from generate_series(1, 12) g`;
    await w.sql`insert into subscriptions (subscriber_id, topic, subscribed) select id, ${topic}, true from subscribers where email like ${`${topic}.%`}`;
    const created = await w.admin('/admin/v1/broadcasts', {
      method: 'POST',
      body: JSON.stringify({
        template: 'update-announcement',
        topic,
        subject: 'Fan-out',
        preheader: 'x',
        props: templates['update-announcement']!.previewProps,
      }),
    });
    const { id } = (await created.json()) as { id: string };
    // Scheduled for later: the send request queues nothing now; the cron starts it when due.
    await w.admin(`/admin/v1/broadcasts/${id}/send`, {
      method: 'POST',
      body: JSON.stringify({ at: new Date(Date.now() + 60_000).toISOString() }),
    });
    await w.sql`update broadcasts set scheduled_at = now() - interval '1 second' where id = ${id}`;
    w.server.clearLogs();
    const result = await w.server.getWorker().scheduled({ cron: '* * * * *', scheduledTime: new Date() });
    expect(result.outcome).toBe('ok');
    const sentTo = () => w.smtp.messages.filter((m) => m.envelope.to.some((a) => a.startsWith(`${topic}.`))).length;
    await waitFor(() => (sentTo() === 12 ? true : undefined), 'the broadcast');
    expect(await waitFor(() => w.logs().find((l) => l.msg === 'delivery fanned out'), 'the fan-out log')).toMatchObject(
      { messages: 1 },
    );
    // The cron's own drain sent the rest; the queued message then finds nothing left: nobody twice.
    await new Promise((r) => setTimeout(r, 1000));
    expect(sentTo()).toBe(12);
  });

  it('swallows only the known rejection from closing per-request database clients', async () => {
    w.server.clearLogs();
    for (let i = 0; i < 3; i++) expect((await w.fetch('/readyz')).status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    // The Worker's unhandledrejection listener drops postgres.js's teardown rejection and logs any other.
    expect(w.logs().filter((l) => l.msg === 'unhandled rejection' || /Uncaught/i.test(String(l.raw ?? '')))).toEqual(
      [],
    );
  });
});

describe.runIf(process.env.TEST_DATABASE_URL)('the Worker without the configuration it needs', () => {
  let w: WorkerRig;
  beforeAll(async () => {
    w = await startWorkerRig({ SMTP_URL: '', RATE_LIMIT_IP: 'many' }, build);
  });
  afterAll(() => w?.close());

  it('answers 503 with the site’s message and logs every bad variable (names only)', async () => {
    const res = await w.fetch('/v1/subscriptions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'someone@example.com', consent: true }),
    });
    expect(res.status).toBe(503);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error).toMatchObject({
      code: 'service_unavailable',
      message: 'Something went wrong on our side. Please try again in a few minutes.',
    });
    const logged = await waitFor(
      () => w.logs().find((l) => String(l.raw ?? '').includes('Invalid configuration')),
      'the configuration error in the log',
    );
    expect(String(logged.raw)).toContain('RATE_LIMIT_IP');
    expect(String(logged.raw)).not.toContain('workerd-test-secret');
  });
});
