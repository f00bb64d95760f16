import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostmarkStandIn } from '../stand-ins/postmark.js';
import { startResendStandIn } from '../stand-ins/resend.js';
import type { StandIn } from '../stand-ins/support.js';
import { admin, broadcastState, createTopic, draftBroadcast, seedActiveSubscribers } from '../support/broadcasts.js';
import { createHarness, type Harness, TEST_SECRET } from '../support/harness.js';

/**
 * A delivery worker SIGKILLed mid-broadcast while sending through an HTTP provider loses nothing; with
 * Resend, whose batch requests are deduplicated by the key the outbox keeps on their rows, it also
 * duplicates nothing. PostgreSQL only: PGlite belongs to one process.
 */
const RECIPIENTS = 600;
const BATCH = 50;

interface Case {
  name: string;
  start: () => Promise<StandIn<unknown>>;
  dsn: (s: StandIn<unknown>) => string;
  /** Duplicates allowed after recovery. */
  maxDuplicates: number;
}

const cases: Case[] = [
  {
    name: 'Resend (idempotent batches)',
    start: () => startResendStandIn({ apiKey: 're_crash_test_key', delayMs: 40 }) as Promise<StandIn<unknown>>,
    dsn: (s) => `resend+api://re_crash_test_key@${new URL(s.url).host}`,
    maxDuplicates: 0,
  },
  {
    name: 'Postmark (no idempotency: at most the batch in flight)',
    start: () =>
      startPostmarkStandIn({ serverToken: 'postmark-crash-token', delayMs: 40 }) as Promise<StandIn<unknown>>,
    dsn: (s) => `postmark+api://postmark-crash-token@${new URL(s.url).host}?message_stream=broadcast`,
    maxDuplicates: BATCH,
  },
];

describe.runIf(process.env.TEST_DATABASE_URL).each(cases)('a worker killed mid-broadcast through $name', (c) => {
  let h: Harness;
  let standIn: StandIn<unknown>;
  beforeAll(async () => {
    standIn = await c.start();
    h = await createHarness('postgres', { MAIL_DSN: c.dsn(standIn), SMTP_URL: '', DELIVERY_BATCH: String(BATCH) });
  });
  afterAll(async () => {
    await h?.close();
    await standIn?.close();
  });

  it('loses no recipient, and repeats no more than the transport allows', async () => {
    const topic = await createTopic(h);
    await seedActiveSubscribers(h, RECIPIENTS, { topics: [topic] });
    const draft = await draftBroadcast(h, { topic });
    await admin(h, `/admin/v1/broadcasts/${draft.id}/send`, { method: 'POST' });

    const env = {
      ...process.env,
      NODE_ENV: 'test',
      DATABASE_URL: h.databaseUrl!,
      MAIL_DSN: c.dsn(standIn),
      SMTP_URL: '',
      SECRET_KEY: TEST_SECRET,
      PUBLIC_URL: h.config.PUBLIC_URL,
      MAIL_FROM: h.config.MAIL_FROM,
      POSTAL_ADDRESS: h.config.POSTAL_ADDRESS,
      DELIVERY_BATCH: String(BATCH),
      DELIVERY_RATE: '100000',
      LOG_LEVEL: 'silent',
    };
    const worker = spawn(process.execPath, ['--import', 'tsx', 'src/runtime/node/main.ts', '--worker'], {
      env,
      stdio: 'ignore',
    });
    const exited = new Promise((resolve) => worker.on('exit', resolve));
    const deadline = Date.now() + 60_000;
    while (standIn.messages.length < RECIPIENTS / 3 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 5));
    worker.kill('SIGKILL');
    await exited;
    const atKill = standIn.messages.length;
    expect(atKill).toBeGreaterThan(0);
    expect(atKill).toBeLessThan(RECIPIENTS);

    // The dead worker's leases run out (five minutes on the real clock); the next worker takes over.
    h.clock.advance(Date.now() + 10 * 60_000 - h.clock.now().getTime());
    await h.deliver();

    const state = await broadcastState(h, draft.id);
    expect(state.status).toBe('sent');
    expect(state.counts).toMatchObject({ sent: RECIPIENTS, queued: 0, sending: 0, failed: 0 });
    const counts = standIn.countByRecipient();
    const recipients = await h.query<{ to: string }>(`select "to" from deliveries where broadcast_id = $1`, [draft.id]);
    const perRecipient = recipients.map((r) => counts.get(r.to.toLowerCase()) ?? 0);
    expect(perRecipient.filter((n) => n === 0)).toHaveLength(0); // nobody lost
    const duplicates = perRecipient.reduce((sum, n) => sum + n - 1, 0);
    expect(duplicates).toBeLessThanOrEqual(c.maxDuplicates);
    console.info(`${c.name}: worker killed after ${atKill} messages; duplicates after recovery: ${duplicates}`);
  });
});
