import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dsnMail, largeMail, mailtoOf, plainMail, unsubscribeMail } from '../integration/inbound-mail.js';
import { buildWorker, linkIn, mailTo, startWorkerRig, type WorkerBuild, type WorkerRig, waitFor } from './support.js';

/**
 * The Worker's email() handler (src/runtime/worker/email.ts) in real workerd: wrangler's test harness
 * dispatches a message as Cloudflare Email Routing would (`worker.email({ from, to, raw })`, Miniflare's
 * /cdn-cgi/local/email), and reports whether the handler rejected it. PostgreSQL through Hyperdrive, mail
 * to an in-process SMTP sink, as in worker.test.ts.
 */

const BOUNCES = 'bounces@quire.test';
const UNSUBSCRIBE = 'unsubscribe@quire.test';
const MAX = 16_384;

let build: WorkerBuild | undefined;
beforeAll(async () => {
  if (process.env.TEST_DATABASE_URL) build = await buildWorker();
}, 120_000);
afterAll(() => build?.remove());

describe.runIf(process.env.TEST_DATABASE_URL)('the Worker’s email() handler in workerd', () => {
  let w: WorkerRig;
  beforeAll(async () => {
    w = await startWorkerRig({ BOUNCE_ADDRESS: BOUNCES, INBOUND_MAX_BYTES: String(MAX) }, build);
  });
  afterAll(() => w?.close());

  const email = (to: string, raw: string, from = 'MAILER-DAEMON@relay.example.net') =>
    w.server.getWorker().email({ from, to, raw });
  const statusOf = async (address: string) =>
    (await w.sql<{ status: string }[]>`select status from subscribers where email = ${address}`)[0]?.status;
  const signup = async (address: string) => {
    const res = await w.fetch('/v1/subscriptions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: address, consent: true }),
    });
    expect(res.status).toBe(202);
    return (await waitFor(() => mailTo(w.smtp, address), 'the confirmation mail'))[0]!;
  };

  it('a confirmation goes out with the VERP return path, and a DSN to it suppresses the typo', async () => {
    const typo = `typo.${Date.now()}@example.com`;
    const confirmation = await signup(typo);
    const [row] = await w.sql<{ id: string }[]>`
      select d.id from deliveries d join subscribers s on s.id = d.subscriber_id where s.email = ${typo}`;
    expect(confirmation.envelope.from).toBe(`bounces+${row!.id}@quire.test`);

    const result = await email(confirmation.envelope.from, dsnMail({ recipient: typo }));
    expect(result).toMatchObject({ outcome: 'ok' });
    expect(result.rejectReason).toBeUndefined();
    expect(await statusOf(typo)).toBe('bounced');
    const [delivery] = await w.sql<{ status: string }[]>`select status from deliveries where id = ${row!.id}`;
    expect(delivery!.status).toBe('bounced');
  });

  it('a message to the List-Unsubscribe mailto target unsubscribes, its ledger event sealed', async () => {
    const reader = `mailto.${Date.now()}@example.com`;
    const confirmation = await signup(reader);
    const confirmPath = new URL(linkIn(confirmation, '/confirm/')).pathname;
    await w.fetch(confirmPath, { method: 'POST', headers: { accept: 'application/json' } });
    const welcome = (await waitFor(() => mailTo(w.smtp, reader, 2), 'the welcome mail'))[1]!;
    const mailto = mailtoOf(welcome.parsed.headerLines.find((l) => l.key === 'list-unsubscribe')!.line);
    expect(mailto.address).toBe(UNSUBSCRIBE);

    const result = await email(
      mailto.address,
      unsubscribeMail({ to: mailto.address, subject: mailto.subject, from: reader }),
      reader,
    );
    expect(result.rejectReason).toBeUndefined();
    expect(await statusOf(reader)).toBe('unsubscribed');
    const events = await w.sql<{ kind: string; source: string; sealed: boolean }[]>`
      select e.kind, e.source, e.hash is not null as sealed from consent_events e join subscribers s on s.id = e.subscriber_id
      where s.email = ${reader} and e.kind = 'unsubscribed'`;
    expect(events).toEqual([{ kind: 'unsubscribed', source: 'mailto', sealed: true }]);
  });

  it('rejects other addresses and oversized mail with a reason, and accepts junk to our addresses', async () => {
    const other = await email('author@quire.test', plainMail({ to: 'author@quire.test' }), 'someone@example.org');
    expect(other.rejectReason).toMatch(/takes no mail/);
    const large = await email(UNSUBSCRIBE, largeMail(UNSUBSCRIBE, MAX * 2), 'someone@example.org');
    expect(large.rejectReason).toBe(`Message larger than ${MAX} bytes.`);

    const verp = `bounces+${crypto.randomUUID()}@quire.test`;
    for (const [to, raw] of [
      [verp, plainMail({ to: verp, subject: 'Out of office' })],
      [UNSUBSCRIBE, plainMail({ to: UNSUBSCRIBE, subject: 'unsubscribe me' })],
    ] as const) {
      const result = await email(to, raw, 'someone@example.org');
      expect(result).toMatchObject({ outcome: 'ok' });
      expect(result.rejectReason).toBeUndefined();
    }
    const logged = w.logs().filter((l) => l.msg === 'inbound mail');
    expect(logged.map((l) => `${l.status}:${l.reason}`)).toEqual(
      expect.arrayContaining([
        'rejected:unknown_recipient',
        'rejected:too_large',
        'dropped:not_a_report',
        'dropped:no_token',
      ]),
    );
    // The outcomes name nobody.
    expect(JSON.stringify(logged)).not.toMatch(/@|[A-Za-z0-9_-]{51}/);
  });
});
