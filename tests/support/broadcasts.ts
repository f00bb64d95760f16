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
