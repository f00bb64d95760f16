/**
 * The floor of the stack for the signup benchmark: what an author would write by hand with the same
 * libraries — Hono on @hono/node-server, postgres.js (default pool of 10), one transaction that writes
 * the rows quire writes for a new signup (subscriber, confirmation token, outbox row, consent event)
 * into the same migrated schema. No validation library, no rate limits, no ledger sealer, no logging,
 * no delivery loop. `DATABASE_URL=… PORT=… node --import tsx bench/support/bare-signup.ts`
 */

import { createHash, createHmac, randomBytes } from 'node:crypto';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import postgres from 'postgres';

const sql = postgres(process.env.DATABASE_URL!, { onnotice: () => {} });
const KEY = 'bench-bare-key';
const TOPICS = ['release', 'updates'];
const sha256 = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

const app = new Hono();
app.get('/readyz', async (c) => {
  await sql`select 1`;
  return c.json({ status: 'ready' });
});
app.post('/v1/subscriptions', async (c) => {
  const body = (await c.req.json()) as { email?: unknown; consent?: unknown; source?: unknown };
  const email = typeof body.email === 'string' ? body.email.trim().toLowerCase() : '';
  if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email) || body.consent !== true) return c.json({ error: 'invalid' }, 422);
  const source = typeof body.source === 'string' ? body.source : null;
  const emailHash = createHmac('sha256', KEY).update(email).digest('hex');
  const now = new Date();
  await sql.begin(async (tx) => {
    const [s] = await tx`insert into subscribers (email, email_hash, status, source, created_at, status_changed_at)
      values (${email}, ${emailHash}, 'pending', ${source}, ${now}, ${now}) on conflict do nothing returning id`;
    if (!s) return;
    const [t] =
      await tx`insert into confirm_tokens (token_hash, subscriber_id, topics, consent_text_version, source, created_at, expires_at)
      values (${sha256(randomBytes(32))}, ${s.id}, ${tx.json(TOPICS)}, 1, ${source}, ${now}, ${new Date(now.getTime() + 48 * 3600_000)}) returning id`;
    await tx`insert into deliveries (kind, subscriber_id, confirm_token_id, status, next_attempt_at, created_at)
      values ('confirmation', ${s.id}, ${t!.id}, 'queued', ${now}, ${now})`;
    // Unsealed, as quire writes it (its sealer chains events after the commit).
    await tx`insert into consent_events (subscriber_id, email_hash, kind, consent_text_version, topics, source, occurred_at)
      values (${s.id}, ${emailHash}, 'requested', 1, ${tx.json(TOPICS)}, ${source}, ${now})`;
  });
  return c.json({ status: 'pending' }, 202);
});

const server = serve({ fetch: app.fetch, port: Number(process.env.PORT), hostname: '127.0.0.1' });
process.on('SIGTERM', () => server.close(() => void sql.end({ timeout: 2 }).then(() => process.exit(0))));
