import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, createTopic, draftBroadcast, seedActiveSubscribers } from '../support/broadcasts.js';
import { createHarness, databaseKinds, type Harness } from '../support/harness.js';

const privateKey = generateKeyPairSync('rsa', { modulusLength: 2048 })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();

describe.each(databaseKinds)('DKIM and VERP on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(kind, {
      DKIM_DOMAIN: 'quire.test',
      DKIM_SELECTOR: 'news2026',
      // As it arrives from an environment variable: one line with \n escapes.
      DKIM_PRIVATE_KEY: privateKey.replace(/\n/g, '\\n'),
      BOUNCE_ADDRESS: 'bounces@quire.test',
    });
  });
  afterAll(() => h?.close());

  it('signs broadcasts over List-Unsubscribe and List-Unsubscribe-Post (RFC 8058 §4) and uses a per-recipient return path', async () => {
    const topic = await createTopic(h);
    await seedActiveSubscribers(h, 1, { topics: [topic] });
    const draft = await draftBroadcast(h, { topic });
    await admin(h, `/admin/v1/broadcasts/${draft.id}/send`, { method: 'POST' });
    await h.deliver();
    const [row] = await h.query<{ id: string; to: string }>(`select id, "to" from deliveries where broadcast_id = $1`, [
      draft.id,
    ]);
    const mail = h.smtp.to(row!.to).at(-1)!;
    const signature = mail.parsed.headerLines.find((l) => l.key === 'dkim-signature')!.line.replace(/\r?\n\s+/g, ' ');
    expect(signature).toMatch(/d=quire\.test/);
    expect(signature).toMatch(/s=news2026/);
    const signed = /\bh=([^;]+)/.exec(signature)![1]!.replace(/\s/g, '').toLowerCase().split(':');
    expect(signed).toEqual(
      expect.arrayContaining(['from', 'to', 'subject', 'message-id', 'list-unsubscribe', 'list-unsubscribe-post']),
    );
    expect(mail.envelope.from).toBe(`bounces+${row!.id}@quire.test`);
  });

  it('signs transactional mail too', async () => {
    const res = await h.request('/v1/subscriptions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'dkim.reader@example.com', consent: true }),
    });
    expect(res.status).toBe(202);
    await h.deliver();
    const mail = h.smtp.to('dkim.reader@example.com').at(-1)!;
    expect(mail.parsed.headerLines.some((l) => l.key === 'dkim-signature')).toBe(true);
  });
});
