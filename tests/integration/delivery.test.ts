import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createOutboxStore } from '../../src/delivery/outbox-store.js';
import { lastMailTo, postSignup, uniqueEmail } from '../support/factories.js';
import { createHarness, databaseKinds, type Harness } from '../support/harness.js';

/** The engine's attempt budget (services.ts): a transient failure on the last one is final. */
const MAX_ATTEMPTS = 8;
const HOUR = 3_600_000;

interface DeliveryRow {
  id: string;
  kind: string;
  status: string;
  attempts: number;
  next_attempt_at: Date;
  lease_until: Date | null;
  message_id: string | null;
  last_error: string | null;
  created_at: Date | string;
}

describe.each(databaseKinds)('delivery on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    // Small batches, so concurrent drains really interleave claims.
    h = await createHarness(kind, { DELIVERY_BATCH: '4' });
  });
  afterAll(() => h?.close());

  // Each test starts with nothing due: earlier tests' retries are moved past and settled.
  beforeEach(async () => {
    h.clock.advance(2 * HOUR);
    await h.deliver();
  });

  const deliveriesTo = (email: string) =>
    h.query<DeliveryRow>(
      `select d.* from deliveries d join subscribers s on s.id = d.subscriber_id where lower(s.email) = lower($1) order by d.created_at, d.id`,
      [email],
    );

  async function onlyDeliveryTo(email: string): Promise<DeliveryRow> {
    const rows = await deliveriesTo(email);
    expect(rows).toHaveLength(1);
    return { ...rows[0]!, next_attempt_at: new Date(rows[0]!.next_attempt_at), attempts: Number(rows[0]!.attempts) };
  }

  const subscriberOf = async (email: string) =>
    (
      await h.query<{ id: string; status: string; email_hash: string }>(
        'select id, status, email_hash from subscribers where lower(email) = lower($1)',
        [email],
      )
    )[0]!;

  /** Move the test clock just past a row's next attempt. */
  const advancePast = (at: Date) => h.clock.advance(Math.max(0, at.getTime() - h.clock.now().getTime()) + 1000);

  async function signUp(label = 'reader') {
    const email = uniqueEmail(label);
    expect((await postSignup(h, { email })).status).toBe(202);
    return email;
  }

  it('puts a signup back in the queue while SMTP is down, and sends it once when the relay is back', async () => {
    const port = h.smtp.port;
    await h.smtp.stop();
    let email: string;
    try {
      email = await signUp('outage');
      const report = await h.deliver();
      expect(report).toMatchObject({ sent: 0, retried: 1, failed: 0 });
      const row = await onlyDeliveryTo(email);
      expect(row).toMatchObject({ status: 'queued', attempts: 1, lease_until: null });
      expect(row.next_attempt_at.getTime()).toBeGreaterThan(h.clock.now().getTime());
      expect(row.last_error).toBeTruthy();
      expect(h.smtp.to(email)).toHaveLength(0);

      // Not due yet: a second pass leaves it alone.
      expect((await h.deliver()).claimed).toBe(0);
      expect((await onlyDeliveryTo(email)).attempts).toBe(1);
    } finally {
      await h.smtp.start(port);
    }
    expect(h.smtp.port).toBe(port);

    advancePast((await onlyDeliveryTo(email)).next_attempt_at);
    expect((await h.deliver()).sent).toBe(1);
    expect(h.smtp.to(email)).toHaveLength(1);
    expect(await onlyDeliveryTo(email)).toMatchObject({ status: 'sent', attempts: 2, last_error: null });
    expect(lastMailTo(h, email).parsed.subject).toMatch(/Confirm your subscription/);

    // Nothing is left to send twice.
    h.clock.advance(2 * HOUR);
    await h.deliver();
    expect(h.smtp.to(email)).toHaveLength(1);
  });

  it('retries a 451 reply later and then delivers exactly once', async () => {
    const email = await signUp('greylisted');
    h.smtp.failNext(451, '4.7.1 Greylisted, please try again later');
    expect(await h.deliver()).toMatchObject({ sent: 0, retried: 1 });
    const row = await onlyDeliveryTo(email);
    expect(row).toMatchObject({ status: 'queued', attempts: 1 });
    expect(row.last_error).toMatch(/451/);
    expect(row.next_attempt_at.getTime()).toBeGreaterThan(h.clock.now().getTime());
    expect(h.smtp.to(email)).toHaveLength(0);

    advancePast(row.next_attempt_at);
    expect(await h.deliver()).toMatchObject({ sent: 1 });
    expect(h.smtp.to(email)).toHaveLength(1);
    expect(await onlyDeliveryTo(email)).toMatchObject({ status: 'sent', attempts: 2 });
  });

  it('backs off further after each transient failure', async () => {
    const email = await signUp('backoff');
    h.smtp.failNext(421, '4.3.2 Service shutting down', 2);
    await h.deliver();
    const first = await onlyDeliveryTo(email);
    const firstWait = first.next_attempt_at.getTime() - h.clock.now().getTime();
    advancePast(first.next_attempt_at);
    await h.deliver();
    const second = await onlyDeliveryTo(email);
    const secondWait = second.next_attempt_at.getTime() - h.clock.now().getTime();
    expect(second).toMatchObject({ status: 'queued', attempts: 2 });
    // Full jitter: attempt n waits between half and all of 30 s · 2^(n-1).
    expect(firstWait).toBeGreaterThanOrEqual(15_000);
    expect(firstWait).toBeLessThanOrEqual(30_000);
    expect(secondWait).toBeGreaterThanOrEqual(30_000);
    expect(secondWait).toBeLessThanOrEqual(60_000);
    advancePast(second.next_attempt_at);
    await h.deliver();
    expect(h.smtp.to(email)).toHaveLength(1);
  });

  it('turns "550 5.1.1 no such user" into a hard bounce: bounced row, suppression, bounced subscriber, ledger event', async () => {
    const email = await signUp('nosuchuser');
    h.smtp.failNext(550, '5.1.1 <nosuchuser@example.com>: no such user');
    expect(await h.deliver()).toMatchObject({ sent: 0, failed: 1, retried: 0 });

    const row = await onlyDeliveryTo(email);
    expect(row.status).toBe('bounced');
    expect(row.last_error).toMatch(/550/);
    const sub = await subscriberOf(email);
    expect(sub.status).toBe('bounced');
    expect(await h.query('select reason from suppressions where email_hash = $1', [sub.email_hash])).toEqual([
      { reason: 'hard_bounce' },
    ]);
    const events = await h.query<{ kind: string; source: string; email_hash: string }>(
      'select kind, source, email_hash from consent_events where subscriber_id = $1 order by seq',
      [sub.id],
    );
    expect(events.map((e) => e.kind)).toEqual(['requested', 'suppressed']);
    expect(events[1]).toMatchObject({ source: expect.stringContaining('hard_bounce'), email_hash: sub.email_hash });

    // Never retried, and a later signup of the address mails nothing.
    h.clock.advance(2 * HOUR);
    expect((await postSignup(h, { email })).status).toBe(202);
    expect((await postSignup(h, { email: email.toUpperCase() })).status).toBe(202);
    await h.deliver();
    expect(h.smtp.to(email)).toHaveLength(0);
    expect(await deliveriesTo(email)).toHaveLength(1);
    expect((await subscriberOf(email)).status).toBe('bounced');

    const verify = await h.request('/admin/v1/consent/verify', {
      headers: { authorization: `Bearer ${h.config.ADMIN_TOKEN}` },
    });
    expect(await verify.json()).toMatchObject({ ok: true });
  });

  it('fails a permanent non-mailbox error (554 5.7.1) without suppressing the address', async () => {
    const email = await signUp('policy');
    h.smtp.failNext(554, '5.7.1 Message rejected by policy');
    expect(await h.deliver()).toMatchObject({ sent: 0, failed: 1, retried: 0 });
    const row = await onlyDeliveryTo(email);
    expect(row.status).toBe('failed');
    expect(row.last_error).toMatch(/554/);
    const sub = await subscriberOf(email);
    expect(sub.status).toBe('pending');
    expect(await h.query('select 1 from suppressions where email_hash = $1', [sub.email_hash])).toHaveLength(0);
    expect(
      (await h.query<{ kind: string }>('select kind from consent_events where subscriber_id = $1', [sub.id])).map(
        (e) => e.kind,
      ),
    ).toEqual(['requested']);

    // Not retried.
    h.clock.advance(2 * HOUR);
    await h.deliver();
    expect(h.smtp.to(email)).toHaveLength(0);
    expect((await onlyDeliveryTo(email)).status).toBe('failed');
  });

  // Regression: a confirmation gave up after 8 attempts — 30 to 60 minutes of a relay outage — though
  // its link stays valid for 48 hours.
  it('retries a confirmation for as long as its link is valid, then gives it up as failed', async () => {
    const email = await signUp('always-busy');
    const queuedAt = new Date((await onlyDeliveryTo(email)).created_at).getTime();
    h.smtp.failNext(452, '4.2.2 Mailbox full', 1000);
    let attempts = 0;
    for (;;) {
      await h.deliver();
      const row = await onlyDeliveryTo(email);
      attempts++;
      expect(row.attempts).toBe(attempts);
      if (row.status === 'failed') break;
      expect(row.status).toBe('queued');
      // Retrying while the link is valid: the next attempt is due before it expires.
      expect(row.next_attempt_at.getTime()).toBeLessThanOrEqual(queuedAt + 48 * HOUR);
      advancePast(row.next_attempt_at);
    }
    expect(attempts).toBeGreaterThan(MAX_ATTEMPTS);
    h.smtp.clearFailures();
    const row = await onlyDeliveryTo(email);
    expect(row).toMatchObject({ status: 'failed', attempts, lease_until: null });
    expect(row.last_error).toMatch(/452/);
    const sub = await subscriberOf(email);
    expect(await h.query('select 1 from suppressions where email_hash = $1', [sub.email_hash])).toHaveLength(0);

    // No more attempts, and the relay's failure budget is used up exactly: the next mail goes through.
    h.clock.advance(2 * HOUR);
    expect((await h.deliver()).claimed).toBe(0);
    const next = await signUp('after-busy');
    await h.deliver();
    expect(h.smtp.to(next)).toHaveLength(1);
    expect(h.smtp.to(email)).toHaveLength(0);
  });

  it('never sends one row twice when two workers drain concurrently', async () => {
    const emails: string[] = [];
    for (let i = 0; i < 30; i++) emails.push(await signUp(`race${i}`));
    const before = h.smtp.messages.length;

    const reports = await Promise.all([h.deliver(), h.deliver(), h.deliver()]);
    expect(reports.reduce((n, r) => n + r.sent, 0)).toBe(30);
    expect(reports.reduce((n, r) => n + r.claimed, 0)).toBe(30);
    expect(h.smtp.messages.length - before).toBe(30);
    for (const email of emails) {
      expect(h.smtp.to(email)).toHaveLength(1);
      expect(await onlyDeliveryTo(email)).toMatchObject({ status: 'sent', attempts: 1 });
    }
    const messageIds = h.smtp.messages.slice(before).map((m) => m.parsed.messageId);
    expect(new Set(messageIds).size).toBe(30);
  });

  it('takes a crashed worker’s row again once its lease has expired, and sends it once', async () => {
    const email = await signUp('crashed');
    const { id } = await onlyDeliveryTo(email);
    // As if a worker claimed it a while ago and died before settling it.
    await h.query(`update deliveries set status = 'sending', attempts = 1, lease_until = $2 where id = $1`, [
      id,
      new Date(h.clock.now().getTime() - 60_000).toISOString(),
    ]);
    expect(await h.deliver()).toMatchObject({ claimed: 1, sent: 1 });
    expect(h.smtp.to(email)).toHaveLength(1);
    expect(await onlyDeliveryTo(email)).toMatchObject({ status: 'sent', attempts: 2, lease_until: null });
  });

  it('leaves a row alone while another worker’s lease on it is still valid', async () => {
    const email = await signUp('leased');
    const { id } = await onlyDeliveryTo(email);
    const leaseUntil = new Date(h.clock.now().getTime() + 5 * 60_000);
    await h.query(`update deliveries set status = 'sending', attempts = 1, lease_until = $2 where id = $1`, [
      id,
      leaseUntil.toISOString(),
    ]);
    expect((await h.deliver()).claimed).toBe(0);
    expect(h.smtp.to(email)).toHaveLength(0);
    advancePast(leaseUntil);
    expect(await h.deliver()).toMatchObject({ claimed: 1, sent: 1 });
    expect(h.smtp.to(email)).toHaveLength(1);
  });

  it('ignores a late settle from a worker whose lease was taken over', async () => {
    const email = await signUp('late-settle');
    const store = createOutboxStore(h.services.db);
    const jobs = await store.claim(100, 60_000, h.clock.now());
    expect(jobs).toHaveLength(1);
    const stale = jobs[0];
    expect(stale!.id).toBe((await onlyDeliveryTo(email)).id);

    h.clock.advance(61_000);
    expect(await h.deliver()).toMatchObject({ claimed: 1, sent: 1 });
    // The first worker wakes up and tries to settle the row it no longer holds.
    expect(
      await store.markSentMany(
        [{ job: stale!, messageId: '<stale@quire.test>', providerMessageId: null }],
        h.clock.now(),
      ),
    ).toBe(0);
    await store.retryLater(stale!, 'stale worker', new Date(h.clock.now().getTime() + 1000));
    await store.markFailed(stale!, 'stale worker', 'failed');
    const row = await onlyDeliveryTo(email);
    expect(row).toMatchObject({ status: 'sent', attempts: 2, last_error: null });
    expect(row.message_id).not.toBe('<stale@quire.test>');
    expect(h.smtp.to(email)).toHaveLength(1);
  });

  it('puts the Message-ID on the MAIL_FROM domain and records it on the row', async () => {
    const email = await signUp('msgid');
    await h.deliver();
    const mail = lastMailTo(h, email);
    expect(mail.parsed.messageId).toMatch(/^<[^<>@\s]+@quire\.test>$/);
    expect(mail.envelope.from).toMatch(/@quire\.test$/);
    expect((await onlyDeliveryTo(email)).message_id).toBe(mail.parsed.messageId);
  });
});
