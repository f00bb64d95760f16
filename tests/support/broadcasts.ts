import { templates } from '../../emails/index.js';
import type { Harness } from './harness.js';
import { ADMIN_TOKEN } from './harness.js';

export const admin = (h: Harness, path: string, init: RequestInit = {}) =>
  h.request(path, {
    ...init,
    headers: {
      authorization: `Bearer ${ADMIN_TOKEN}`,
      accept: 'application/json',
      ...(init.body ? { 'content-type': 'application/json' } : {}),
      ...(init.headers as Record<string, string> | undefined),
    },
  });

export interface BroadcastOverrides {
  template?: string;
  topic?: string;
  subject?: string;
  preheader?: string;
  props?: Record<string, unknown>;
}

/** A draft broadcast through the admin API, with the template's own example props by default. */
export async function draftBroadcast(h: Harness, o: BroadcastOverrides = {}): Promise<{ id: string; status: string }> {
  const template = o.template ?? 'update-announcement';
  const res = await admin(h, '/admin/v1/broadcasts', {
    method: 'POST',
    body: JSON.stringify({
      template,
      topic: o.topic ?? 'updates',
      subject: o.subject ?? 'New chapter article: Coaching through tech refinement',
      preheader: o.preheader ?? 'Chapter 21 is up.',
      props: o.props ?? templates[template]!.previewProps,
    }),
  });
  if (res.status !== 201) throw new Error(`create broadcast answered ${res.status}: ${await res.text()}`);
  return res.json();
}

export async function broadcastState(h: Harness, id: string) {
  const res = await admin(h, `/admin/v1/broadcasts/${id}`);
  return (await res.json()) as {
    status: string;
    statusReason: string | null;
    audienceCount: number | null;
    counts: Record<string, number>;
  };
}

/**
 * Active subscribers made fast, straight in the database (the lifecycle itself is tested elsewhere):
 * `n` rows subscribed to the given topics.
 */
export async function seedActiveSubscribers(
  h: Harness,
  n: number,
  opts: { topics?: string[]; prefix?: string } = {},
): Promise<string[]> {
  const prefix = opts.prefix ?? `seed${Date.now().toString(36)}`;
  const topics = opts.topics ?? ['release', 'updates'];
  const rows = await h.query<{ id: string }>(
    `insert into subscribers (email, email_hash, name, status, confirmed_at)
     select '${prefix}.' || g || '@example.com', md5('${prefix}' || g), 'Reader ' || g, 'active', now()
       from generate_series(1, $1::int) g
     returning id`,
    [n],
  );
  for (const topic of topics) {
    await h.query(
      `insert into subscriptions (subscriber_id, topic, subscribed) select id, $1, true from subscribers where email like $2`,
      [topic, `${prefix}.%`],
    );
  }
  return rows.map((r) => r.id);
}

let topicSeq = 0;
/** A topic of the test's own, so broadcasts in one harness never share an audience. */
export async function createTopic(h: Harness): Promise<string> {
  const slug = `t${Date.now().toString(36)}${topicSeq++}`;
  await h.query(`insert into topics (slug, name, description, default_on) values ($1, $2, 'Test topic', false)`, [
    slug,
    `Topic ${slug}`,
  ]);
  return slug;
}

/**
 * Send a broadcast through the admin API and wait until its audience is frozen: the send answers 202 while
 * the freeze runs beside it (`freezing`), so a test that looks at the audience waits for it first.
 */
export async function sendBroadcast(h: Harness, id: string, init: RequestInit = {}): Promise<Response> {
  const res = await admin(h, `/admin/v1/broadcasts/${id}/send`, { method: 'POST', ...init });
  await frozen(h, id);
  return res;
}

/** Wait until a broadcast is no longer `freezing`. */
export async function frozen(h: Harness, id: string): Promise<void> {
  for (let i = 0; (await broadcastState(h, id)).status === 'freezing'; i++) {
    if (i > 1000) throw new Error(`broadcast ${id} still freezing`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The subscribers frozen into a broadcast: those still waiting in its audience and those already in the outbox. */
export async function frozenAudience(h: Harness, id: string): Promise<string[]> {
  await frozen(h, id);
  const rows = await h.query<{ subscriber_id: string }>(
    `select unnest(subscriber_ids) as subscriber_id from broadcast_audience where broadcast_id = $1
     union all
     select subscriber_id from deliveries where broadcast_id = $1 and kind = 'broadcast'`,
    [id],
  );
  return rows.map((r) => r.subscriber_id);
}
