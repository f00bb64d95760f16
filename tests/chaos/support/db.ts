/** The scenarios' own connection to the database under test: seeding, starting broadcasts, counting. */
import type { Sql } from 'postgres';
import { templates } from '../../../emails/index.js';
import { parseConfig } from '../../../src/config.js';
import { createBroadcast, deliveryCounts, getBroadcastRow, sendBroadcast } from '../../../src/core/broadcasts.js';
import type { CoreDeps } from '../../../src/core/deps.js';
import { connectPostgres } from '../../../src/db/client.js';
import { MAIL_DOMAIN, SECRET } from './quire.js';

export interface CoreHandle {
  deps: CoreDeps;
  sql: Sql;
  close(): Promise<void>;
}

export async function openCore(url: string): Promise<CoreHandle> {
  const database = await connectPostgres({ url, max: 4, timeoutMs: 30_000 });
  const config = parseConfig({
    NODE_ENV: 'test',
    DATABASE_URL: url,
    SECRET_KEY: SECRET,
    MAIL_FROM: `How Teams Think Before They Build <updates@${MAIL_DOMAIN}>`,
    LOG_LEVEL: 'silent',
  });
  const deps: CoreDeps = { db: database.db, config, secret: SECRET, now: () => new Date() };
  return { deps, sql: database.sql, close: () => database.close() };
}

/** `n` active subscribers on a topic of their own, made by generate_series (the lifecycle is tested elsewhere). */
export async function seedAudience(sql: Sql, n: number, label: string): Promise<string> {
  const topic = `chaos_${label}`;
  await sql.unsafe(
    `insert into topics (slug, name, description, default_on) values ($1, $2, 'chaos test topic', false) on conflict do nothing`,
    [topic, `Chaos ${label}`],
  );
  await sql.unsafe(
    `insert into subscribers (email, email_hash, name, status, confirmed_at)
     select '${label}.' || g || '@example.com', md5('${label}' || g), 'Reader ' || g, 'active', now()
       from generate_series(1, $1::int) g`,
    [n],
  );
  await sql.unsafe(
    `insert into subscriptions (subscriber_id, topic, subscribed)
     select id, $1, true from subscribers where email like $2`,
    [topic, `${label}.%`],
  );
  await sql.unsafe('analyze');
  return topic;
}

/** Draft and send a broadcast to `topic`: the audience is frozen into the outbox, status `sending`. */
export async function startBroadcast(core: CoreHandle, topic: string): Promise<{ id: string; audience: number }> {
  const t = templates['update-announcement']!;
  const b = await createBroadcast(core.deps, {
    template: t.name,
    topic,
    subject: 'Coaching through tech refinement (Chapter 21)',
    preheader: 'Chapter 21 is up.',
    props: t.previewProps,
  });
  const sent = await sendBroadcast(core.deps, b.id);
  return { id: b.id, audience: sent.audienceCount ?? 0 };
}

export async function broadcastStatus(core: CoreHandle, id: string) {
  const b = await getBroadcastRow(core.deps.db, id);
  return { status: b.status, reason: b.statusReason, counts: await deliveryCounts(core.deps.db, id) };
}

/** Delivery ids of a broadcast with the Message-ID each one carries at the sink. */
export async function deliveryIds(
  sql: Sql,
  broadcastId: string,
): Promise<{ id: string; status: string; messageId: string | null }[]> {
  const rows = await sql<{ id: string; status: string; message_id: string | null }[]>`
    select id, status, message_id from deliveries where broadcast_id = ${broadcastId} and kind = 'broadcast'`;
  return rows.map((r) => ({ id: r.id, status: r.status, messageId: r.message_id }));
}

export const messageIdOf = (deliveryId: string) => `<${deliveryId}@${MAIL_DOMAIN}>`;
