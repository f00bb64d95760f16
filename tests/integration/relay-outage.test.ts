import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeliveryLoop } from '../../src/delivery/loop.js';
import type { DeliveryJob, OutboxStore } from '../../src/delivery/outbox-store.js';
import { createPacer } from '../../src/delivery/pacer.js';
import { MailError, sendEach } from '../../src/mail/mailer.js';
import { classifySmtpError as classifyMailError } from '../../src/mail/smtp.js';
import { admin, broadcastState, createTopic, draftBroadcast, seedActiveSubscribers } from '../support/broadcasts.js';
import { createHarness, databaseKinds, type Harness } from '../support/harness.js';

/**
 * Regression (issue 7, chaos `smtp-outage`): a relay that cannot be reached paused the broadcast after
 * BROADCAST_PAUSE_AFTER_ERRORS instant ECONNREFUSED failures, and every row of a batch used up an
 * attempt. Now an unreachable relay is no recipient's error streak: the batch stops at the first such
 * failure, untried rows go back to the queue with their attempt returned, and sending resumes by itself.
 */
describe('classifying a relay that cannot be reached', () => {
  it('marks connect failures, and not replies or a dropped session, as the relay being unavailable', async () => {
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: 1, connectionTimeout: 2000 });
    const refused = await transport
      .sendMail({ from: 'a@example.com', to: 'b@example.com', subject: 's', text: 't' })
      .catch((e: unknown) => e);
    expect(classifyMailError(refused)).toMatchObject({ relayUnavailable: true, permanent: false });
    expect(
      classifyMailError({
        responseCode: 421,
        response: '421 4.7.0 Too many connections',
        code: 'EENVELOPE',
        command: 'CONN',
      }).relayUnavailable,
    ).toBe(false);
    expect(
      classifyMailError({ code: 'ECONNECTION', command: 'CONN', message: 'Connection closed unexpectedly' })
        .relayUnavailable,
    ).toBe(false);
    expect(
      classifyMailError({ code: 'ETIMEDOUT', timeoutType: 'GREETING_TIMEOUT', message: 'Greeting never received' })
        .relayUnavailable,
    ).toBe(true);
  });
});

describe('a delivery loop while the relay is down', () => {
  it('waits between attempts, and new mail does not cut the wait short', async () => {
    let sends = 0;
    const queued = new Set(Array.from({ length: 200 }, (_, i) => `row-${i}`));
    const store: OutboxStore = {
      async claim(limit, leaseMs, now) {
        const ids = [...queued].slice(0, limit);
        for (const id of ids) queued.delete(id);
        return ids.map(
          (id): DeliveryJob => ({
            id,
            kind: 'confirmation',
            subscriberId: null,
            confirmTokenId: null,
            broadcastId: null,
            to: 'x@example.com',
            attempts: 1,
            leaseUntil: new Date(now.getTime() + leaseMs),
            sendKey: null,
            createdAt: now,
          }),
        );
      },
      async markSentMany() {
        return 0;
      },
      async markSkipped() {},
      async retryLater() {},
      async markFailed() {},
      async release(jobs) {
        for (const j of jobs) queued.add(j.id);
      },
      async assignSendKey() {},
      async sendKeyShared() {
        return false;
      },
    };
    const send = async (): Promise<never> => {
      sends++;
      throw new MailError('ESOCKET: connect ECONNREFUSED', false, { relayUnavailable: true });
    };
    const mailer = {
      name: 'refusing',
      maxBatch: 1,
      send,
      sendBatch: (m: Parameters<typeof sendEach>[1]) => sendEach(send, m),
      async close() {},
    };
    const composer = {
      async compose() {
        return {
          message: {
            from: 'a@example.com',
            to: 'x@example.com',
            subject: 's',
            html: '',
            text: '',
            messageId: '<m@example.com>',
            headers: {},
          },
        };
      },
    };
    const loop = createDeliveryLoop(
      store,
      mailer,
      composer,
      { async hardBounce() {} },
      {
        batchSize: 50,
        concurrency: 4,
        leaseMs: 60_000,
        maxAttempts: 8,
        pauseAfterErrors: 25,
        now: () => new Date(),
        pace: createPacer(0),
        idleMs: 100,
      },
    );
    loop.start();
    for (let i = 0; i < 20; i++) {
      loop.wake(); // a signup queued mail
      await new Promise((r) => setTimeout(r, 10));
    }
    await loop.stop();
    // One pass (at most one send per lane) in 200 ms: the 500 ms wait held despite 20 wake-ups.
    expect(sends).toBeGreaterThan(0);
    expect(sends).toBeLessThanOrEqual(4);
    expect(queued.size).toBe(200 - sends);
  });
});

describe.each(databaseKinds)('a broadcast while the SMTP relay is down, on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(kind, {
      DELIVERY_BATCH: '50',
      DELIVERY_CONCURRENCY: '4',
      BROADCAST_PAUSE_AFTER_ERRORS: '25',
    });
  });
  afterAll(() => h?.close());

  it('keeps sending, spends at most one attempt per lane per pass, and delivers each recipient once when it is back', async () => {
    const n = 120;
    const topic = await createTopic(h);
    await seedActiveSubscribers(h, n, { topics: [topic] });
    const { id } = await draftBroadcast(h, { topic });
    await admin(h, `/admin/v1/broadcasts/${id}/send`, { method: 'POST' });

    const port = h.smtp.port;
    await h.smtp.stop();
    try {
      for (let pass = 0; pass < 10; pass++) {
        const report = await h.deliver();
        expect(report.relayUnreachable).toBeGreaterThan(0);
        expect(report.retried).toBeLessThanOrEqual(4);
        expect(report.failed).toBe(0);
        h.clock.advance(60_000);
      }
      const state = await broadcastState(h, id);
      expect(state.status).toBe('sending');
      expect(state.counts).toMatchObject({ sending: 0, sent: 0, failed: 0 });
      const [spent] = await h.query<{ attempts: string }>(
        `select coalesce(sum(attempts), 0) as attempts from deliveries where broadcast_id = $1`,
        [id],
      );
      expect(Number(spent!.attempts)).toBeLessThanOrEqual(10 * 4);
    } finally {
      await h.smtp.start(port);
    }

    h.clock.advance(2 * 3_600_000); // past every backoff
    await h.deliver();
    const done = await broadcastState(h, id);
    expect(done.status).toBe('sent');
    expect(done.counts).toMatchObject({ sent: n, queued: 0, sending: 0, failed: 0 });
    const rows = await h.query<{ id: string }>(`select id from deliveries where broadcast_id = $1`, [id]);
    const copies = rows.map((r) => h.smtp.messages.filter((m) => m.parsed.messageId === `<${r.id}@quire.test>`).length);
    expect(copies.every((c) => c === 1)).toBe(true);
  });

  it('still pauses on a streak of replies from a relay that answers', async () => {
    const topic = await createTopic(h);
    await seedActiveSubscribers(h, 30, { topics: [topic] });
    const { id } = await draftBroadcast(h, { topic });
    await admin(h, `/admin/v1/broadcasts/${id}/send`, { method: 'POST' });
    h.smtp.failNext(451, '4.3.0 Temporary failure', 30);
    await h.deliver();
    expect((await broadcastState(h, id)).status).toBe('paused');
  });
});
