import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { templates } from '../../emails/index.js';
import { type PostmarkStandIn, startPostmarkStandIn } from '../stand-ins/postmark.js';
import { type ResendStandIn, startResendStandIn } from '../stand-ins/resend.js';
import { buildWorker, startWorkerRig, WORKER_SECRET, type WorkerBuild, type WorkerRig, waitFor } from './support.js';

/**
 * MAIL_DSN and BROADCAST_MAIL_DSN in the deploy bundle, in real workerd (wrangler's test harness): the
 * Workers recipe (Email Service binding for transactional mail, an API provider for broadcasts), one API
 * provider for everything, and what a broadcast or a bad DSN meets on Email Service alone. The providers
 * are the strict stand-ins in tests/stand-ins/, on 127.0.0.1 in this process: the harness hands the
 * Worker's outbound fetch to this process's fetch, so they are reached as a provider's API would be.
 * Mail sent through the local `send_email` binding is read back from the Local Explorer's store.
 */

if (!process.env.TEST_DATABASE_URL) {
  process.stderr.write(
    'quire workerd provider tests: skipped — the Worker needs PostgreSQL (set TEST_DATABASE_URL; npm test probes 127.0.0.1:5432)\n',
  );
}

const EXPLORER_SENT = '/cdn-cgi/local/explorer/api/local/email/sending';
const POSTMARK_TOKEN = 'pm-server-token-0123456789';
const RESEND_KEY = 're_workerd_test_key_0123456789';
/** Email Service refuses a List-Unsubscribe with an http target, so the site is https here. */
const HTTPS_PUBLIC_URL = 'https://quire.test';

interface SentEmail {
  to: string[];
  subject: string;
  messageId: string;
  headers?: Record<string, string>;
  text?: string;
}

let build: WorkerBuild | undefined;
beforeAll(async () => {
  // The Local Explorer (on by default) is what exposes the sent-mail store.
  process.env.X_LOCAL_EXPLORER = 'true';
  if (process.env.TEST_DATABASE_URL) build = await buildWorker();
}, 120_000);
afterAll(() => build?.remove());

/** Messages the Worker sent through its send_email bindings to `address`, in full. */
async function explorerMailTo(w: WorkerRig, address: string): Promise<SentEmail[]> {
  const { url: origin } = await w.server.listen();
  const list = (await (await fetch(new URL(`${EXPLORER_SENT}?per_page=100`, origin))).json()) as {
    result: SentEmail[];
  };
  const ids = list.result.filter((e) => e.to.includes(address)).map((e) => e.messageId);
  return Promise.all(
    ids.map(
      async (id) =>
        (
          (await (await fetch(new URL(`${EXPLORER_SENT}?email_id=${encodeURIComponent(id)}`, origin))).json()) as {
            result: SentEmail;
          }
        ).result,
    ),
  );
}

const signup = (w: WorkerRig, email: string) =>
  w.fetch('/v1/subscriptions', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, consent: true, name: 'Ada' }),
  });

const linkFrom = (text: string | undefined, path: string): string => {
  const found = new RegExp(`https://quire\\.test${path}[A-Za-z0-9_.~%-]+`).exec(text ?? '')?.[0];
  if (!found) throw new Error(`no ${path} link in ${JSON.stringify(text?.slice(0, 200))}`);
  return new URL(found).pathname;
};

/** `n` active subscribers on a new topic of their own; returns the topic and their addresses. */
async function seedAudience(w: WorkerRig, prefix: string, n: number): Promise<{ topic: string; emails: string[] }> {
  const topic = `${prefix}${Date.now().toString(36)}`;
  await w.sql`insert into topics (slug, name, description, default_on) values (${topic}, ${`Topic ${topic}`}, 'Workers provider test topic', false)`;
  await w.sql`
    insert into subscribers (email, email_hash, name, status, confirmed_at)
    select ${topic} || '.' || g || '@example.com', md5(${topic} || g), 'Reader ' || g, 'active', now() from generate_series(1, ${n}::int) g`;
  await w.sql`insert into subscriptions (subscriber_id, topic, subscribed) select id, ${topic}, true from subscribers where email like ${`${topic}.%`}`;
  return { topic, emails: Array.from({ length: n }, (_, i) => `${topic}.${i + 1}@example.com`) };
}

async function createBroadcast(w: WorkerRig, topic: string): Promise<string> {
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
  return ((await created.json()) as { id: string }).id;
}

const deliveryCounts = async (w: WorkerRig, broadcastId: string) =>
  w.sql<
    { status: string; n: number }[]
  >`select status, count(*)::int as n from deliveries where broadcast_id = ${broadcastId} group by status order by status`;

describe.runIf(process.env.TEST_DATABASE_URL)(
  'the Workers recipe: Email Service for transactional mail, Postmark for broadcasts',
  () => {
    let w: WorkerRig;
    let postmark: PostmarkStandIn;
    beforeAll(async () => {
      // A provider's latency (200 ms a call), so the cron's own drain is still going when the queue consumer starts.
      postmark = await startPostmarkStandIn({ serverToken: POSTMARK_TOKEN, delayMs: 200 });
      w = await startWorkerRig(
        {
          PUBLIC_URL: HTTPS_PUBLIC_URL,
          SMTP_URL: '',
          MAIL_DSN: 'cloudflare+email://EMAIL',
          BROADCAST_MAIL_DSN: `postmark+api://${POSTMARK_TOKEN}@127.0.0.1:${postmark.port}?message_stream=broadcast`,
          // Small batches and slices: the send request's waitUntil sends one batch, the cron and the queue the rest.
          DELIVERY_BATCH: '25',
          QUEUE_FANOUT: '3',
          QUEUE_SLICE_SECONDS: '5',
        },
        build,
        { sendEmail: ['EMAIL'] },
      );
    });
    afterAll(async () => {
      await w?.close();
      await postmark?.close();
    });

    it('a signup’s confirmation and welcome go out through the send_email binding, not Postmark', async () => {
      const email = `recipe.${Date.now()}@example.com`;
      expect((await signup(w, email)).status).toBe(202);
      const [confirmation] = await waitFor(async () => {
        const mails = await explorerMailTo(w, email);
        return mails.length ? mails : undefined;
      }, 'the confirmation in the Email Service store');
      const confirmPath = linkFrom(confirmation!.text, '/confirm/');
      expect(
        await w.sql`select d.kind, d.status from deliveries d join subscribers s on s.id = d.subscriber_id where s.email = ${email}`,
      ).toEqual([{ kind: 'confirmation', status: 'sent' }]);

      const confirmed = await w.fetch(confirmPath, { method: 'POST', headers: { accept: 'application/json' } });
      expect(await confirmed.json()).toEqual({ status: 'confirmed' });
      const mails = await waitFor(async () => {
        const all = await explorerMailTo(w, email);
        return all.length >= 2 ? all : undefined;
      }, 'the welcome in the Email Service store');
      const welcome = mails.find((m) => m.messageId !== confirmation!.messageId)!;
      // An https one-click target, as Email Service requires (an http one is refused before the binding).
      expect(welcome.headers?.['List-Unsubscribe']).toMatch(/^<https:\/\/quire\.test\/unsubscribe\/[^>]+>, <mailto:/);
      expect(welcome.headers?.['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
      expect(postmark.requests).toEqual([]);
    });

    it('a broadcast to 300 readers goes through Postmark’s broadcast stream by waitUntil, cron and queue, once each', async () => {
      const n = 300;
      const { topic, emails } = await seedAudience(w, 'recipe', n);
      const id = await createBroadcast(w, topic);
      const sent = await w.admin(`/admin/v1/broadcasts/${id}/send`, { method: 'POST' });
      expect(sent.status).toBeLessThan(300);
      // The send request's waitUntil delivers one batch (DELIVERY_BATCH = 25); it also hands the broadcast
      // to the queue at once, so consumers may already be sending more beside it.
      await waitFor(
        () => w.logs().find((l) => l.msg === 'delivery drained' && l.trigger === 'request' && l.sent === 25),
        'the first batch from waitUntil',
      );
      expect(postmark.messages.length).toBeGreaterThanOrEqual(25);

      // A cron tick fans the broadcast out to the queue and delivers too; the consumers share the rest.
      w.server.clearLogs();
      expect((await w.server.getWorker().scheduled({ cron: '* * * * *', scheduledTime: new Date() })).outcome).toBe(
        'ok',
      );
      await waitFor(
        async () =>
          (await w.sql`select 1 from broadcasts where id = ${id} and status = 'sent'`).length ? true : undefined,
        'the broadcast to be sent',
        60_000,
      );
      expect(await deliveryCounts(w, id)).toEqual([{ status: 'sent', n }]);
      expect(w.logs().find((l) => l.msg === 'delivery fanned out')).toMatchObject({ messages: expect.any(Number) });
      // Repeated queue messages (at-least-once) find nothing left: give them time to show they send nothing.
      await new Promise((r) => setTimeout(r, 1500));
      // The cron and the queue consumers shared what the first batch left; how they split it depends on
      // timing (the queue starts at the send), so only the sum is bounded here: nobody is sent twice below.
      const sentBy = (msg: string) =>
        w
          .logs()
          .filter((l) => l.msg === msg)
          .reduce((sum, l) => sum + Number(l.sent ?? 0), 0);
      expect(sentBy('delivery drained') + sentBy('delivery slice')).toBeLessThanOrEqual(n - 25);

      // Exactly once per reader, each in a batch call on the broadcast stream, each with its own one-click link.
      const counts = postmark.countByRecipient();
      expect(counts.size).toBe(n);
      expect(emails.every((e) => counts.get(e) === 1)).toBe(true);
      expect(postmark.messages).toHaveLength(n);
      const unsubscribeLinks = new Set<string>();
      for (const m of postmark.messages) {
        expect(m).toMatchObject({
          endpoint: '/email/batch',
          MessageStream: 'broadcast',
          Subject: 'New chapter article: Coaching through tech refinement',
        });
        const header = (name: string) => m.Headers.find((h) => h.Name.toLowerCase() === name.toLowerCase())?.Value;
        const listUnsubscribe = header('List-Unsubscribe') ?? '';
        expect(listUnsubscribe).toMatch(/^<https:\/\/quire\.test\/unsubscribe\/[^>]+>, <mailto:[^>]+>$/);
        expect(header('List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');
        unsubscribeLinks.add(listUnsubscribe);
      }
      expect(unsubscribeLinks.size).toBe(n);
      expect(
        postmark.requests.every((r) => r.headers['x-postmark-server-token'] === POSTMARK_TOKEN && r.status === 200),
      ).toBe(true);
      // None of it went through the Email Service binding.
      expect(await explorerMailTo(w, emails[0]!)).toEqual([]);
    });
  },
);

describe.runIf(process.env.TEST_DATABASE_URL)('MAIL_DSN=cloudflare+email://EMAIL alone', () => {
  let w: WorkerRig;
  beforeAll(async () => {
    w = await startWorkerRig(
      { PUBLIC_URL: HTTPS_PUBLIC_URL, SMTP_URL: '', MAIL_DSN: 'cloudflare+email://EMAIL' },
      build,
      { sendEmail: ['EMAIL'] },
    );
  });
  afterAll(() => w?.close());

  it('refuses to send a broadcast (409, transactional only) and queues nothing', async () => {
    const { topic, emails } = await seedAudience(w, 'refused', 5);
    const id = await createBroadcast(w, topic);
    w.server.clearLogs();
    const res = await w.admin(`/admin/v1/broadcasts/${id}/send`, { method: 'POST' });
    expect(res.status).toBe(409);
    expect(await res.json()).toEqual({
      error: {
        code: 'invalid_state',
        message:
          'Broadcasts cannot be sent through cloudflare: it carries transactional mail only. Set BROADCAST_MAIL_DSN to a bulk mail provider.',
        requestId: expect.any(String),
      },
    });

    const [row] = await w.sql<
      { status: string; audience_frozen_at: Date | null }[]
    >`select status, audience_frozen_at from broadcasts where id = ${id}`;
    expect(row).toEqual({ status: 'draft', audience_frozen_at: null });
    expect(await deliveryCounts(w, id)).toEqual([]);
    // A cron tick has nothing to fan out or send either.
    expect((await w.server.getWorker().scheduled({ cron: '* * * * *', scheduledTime: new Date() })).outcome).toBe('ok');
    expect(w.logs().filter((l) => l.msg === 'delivery fanned out' || l.msg === 'delivery slice')).toEqual([]);
    expect(await explorerMailTo(w, emails[0]!)).toEqual([]);
  });
});

describe.runIf(process.env.TEST_DATABASE_URL)('MAIL_DSN=resend+api:// for everything', () => {
  let w: WorkerRig;
  let resend: ResendStandIn;
  beforeAll(async () => {
    resend = await startResendStandIn({ apiKey: RESEND_KEY });
    w = await startWorkerRig({ SMTP_URL: '', MAIL_DSN: `resend+api://${RESEND_KEY}@127.0.0.1:${resend.port}` }, build);
  });
  afterAll(async () => {
    await w?.close();
    await resend?.close();
  });

  it('a signup’s confirmation arrives at Resend, and so does a broadcast', async () => {
    const email = `resend.${Date.now()}@example.com`;
    expect((await signup(w, email)).status).toBe(202);
    const [confirmation] = await waitFor(() => {
      const found = resend.messages.filter((m) => m.to.includes(email));
      return found.length ? found : undefined;
    }, 'the confirmation at Resend');
    expect(confirmation!.text).toMatch(/http:\/\/quire\.test\/confirm\//);
    expect(resend.requests[0]!.headers.authorization).toBe(`Bearer ${RESEND_KEY}`);

    const { topic, emails } = await seedAudience(w, 'resend', 4);
    const id = await createBroadcast(w, topic);
    expect((await w.admin(`/admin/v1/broadcasts/${id}/send`, { method: 'POST' })).status).toBeLessThan(300);
    await waitFor(
      () => (emails.every((e) => resend.countByRecipient().get(e) === 1) ? true : undefined),
      'the broadcast at Resend',
    );
    const sample = resend.messages.find((m) => m.to.includes(emails[0]!))!;
    expect(sample.headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
  });
});

describe.runIf(process.env.TEST_DATABASE_URL)('a MAIL_DSN the Worker cannot use', () => {
  const cases: [what: string, dsn: string, logged: RegExp, key?: string][] = [
    [
      'names a send_email binding the Worker does not have',
      'cloudflare+email://MISSING',
      /MAIL_DSN names the send_email binding "MISSING", which this Worker does not have/,
    ],
    [
      'has an unknown scheme (with a key in it)',
      'mailchimp+api://mc-secret-key-0123456789@default',
      /MAIL_DSN: unknown scheme "mailchimp\+api" .*\(in mailchimp\+api:\/\/\*\*\*\*@default\)/,
      'mc-secret-key-0123456789',
    ],
  ];
  for (const [what, dsn, logged, key] of cases) {
    it(`answers 503 when it ${what}, and logs MAIL_DSN without secrets`, async () => {
      const w = await startWorkerRig({ SMTP_URL: '', MAIL_DSN: dsn }, build, { sendEmail: ['EMAIL'] });
      try {
        const res = await signup(w, `bad.${Date.now()}@example.com`);
        expect(res.status).toBe(503);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe('service_unavailable');
        const line = await waitFor(
          () => w.logs().find((l) => /MAIL_DSN/.test(String(l.raw ?? '')))?.raw,
          'MAIL_DSN in the log',
        );
        expect(String(line)).toMatch(logged);
        const everything = JSON.stringify(w.logs());
        expect(everything).not.toContain(WORKER_SECRET);
        if (key) expect(everything).not.toContain(key);
      } finally {
        await w.close();
      }
    });
  }
});
