/**
 * The author's console overview at scale: 1,000,000 subscribers (quick: 100,000) seeded as the scale
 * benchmark seeds them, with the consent ledger they would have written (a signup request each, a
 * confirmation for everyone confirmed, an unsubscribe for everyone who left) sealed into its chain, and
 * a launch sent to 900,000 the day before, settled in the outbox. All of it falls inside the overview's ninety days: the
 * worst case for the growth chart, which counts every event in its window.
 *
 * Measured: GET /admin as a signed-in author's browser asks for it — the first load (which counts),
 * then the loads after it — against the same figures counted in the benchmark's own process straight
 * from core/stats.ts (no HTTP, no page), and against a plain `count(*)` of the list.
 * `npm run bench -- console [--quick]`
 */
import { loadavg } from 'node:os';
import postgres from 'postgres';
import { templates } from '../emails/index.js';
import { DEFAULT_CONSENT_TEXT } from '../src/config.js';
import { sha256Hex } from '../src/core/crypto.js';
import { growth, ledgerState, overview, recentBroadcasts } from '../src/core/stats.js';
import { subscriberStats } from '../src/core/subscribers.js';
import { connectPostgres } from '../src/db/client.js';
import { benchDatabase } from './support/postgres.js';
import type { BenchResult, BenchRow } from './support/report.js';
import { seedList } from './support/seed.js';
import { BENCH_ADMIN_TOKEN, median, percentile, startQuire, timed } from './support/server.js';
import { startSinkProcess } from './support/sink.js';

const ORIGIN = 'https://news.bench.example'; // the bench server's PUBLIC_URL
const LOADS = 60;
const SEAL_BATCH = 20_000;

/** The ledger a list like seedList's would have written, in one INSERT, then sealed as the server seals. */
async function seedLedger(url: string): Promise<number> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    // Version 1 as the server would record it at its first start (the same wording, so the same version).
    await sql`insert into consent_texts (version, text, sha256) values (1, ${DEFAULT_CONSENT_TEXT}, ${sha256Hex(DEFAULT_CONSENT_TEXT)})`;
    await sql.unsafe(`
      insert into consent_events (subscriber_id, email_hash, kind, consent_text_version, topics, source, occurred_at)
      select id, email_hash, kind, version, topics, source, at from (
        select id, email_hash, 'requested' as kind, 1 as version, '["release","updates"]'::jsonb as topics, 'seed' as source, created_at as at from subscribers
        union all
        select id, email_hash, 'confirmed', 1, '["release","updates"]'::jsonb, 'seed', confirmed_at + interval '3 minutes' from subscribers where confirmed_at is not null
        union all
        select id, email_hash, 'unsubscribed', null, '[]'::jsonb, 'seed', created_at + interval '2 days' from subscribers where status = 'unsubscribed'
      ) e order by at`);
    let sealed = 0;
    for (;;) {
      const [row] = await sql<{ n: number }[]>`select consent_events_seal(true, ${SEAL_BATCH}) as n`;
      sealed += row!.n;
      if (row!.n < SEAL_BATCH) break;
    }
    await sql.unsafe('vacuum analyze consent_events');
    return sealed;
  } finally {
    await sql.end();
  }
}

/**
 * A launch sent the day before to everyone active on `release`: its outbox rows, settled (a few bounced
 * or failed), are what the overview's broadcast figures count.
 */
async function seedSentBroadcast(url: string): Promise<number> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const t = templates['release-announcement']!;
    const [b] = await sql<{ id: string }[]>`
      insert into broadcasts (template, topic, subject, props, status, created_at, updated_at)
      values (${t.name}, 'release', 'The book is out', ${sql.json(t.previewProps as never)}, 'draft', now() - interval '1 day', now())
      returning id`;
    const [row] = await sql<{ n: number }[]>`
      with sent as (
        insert into deliveries (kind, broadcast_id, subscriber_id, "to", status, attempts, created_at, sent_at)
        select 'broadcast', ${b!.id}, s.id, s.email,
               case when hashtext(s.id::text) % 100 = 0 then 'bounced' when hashtext(s.id::text) % 250 = 1 then 'failed' else 'sent' end,
               1, now() - interval '1 day', now() - interval '23 hours'
          from subscribers s join subscriptions t on t.subscriber_id = s.id and t.topic = 'release' and t.subscribed
         where s.status = 'active'
        returning 1)
      select count(*)::integer as n from sent`;
    await sql`update broadcasts set status = 'sent', audience_frozen_at = now() - interval '1 day',
      audience_count = ${row!.n}, completed_at = now() - interval '20 hours' where id = ${b!.id}`;
    await sql.unsafe('vacuum analyze deliveries');
    return row!.n;
  } finally {
    await sql.end();
  }
}

/** Sign in as the author's browser does: the form's cookie and token, then the admin token once. */
async function signIn(base: string): Promise<string> {
  const form = await fetch(`${base}/admin/login`);
  const login = form.headers
    .getSetCookie()
    .find((c) => c.startsWith('quire_console_login='))!
    .split(';')[0]!;
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())![1]!;
  const res = await fetch(`${base}/admin/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: ORIGIN, cookie: login },
    body: new URLSearchParams({ _csrf: csrf, token: BENCH_ADMIN_TOKEN, next: '/admin' }).toString(),
  });
  const session = res.headers.getSetCookie().find((c) => c.startsWith('quire_console='));
  if (res.status !== 303 || !session) throw new Error(`sign-in answered ${res.status}`);
  return session.split(';')[0]!;
}

export async function benchConsole(quick: boolean): Promise<BenchResult> {
  const n = quick ? 100_000 : 1_000_000;
  const db = await benchDatabase('console');
  const sink = await startSinkProcess();
  const sql = postgres(db.url, { max: 1, onnotice: () => {} });
  const notes: string[] = [];
  try {
    const seeded = await timed(() => seedList(db.url, n));
    const ledger = await timed(() => seedLedger(db.url));
    const server = await startQuire({
      databaseUrl: db.url,
      smtpUrl: sink.url,
      env: { DELIVERY_RATE: '1', LOG_LEVEL: 'warn' },
    });
    try {
      const base = server.url;
      const outbox = await seedSentBroadcast(db.url);
      const machine = { before: loadavg()[0]!.toFixed(1), after: '' };
      const cookie = await signIn(base);
      const load = async () => {
        const res = await fetch(`${base}/admin`, { headers: { cookie } });
        const html = await res.text();
        if (res.status !== 200) throw new Error(`GET /admin answered ${res.status}`);
        return html;
      };
      const first = await timed(load);
      const counted = /Counted (?:just now, in|at [^:]+:\d+ UTC: on a list this size counting takes) ([\d,]+) ms/.exec(
        first.value,
      );
      const loads: number[] = [];
      for (let i = 0; i < LOADS; i++) loads.push((await timed(load)).ms);

      // The same figures counted in this process, straight from core, three times; and count(*).
      const direct = await connectPostgres({ url: db.url, timeoutMs: 120_000, max: 10 });
      const core: number[] = [];
      const parts: [string, number][] = [];
      try {
        for (let i = 0; i < 3; i++) core.push((await timed(() => overview(direct.db, new Date()))).ms);
        // Each part on its own (in the overview they run side by side), to say where the time goes.
        parts.push(['people by status and by topic', (await timed(() => subscriberStats(direct.db))).ms]);
        parts.push([
          'growth and confirmations over ninety days',
          (await timed(() => growth(direct.db, new Date()))).ms,
        ]);
        parts.push([
          'the last broadcasts and their delivery figures',
          (await timed(() => recentBroadcasts(direct.db))).ms,
        ]);
        parts.push([
          'the ledger: head, pending, newest links re-hashed',
          (await timed(() => ledgerState(direct.db))).ms,
        ]);
      } finally {
        await direct.close();
      }
      const count: number[] = [];
      for (let i = 0; i < 3; i++) count.push((await timed(() => sql`select count(*) from subscribers`)).ms);
      machine.after = loadavg()[0]!.toFixed(1);
      const events = Number((await sql`select count(*) as n from consent_events`)[0]!.n);

      const slowest = parts.reduce((a, b) => (b[1] > a[1] ? b : a));
      const p95 = percentile(loads, 95);
      const rows: BenchRow[] = [
        {
          figure: `GET /admin (the overview) at ${n.toLocaleString('en')} subscribers, p95 of ${LOADS} loads after the first`,
          value: p95,
          unit: 'ms',
          target: '< 500 ms',
          met: p95 < 500,
          headline: true,
        },
        { figure: '… p50', value: percentile(loads, 50), unit: 'ms' },
        { figure: 'GET /admin, the first load (counts every figure)', value: first.ms, unit: 'ms' },
        {
          figure: '… of which counting, as the page reports it',
          value: Number(counted?.[1]?.replace(/,/g, '') ?? Number.NaN),
          unit: 'ms',
        },
        {
          figure: 'baseline: the same figures counted in-process from core/stats.ts, median of 3',
          value: median(core),
          unit: 'ms',
        },
        ...parts.map(([what, ms]) => ({ figure: `… ${what}, alone`, value: ms, unit: 'ms' })),
        { figure: 'baseline: select count(*) from subscribers, median of 3', value: median(count), unit: 'ms' },
        { figure: 'ratio first load / count(*)', value: first.ms / median(count), unit: '×' },
      ];
      notes.push(
        `${n.toLocaleString('en')} subscribers seeded in ${(seeded.ms / 1000).toFixed(0)} s as the scale benchmark seeds them; ${events.toLocaleString('en')} consent events written and sealed into the chain in ${(ledger.ms / 1000).toFixed(0)} s, every one inside the ninety days the chart covers; a launch sent the day before to ${outbox.toLocaleString('en')}, its outbox rows settled. Load average of the machine (other engineers' work included) ${machine.before} at the start of the measurements, ${machine.after} at their end. The server in production mode on the same PostgreSQL; one request at a time.`,
        'Counting is exact and takes seconds at this size, so a count that took longer than a quarter second is kept for a minute (src/core/stats-cache.ts) and the page says when it was made: the loads after the first read the kept figures. Smaller lists are counted on every load.',
        `The largest part of a count is ${slowest[0]} (${Math.round(slowest[1]).toLocaleString('en')} ms alone; the parts run side by side in the overview). Running totals kept by triggers would make the first load as cheap as the later ones, at the cost of a counter update in every signup's transaction; not done.`,
      );
      return { name: 'console', rows, notes };
    } finally {
      await server.stop();
    }
  } finally {
    await sql.end();
    await sink.stop();
    await db.drop();
  }
}
