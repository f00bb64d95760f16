import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  admin,
  broadcastState,
  createTopic,
  draftBroadcast,
  frozenAudience,
  seedActiveSubscribers,
  sendBroadcast,
} from '../support/broadcasts.js';
import { activeSubscriber, pathOf, postSignup, uniqueEmail } from '../support/factories.js';
import { createHarness, databaseKinds, type Harness } from '../support/harness.js';

describe.each(databaseKinds)('broadcasts on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(kind);
  });
  afterAll(() => h?.close());

  it('lists broadcast templates with a props JSON Schema and example props', async () => {
    const res = await admin(h, '/admin/v1/templates');
    const list = (await res.json()) as {
      name: string;
      propsSchema: { type: string; properties: object };
      exampleProps: object;
    }[];
    expect(list.map((t) => t.name).sort()).toEqual(['release-announcement', 'update-announcement']);
    for (const t of list) {
      expect(t.propsSchema.type).toBe('object');
      expect(Object.keys(t.propsSchema.properties).length).toBeGreaterThan(0);
      expect(t.exampleProps).toBeTruthy();
    }
  });

  it('creates a draft, and refuses props that fail the template schema with field errors', async () => {
    const draft = await draftBroadcast(h);
    expect(draft.status).toBe('draft');
    const bad = await admin(h, '/admin/v1/broadcasts', {
      method: 'POST',
      body: JSON.stringify({
        template: 'release-announcement',
        topic: 'release',
        subject: 'Out now',
        props: { title: 'x', coverImageUrl: 'http://insecure.example/c.png' },
      }),
    });
    expect(bad.status).toBe(422);
    const body = await bad.json();
    expect(body.error.code).toBe('validation_failed');
    expect(body.error.fields.map((f: { path: string }) => f.path)).toEqual(
      expect.arrayContaining(['props.coverImageUrl', 'props.coverAlt']),
    );
    const unknown = await admin(h, '/admin/v1/broadcasts', {
      method: 'POST',
      body: JSON.stringify({ template: 'nope', topic: 'release', subject: 's', props: {} }),
    });
    expect(unknown.status).toBe(422);
    const crlf = await admin(h, '/admin/v1/broadcasts', {
      method: 'POST',
      body: JSON.stringify({
        template: 'update-announcement',
        topic: 'updates',
        subject: 'Hi\r\nBcc: victim@example.com',
        props: {},
      }),
    });
    expect(crlf.status).toBe(422);
  });

  it('previews as HTML and text with example recipient values', async () => {
    const draft = await draftBroadcast(h);
    const html = await (await admin(h, `/admin/v1/broadcasts/${draft.id}/preview?format=html`)).text();
    expect(html).toContain('Coaching through tech refinement (Chapter 21)');
    expect(html).toContain('Hi Ada,');
    const text = await (await admin(h, `/admin/v1/broadcasts/${draft.id}/preview?format=text`)).text();
    expect(text).toContain('Read the article →');
    expect(text).toContain('/unsubscribe/preview-token');
  });

  it('sends test messages marked as tests to given addresses only', async () => {
    const draft = await draftBroadcast(h);
    const res = await admin(h, `/admin/v1/broadcasts/${draft.id}/test`, {
      method: 'POST',
      body: JSON.stringify({ to: ['author@example.com'] }),
    });
    expect(res.status).toBe(202);
    await h.deliver();
    const mail = h.smtp.to('author@example.com').at(-1)!;
    expect(mail.parsed.subject).toMatch(/^\[Test\] /);
    expect((await broadcastState(h, draft.id)).status).toBe('draft');
    const bad = await admin(h, `/admin/v1/broadcasts/${draft.id}/test`, {
      method: 'POST',
      body: JSON.stringify({ to: ['not-an-address'] }),
    });
    expect(bad.status).toBe(422);
  });
});

describe.each(databaseKinds)('broadcast audience on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(kind);
  });
  afterAll(() => h?.close());

  it('counts and freezes exactly the active, subscribed, unsuppressed subscribers', async () => {
    const inTopic = [
      await activeSubscriber(h),
      await activeSubscriber(h),
      await activeSubscriber(h, { topics: ['updates'] }),
    ];
    const releaseOnly = await activeSubscriber(h, { topics: ['release'] });
    await postSignup(h, { email: uniqueEmail('pending') });
    const unsubscribed = await activeSubscriber(h);
    await h.request(pathOf(unsubscribed.unsubscribeUrl), {
      method: 'POST',
      body: 'List-Unsubscribe=One-Click',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    const suppressed = await activeSubscriber(h);
    await h.query(
      `insert into suppressions (email_hash, reason) select email_hash, 'manual' from subscribers where id = $1`,
      [suppressed.id],
    );

    const draft = await draftBroadcast(h, { topic: 'updates' });
    const audience = await (await admin(h, `/admin/v1/broadcasts/${draft.id}/audience`)).json();
    expect(audience).toEqual({ audience: 3, excluded: { pending: 1, unsubscribed: 1, suppressed: 1, notInTopic: 1 } });

    const sent = await admin(h, `/admin/v1/broadcasts/${draft.id}/send`, { method: 'POST' });
    expect(sent.status).toBe(202);
    const again = await admin(h, `/admin/v1/broadcasts/${draft.id}/send`, { method: 'POST' }); // a double click
    expect(again.status).toBe(202);
    expect((await sent.json()).status).toBe('freezing'); // the audience is written after the answer
    const frozen = await frozenAudience(h, draft.id);
    expect([...frozen].sort()).toEqual(inTopic.map((s) => s.id).sort());
    expect(frozen).not.toContain(releaseOnly.id);
    expect((await broadcastState(h, draft.id)).audienceCount).toBe(3);

    await h.deliver();
    const state = await broadcastState(h, draft.id);
    expect(state.status).toBe('sent');
    expect(state.counts).toMatchObject({ sent: 3, queued: 0, sending: 0 });
    for (const s of inTopic)
      expect(h.smtp.to(s.email).filter((m) => m.parsed.subject?.startsWith('New chapter'))).toHaveLength(1);
  });
});

describe.each(databaseKinds)('broadcast delivery on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(kind, { DELIVERY_BATCH: '10', BROADCAST_PAUSE_AFTER_ERRORS: '5' });
  });
  afterAll(() => h?.close());

  const sendTo = async (n: number) => {
    const topic = await createTopic(h);
    const ids = await seedActiveSubscribers(h, n, { topics: [topic] });
    const draft = await draftBroadcast(h, { topic });
    await sendBroadcast(h, draft.id);
    return { ids, id: draft.id, topic };
  };
  /** For each frozen recipient, how many messages of this broadcast reached the SMTP server. */
  const mailsPerRecipient = async (broadcastId: string) => {
    const rows = await h.query<{ to: string; id: string }>(
      `select "to", id from deliveries where broadcast_id = $1 and kind = 'broadcast'`,
      [broadcastId],
    );
    return rows.map((r) => h.smtp.messages.filter((m) => m.parsed.messageId === `<${r.id}@quire.test>`).length);
  };

  it('carries RFC 8058 headers, a Message-ID on our domain and the unsubscribe link in both parts', async () => {
    const { id } = await sendTo(1);
    await h.deliver();
    const [row] = await h.query<{ to: string; message_id: string }>(
      `select "to", message_id from deliveries where broadcast_id = $1`,
      [id],
    );
    const mail = h.smtp.to(row!.to).at(-1)!;
    const header = (name: string) =>
      mail.parsed.headerLines
        .find((l) => l.key === name)
        ?.line.replace(/^[^:]+:\s*/, '')
        .replace(/\r?\n\s+/g, ' ');
    const lu = header('list-unsubscribe')!;
    expect(lu).toMatch(
      /^<http:\/\/quire\.test\/unsubscribe\/[A-Za-z0-9_-]+>, <mailto:unsubscribe@quire\.test\?subject=unsubscribe%20[A-Za-z0-9_-]+>$/,
    );
    expect(header('list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
    expect(mail.parsed.messageId).toBe(row!.message_id);
    expect(row!.message_id).toMatch(/@quire\.test>$/);
    const unsubscribeUrl = /<(http[^>]+)>/.exec(lu)![1]!;
    expect(mail.parsed.html).toContain(unsubscribeUrl);
    expect(mail.parsed.text).toContain(unsubscribeUrl);
    expect(mail.parsed.text).toContain('Quire Test Press');
    expect(mail.parsed.html).toContain('Quire Test Press');
    // The link works: one click unsubscribes.
    const res = await h.request(pathOf(unsubscribeUrl), {
      method: 'POST',
      body: 'List-Unsubscribe=One-Click',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.status).toBe(200);
  });

  it('sends each recipient exactly one message across pause and resume', async () => {
    const { id } = await sendTo(25);
    // One batch goes out, then the author pauses.
    await admin(h, `/admin/v1/broadcasts/${id}/pause`, { method: 'POST' });
    expect((await h.deliver()).claimed).toBe(0);
    expect((await broadcastState(h, id)).status).toBe('paused');
    await admin(h, `/admin/v1/broadcasts/${id}/resume`, { method: 'POST' });
    await h.deliver();
    expect((await broadcastState(h, id)).status).toBe('sent');
    expect(await mailsPerRecipient(id)).toEqual(Array(25).fill(1));
  });

  // Regression: concurrent batches in one worker shared a recipient map and skipped each other's rows.
  it('two concurrent workers never send one row twice', async () => {
    const { id } = await sendTo(40);
    await Promise.all([h.deliver(), h.deliver()]);
    const rows = await h.query(
      `select status, attempts, last_error from deliveries where broadcast_id = $1 and status <> 'sent'`,
      [id],
    );
    expect(rows).toEqual([]);
    expect(await mailsPerRecipient(id)).toEqual(Array(40).fill(1));
    expect((await broadcastState(h, id)).status).toBe('sent');
  });

  it('gives nothing to a subscriber who unsubscribes after the send began', async () => {
    const { ids, id } = await sendTo(3);
    await h.query(`update subscribers set status = 'unsubscribed' where id = $1`, [ids[0]]);
    await h.deliver();
    const state = await broadcastState(h, id);
    expect(state.counts).toMatchObject({ sent: 2, skipped: 1 });
    expect(state.status).toBe('sent');
  });

  it('retries a 4xx reply later and delivers once', async () => {
    const { id } = await sendTo(1);
    h.smtp.failNext(451, '4.3.0 Try again later');
    const first = await h.deliver();
    expect(first.retried).toBe(1);
    expect((await broadcastState(h, id)).status).toBe('sending'); // not sent while a row is queued
    h.clock.advance(3_600_000);
    await h.deliver();
    expect((await broadcastState(h, id)).status).toBe('sent');
    expect(await mailsPerRecipient(id)).toEqual([1]);
  });

  it('turns 5.1.1 into a hard bounce and suppression, and 5.7.1 into a plain failure', async () => {
    const { ids, id } = await sendTo(2);
    h.smtp.failNext(550, '5.1.1 No such user');
    h.smtp.failNext(554, '5.7.1 Message rejected');
    await h.deliver();
    const state = await broadcastState(h, id);
    expect(state.counts).toMatchObject({ bounced: 1, failed: 1 });
    expect(state.status).toBe('sent');
    const statuses = await h.query<{ status: string }>(
      `select status from subscribers where id = any($1::uuid[]) order by status`,
      [ids],
    );
    expect(statuses.map((s) => s.status)).toEqual(['active', 'bounced']);
    const suppressions = await h.query(
      `select x.reason from suppressions x join subscribers s on s.email_hash = x.email_hash where s.id = any($1::uuid[])`,
      [ids],
    );
    expect(suppressions).toEqual([{ reason: 'hard_bounce' }]);
    const retried = await (await admin(h, `/admin/v1/broadcasts/${id}/retry-failed`, { method: 'POST' })).json();
    expect(retried.requeued).toBe(1);
    await h.deliver();
    expect((await broadcastState(h, id)).counts).toMatchObject({ sent: 1, bounced: 1, failed: 0 });
  });

  it('shows rows waiting out a relay fault as retrying, with when the next is due', async () => {
    const { id } = await sendTo(3);
    h.smtp.failNext(451, '4.3.0 Temporary local problem', 3);
    await h.deliver();
    const { counts } = await broadcastState(h, id);
    expect(counts).toMatchObject({ queued: 3, retrying: 3, sent: 0, failed: 0 });
    const next = (counts as Record<string, unknown>).nextAttemptAt as string;
    expect(new Date(next).getTime()).toBeGreaterThan(h.clock.now().getTime());
    h.clock.advance(2 * 3_600_000);
    await h.deliver();
    expect((await broadcastState(h, id)).counts).toMatchObject({ sent: 3, retrying: 0, nextAttemptAt: null });
  });

  it('pauses a broadcast after a streak of send errors', async () => {
    const { id } = await sendTo(8);
    h.smtp.failNext(451, '4.3.0 Temporary local problem', 8);
    await h.deliver();
    const state = await broadcastState(h, id);
    expect(state.status).toBe('paused');
    expect(state.statusReason).toMatch(/consecutive send errors/);
  });

  it('cancels: queued rows are skipped and nothing more is sent', async () => {
    const { id } = await sendTo(5);
    await admin(h, `/admin/v1/broadcasts/${id}/cancel`, { method: 'POST' });
    await h.deliver();
    const state = await broadcastState(h, id);
    expect(state.status).toBe('cancelled');
    expect(state.counts).toMatchObject({ skipped: 5, sent: 0 });
    const again = await admin(h, `/admin/v1/broadcasts/${id}/send`, { method: 'POST' });
    expect(again.status).toBe(409);
  });

  it('starts a scheduled send when due, and holds one whose time passed long ago', async () => {
    const topic = await createTopic(h);
    await seedActiveSubscribers(h, 2, { topics: [topic] });
    const due = await draftBroadcast(h, { topic });
    const at = new Date(h.clock.now().getTime() + 60_000).toISOString();
    const scheduled = await (
      await admin(h, `/admin/v1/broadcasts/${due.id}/send`, { method: 'POST', body: JSON.stringify({ at }) })
    ).json();
    expect(scheduled.status).toBe('scheduled');
    await h.deliver();
    expect((await broadcastState(h, due.id)).status).toBe('scheduled');
    h.clock.advance(61_000);
    await h.deliver();
    expect((await broadcastState(h, due.id)).status).toBe('sent');

    const late = await draftBroadcast(h, { topic });
    await admin(h, `/admin/v1/broadcasts/${late.id}/send`, {
      method: 'POST',
      body: JSON.stringify({ at: new Date(h.clock.now().getTime() + 60_000).toISOString() }),
    });
    h.clock.advance(3 * 3_600_000); // the system was down past the grace period
    await h.deliver();
    const held = await broadcastState(h, late.id);
    expect(held.status).toBe('paused');
    expect(held.statusReason).toMatch(/missed its scheduled time/);
    expect(held.counts.sent).toBe(0);
    await admin(h, `/admin/v1/broadcasts/${late.id}/resume`, { method: 'POST' });
    await h.deliver();
    expect((await broadcastState(h, late.id)).status).toBe('sent');
  });
});
