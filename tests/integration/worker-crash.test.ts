import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, broadcastState, createTopic, draftBroadcast, seedActiveSubscribers } from '../support/broadcasts.js';
import { createHarness, type Harness, TEST_SECRET } from '../support/harness.js';

/**
 * A delivery worker killed with SIGKILL in the middle of a broadcast loses nothing: its claimed rows
 * come back when their lease expires, and another worker sends them. Duplicates are bounded by the
 * messages in flight at the kill. PostgreSQL only: PGlite belongs to one process.
 */
const RECIPIENTS = 1500;
const BATCH = 25;

describe.runIf(process.env.TEST_DATABASE_URL)('a delivery worker killed mid-broadcast (PostgreSQL)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness('postgres', { DELIVERY_BATCH: String(BATCH) });
  });
  afterAll(() => h?.close());

  it('loses no recipient and duplicates at most the batch in flight', async () => {
    const topic = await createTopic(h);
    await seedActiveSubscribers(h, RECIPIENTS, { topics: [topic] });
    const draft = await draftBroadcast(h, { topic });
    await admin(h, `/admin/v1/broadcasts/${draft.id}/send`, { method: 'POST' });

    const env = {
      ...process.env,
      NODE_ENV: 'test',
      DATABASE_URL: h.databaseUrl!,
      SMTP_URL: h.smtp.url,
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
    while (h.smtp.messages.length < RECIPIENTS / 3 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    worker.kill('SIGKILL');
    await exited;
    const atKill = h.smtp.messages.length;
    expect(atKill).toBeGreaterThan(0);
    expect(atKill).toBeLessThan(RECIPIENTS);

    // The dead worker's leases run out (five minutes on the real clock); the next worker takes over.
    h.clock.advance(Date.now() + 10 * 60_000 - h.clock.now().getTime());
    await h.deliver();

    const state = await broadcastState(h, draft.id);
    expect(state.status).toBe('sent');
    expect(state.counts).toMatchObject({ sent: RECIPIENTS, queued: 0, sending: 0, failed: 0 });
    const rows = await h.query<{ id: string }>(`select id from deliveries where broadcast_id = $1`, [draft.id]);
    const perRecipient = rows.map(
      (r) => h.smtp.messages.filter((m) => m.parsed.messageId === `<${r.id}@quire.test>`).length,
    );
    expect(perRecipient.filter((n) => n === 0)).toHaveLength(0); // nobody lost
    const duplicates = perRecipient.reduce((sum, n) => sum + n - 1, 0);
    expect(duplicates).toBeLessThanOrEqual(BATCH);
    console.info(`worker killed after ${atKill} messages; duplicates after recovery: ${duplicates}`);
  });
});
