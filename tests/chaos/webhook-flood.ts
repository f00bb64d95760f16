/**
 * Faults 6: a flood of provider webhooks. 10,000 posts (quick: 500) to a running quire, 32 at a time:
 * Postmark bounce, complaint and delivery records (HTTP Basic) and Resend events signed the Svix way,
 * one event per delivery, a fifth of the posts redeliveries of an earlier event — half of them sent right
 * behind the original, so the two race, half later. Each event must be applied exactly once: one
 * provider_events row per distinct event, and the suppressions, subscriber statuses, bounce records and
 * ledger events of exactly the events that call for them; every answer a 200.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { PrivateCluster } from './support/cluster.js';
import { openCore, seedAudience } from './support/db.js';
import { timedFetch } from './support/load.js';
import { adminCall, QuireProcess } from './support/quire.js';
import { Checks, percentile, type Row, type ScenarioResult } from './support/util.js';

const POSTMARK_AUTH = 'chaos-postmark-hook:7c1e9a3b5d2f4e6a';
const RESEND_SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const CONCURRENCY = 32;
/** Kinds by event number mod 10: four hard bounces, two complaints, three deliveries, one soft bounce. */
const KINDS = ['hard', 'hard', 'hard', 'hard', 'complaint', 'complaint', 'delivered', 'delivered', 'delivered', 'soft'];
type Kind = 'hard' | 'complaint' | 'delivered' | 'soft';

interface Event {
  provider: 'postmark' | 'resend';
  kind: Kind;
  path: string;
  body: string;
  svixId: string;
}

/** Svix's signature (docs.svix.com, verifying manually): base64 HMAC-SHA256 of `id.timestamp.body`. */
const svixSignature = (id: string, t: number, body: string) =>
  `v1,${createHmac('sha256', Buffer.from(RESEND_SECRET.slice('whsec_'.length), 'base64'))
    .update(`${id}.${t}.${body}`)
    .digest('base64')}`;

/** Event `i` about one delivery, shaped as the providers' webhook pages show them. */
function eventFor(i: number, d: { to: string; providerMessageId: string }): Event {
  const kind = KINDS[i % KINDS.length] as Kind;
  const at = '2026-11-25T11:59:00Z';
  if (i % 2 === 0) {
    const bounce = (type: string, code: number) => ({
      RecordType: kind === 'complaint' ? 'SpamComplaint' : 'Bounce',
      ID: 4_000_000 + i,
      Type: type,
      TypeCode: code,
      Name: type,
      MessageID: d.providerMessageId,
      Email: d.to,
      From: 'updates@news.quire.test',
      BouncedAt: at,
      Details: kind === 'soft' ? 'smtp;452 4.2.2 Mailbox full' : 'smtp;550 5.1.1 The email account does not exist.',
      Inactive: kind !== 'soft',
      CanActivate: true,
      MessageStream: 'broadcast',
    });
    const record =
      kind === 'delivered'
        ? { RecordType: 'Delivery', MessageID: d.providerMessageId, Recipient: d.to, DeliveredAt: at, Details: 'OK' }
        : kind === 'hard'
          ? bounce('HardBounce', 1)
          : kind === 'soft'
            ? bounce('SoftBounce', 4096)
            : bounce('SpamComplaint', 512);
    return { provider: 'postmark', kind, path: '/webhooks/postmark', body: JSON.stringify(record), svixId: '' };
  }
  const type = {
    hard: 'email.bounced',
    soft: 'email.bounced',
    complaint: 'email.complained',
    delivered: 'email.delivered',
  };
  const data: Record<string, unknown> = {
    created_at: at,
    email_id: d.providerMessageId,
    from: 'updates@news.quire.test',
    to: [d.to],
    subject: 'Coaching through tech refinement (Chapter 21)',
  };
  if (kind === 'hard') data.bounce = { type: 'Permanent', subType: 'General', message: 'Hard bounce.' };
  if (kind === 'soft') data.bounce = { type: 'Transient', subType: 'MailboxFull', message: 'Mailbox full.' };
  const body = JSON.stringify({ type: type[kind], created_at: at, data });
  return {
    provider: 'resend',
    kind,
    path: '/webhooks/resend',
    body,
    svixId: `msg_chaos_${i}_${randomBytes(6).toString('hex')}`,
  };
}

export async function webhookFlood(
  cluster: PrivateCluster,
  opts: { quick: boolean; random: () => number },
): Promise<ScenarioResult> {
  const started = performance.now();
  const posts = opts.quick ? 500 : 10_000;
  const distinct = Math.round(posts * 0.8);
  const checks = new Checks();
  const rows: Row[] = [];
  const notes: string[] = [];

  const url = await cluster.createDatabase('chaos_webhooks');
  const core = await openCore(url);
  let api: QuireProcess | undefined;
  try {
    // One sent delivery per subscriber, as the engine leaves it after the provider took the message.
    const topic = await seedAudience(core.sql, distinct, 'hook');
    const [broadcast] = await core.sql<{ id: string }[]>`
      insert into broadcasts (template, topic, subject, props, status)
      values ('update-announcement', ${topic}, 'Chapter 21', '{}'::jsonb, 'sent') returning id`;
    const targets = await core.sql<{ to: string; providerMessageId: string }[]>`
      insert into deliveries (kind, broadcast_id, subscriber_id, "to", status, attempts, message_id, provider_message_id, sent_at)
      select 'broadcast', ${broadcast!.id}, s.id, s.email, 'sent', 1, '<' || gen_random_uuid() || '@news.quire.test>',
             'pm-' || gen_random_uuid(), now()
        from subscribers s where s.email like 'hook.%'
      returning "to", provider_message_id as "providerMessageId"`;
    const events = targets.map((d, i) => eventFor(i, d));

    // The order of posts: every event once, and a fifth more that repeat one — half right behind it.
    const order = events.map((_, i) => i);
    const repeats = posts - distinct;
    for (let r = 0; r < repeats; r++) {
      const original = Math.floor(opts.random() * distinct);
      const at = order.indexOf(original);
      const place = r % 2 === 0 ? at + 1 : at + 1 + Math.floor(opts.random() * (order.length - at));
      order.splice(place, 0, original);
    }

    api = await QuireProcess.start({
      databaseUrl: url,
      smtpUrl: 'smtp://127.0.0.1:9',
      env: { POSTMARK_WEBHOOK_AUTH: POSTMARK_AUTH, RESEND_WEBHOOK_SECRET: RESEND_SECRET },
      label: 'webhooks-api',
    });
    const base = api.url;
    const answers: { status: number; ms: number; body: string; kind: Kind }[] = [];
    let next = 0;
    const floodStart = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < order.length) {
          const e = events[order[next++]!]!;
          const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
          if (e.provider === 'postmark')
            headers.authorization = `Basic ${Buffer.from(POSTMARK_AUTH).toString('base64')}`;
          else {
            // Svix signs each attempt afresh; the id stays.
            const t = Math.floor(Date.now() / 1000);
            Object.assign(headers, {
              'svix-id': e.svixId,
              'svix-timestamp': String(t),
              'svix-signature': svixSignature(e.svixId, t, e.body),
            });
          }
          const r = await timedFetch(`${base}${e.path}`, { method: 'POST', headers, body: e.body }, 30_000);
          answers.push({ status: r.status, ms: r.ms, body: r.body, kind: e.kind });
        }
      }),
    );
    const seconds = (performance.now() - floodStart) / 1000;

    const expected = { hard: 0, complaint: 0, delivered: 0, soft: 0 };
    for (const e of events) expected[e.kind]++;
    const suppressing = expected.hard + expected.complaint;
    const statuses = new Map<number, number>();
    for (const a of answers) statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
    const ok = answers.filter((a) => a.status === 200);
    const sum = (key: string) => ok.reduce((s, a) => s + ((JSON.parse(a.body) as Record<string, number>)[key] ?? 0), 0);
    const applied = sum('received') - sum('duplicates');
    const [db] = await core.sql<Record<string, number>[]>`
      select (select count(*)::int from provider_events) as events,
             (select count(*)::int from provider_events where outcome = 'suppressed') as suppressed,
             (select count(*)::int from provider_events where outcome = 'delivered') as delivered,
             (select count(*)::int from provider_events where outcome = 'recorded') as recorded,
             (select count(*)::int from provider_events where outcome not in ('suppressed', 'delivered', 'recorded')) as other,
             (select count(*)::int from suppressions where reason = 'hard_bounce') as hard,
             (select count(*)::int from suppressions where reason = 'complaint') as complaint,
             (select count(*)::int from subscribers where status = 'bounced') as bounced,
             (select count(*)::int from subscribers where status = 'complained') as complained,
             (select count(*)::int from bounce_events) as bounces,
             (select count(*)::int from (select 1 from bounce_events group by delivery_id having count(*) > 1) x) as twice,
             (select count(*)::int from consent_events where kind = 'suppressed') as ledger,
             (select count(*)::int from (select 1 from consent_events where kind = 'suppressed' group by subscriber_id having count(*) > 1) x) as ledger_twice,
             (select count(*)::int from deliveries where status = 'bounced') as delivery_bounced`;
    const chain = await adminCall<{ ok: boolean; events: number }>(base, '/admin/v1/consent/verify');
    const ms = answers.map((a) => a.ms);
    const alive = api.child.exitCode === null && api.child.signalCode === null;
    const errors = api.errors().length;

    const rows5xx = answers.filter((a) => a.status >= 500 || a.status === 0).length;
    const table: [string, string | number, string?, boolean?][] = [
      [
        'posts',
        `${posts.toLocaleString('en')}: ${distinct.toLocaleString('en')} distinct events + ${repeats.toLocaleString('en')} redeliveries (half right behind the original)`,
      ],
      [
        'events',
        `${expected.hard} hard bounces, ${expected.complaint} complaints, ${expected.delivered} deliveries, ${expected.soft} soft bounces; Postmark and Resend alike`,
      ],
      ['throughput', `${(posts / seconds).toFixed(0)} events/s (${seconds.toFixed(1)} s, ${CONCURRENCY} in flight)`],
      [
        'latency p50 / p95 / p99 / max',
        `${[50, 95, 99].map((p) => percentile(ms, p).toFixed(0)).join(' / ')} / ${Math.max(...ms).toFixed(0)} ms`,
      ],
      ['answers', [...statuses].map(([s, c]) => `${c}×${s || 'none'}`).join(', '), `${posts}×200`, ok.length === posts],
      ['answers 5xx or none', rows5xx, '0', rows5xx === 0],
      [
        'applied (received − duplicates, over all answers) / duplicates',
        `${applied} / ${sum('duplicates')}`,
        `${distinct} / ${repeats}`,
        applied === distinct && sum('duplicates') === repeats,
      ],
      ['provider_events rows', db!.events!, String(distinct), db!.events === distinct],
      [
        '… suppressed / delivered / recorded (soft) / other',
        `${db!.suppressed} / ${db!.delivered} / ${db!.recorded} / ${db!.other}`,
        `${suppressing} / ${expected.delivered} / ${expected.soft} / 0`,
        db!.suppressed === suppressing &&
          db!.delivered === expected.delivered &&
          db!.recorded === expected.soft &&
          db!.other === 0,
      ],
      [
        'suppressions: hard bounce / complaint',
        `${db!.hard} / ${db!.complaint}`,
        `${expected.hard} / ${expected.complaint}`,
        db!.hard === expected.hard && db!.complaint === expected.complaint,
      ],
      [
        'subscribers bounced / complained',
        `${db!.bounced} / ${db!.complained}`,
        `${expected.hard} / ${expected.complaint}`,
        db!.bounced === expected.hard && db!.complained === expected.complaint,
      ],
      ['deliveries marked bounced', db!.delivery_bounced!, String(suppressing), db!.delivery_bounced === suppressing],
      [
        'bounce records / deliveries with two',
        `${db!.bounces} / ${db!.twice}`,
        `${expected.hard + expected.complaint + expected.soft} / 0`,
        db!.bounces === expected.hard + expected.complaint + expected.soft && db!.twice === 0,
      ],
      [
        'ledger "suppressed" events / subscribers with two',
        `${db!.ledger} / ${db!.ledger_twice}`,
        `${suppressing} / 0`,
        db!.ledger === suppressing && db!.ledger_twice === 0,
      ],
      ['consent ledger hash chain', chain.ok ? `intact (${chain.events} events)` : 'broken', 'intact', chain.ok],
      ['quire process alive, errors logged', `${alive ? 'yes' : 'no'}, ${errors}`, 'yes, 0', alive && errors === 0],
    ];
    for (const [figure, value, expect, good] of table) {
      rows.push({
        figure,
        value,
        ...(expect ? { expected: expect } : {}),
        ...(good === undefined ? {} : { ok: good }),
      });
      if (good !== undefined) checks.ok(good, `${figure}: ${value} (expected ${expect})`);
    }
    notes.push(
      `quire: one production process (\`node --import tsx src/runtime/node/main.ts\`, HTTP + delivery loop) with POSTMARK_WEBHOOK_AUTH and RESEND_WEBHOOK_SECRET; private PostgreSQL 15. Each event names its own sent delivery (one subscriber each) by the provider's message id.`,
      'Postmark records carry HTTP Basic credentials; Resend events are signed with the endpoint secret (svix-id, svix-timestamp, svix-signature), a redelivery signed afresh under the same svix-id, as Svix does.',
    );
  } catch (err) {
    checks.ok(false, `scenario aborted: ${(err as Error).message}`);
  } finally {
    await api?.kill('SIGKILL');
    await core.close();
  }
  return {
    name: 'webhook-flood',
    title: `A flood of ${posts.toLocaleString('en')} signed provider webhooks, a fifth of them redeliveries`,
    rows,
    notes,
    failures: checks.failures,
    seconds: (performance.now() - started) / 1000,
  };
}
