/**
 * Faults 3: PostgreSQL stops (`pg_ctl stop -m immediate`, a crash: no checkpoint, every backend killed)
 * for ~10 s in the middle of a signup load, then starts again. The private cluster is the only one
 * stopped; the machine's shared server is never touched.
 *
 * Every answer must be 202, 429 or 503 in the error envelope — never a 500, never slower than
 * DB_TIMEOUT_MS plus a margin; `/readyz` must say 503 while the database is down and 200 after; the
 * same quire process must recover by itself; and no signup may be half-written: every subscriber row has
 * its `requested` ledger event, its confirm token and its confirmation outbox row (checked by SQL).
 */

import type { PrivateCluster } from './support/cluster.js';
import { messageIdOf, openCore } from './support/db.js';
import { envelopeProblem, randomIp, runLoad, type Sample, signupInit, timedFetch } from './support/load.js';
import { adminCall, QuireProcess } from './support/quire.js';
import { Sink } from './support/sink.js';
import { Checks, percentile, type Row, type ScenarioResult, sleep, waitFor } from './support/util.js';

const DB_TIMEOUT_MS = 3000;
const MARGIN_MS = 2000;
const DOMAIN = 'pg-outage.example';
/** LIKE pattern for every address this run signs up. */
const DOMAIN_LIKE = `%@${DOMAIN}`;

export async function pgOutage(
  cluster: PrivateCluster,
  opts: { quick: boolean; random: () => number },
): Promise<ScenarioResult> {
  const started = performance.now();
  const checks = new Checks();
  const rows: Row[] = [];
  const notes: string[] = [];
  const before = opts.quick ? 5_000 : 10_000;
  const outage = 10_000;
  const after = opts.quick ? 8_000 : 15_000;
  const users = 16;

  const url = await cluster.createDatabase('chaos_pg');
  const sink = await Sink.start();
  let api: QuireProcess | undefined;
  try {
    api = await QuireProcess.start({
      databaseUrl: url,
      smtpUrl: sink.url,
      env: { DB_TIMEOUT_MS: String(DB_TIMEOUT_MS), RATE_LIMIT_IP: '20', RATE_LIMIT_ADDRESS: '3', DELIVERY_RATE: '500' },
      label: 'pg-outage-api',
    });
    const pid = api.pid;
    const base = api.url;

    // Phases by wall clock, so each sample can be placed before, during or after the outage.
    let downAt = Infinity;
    let upAt = Infinity;
    let readyAgainAt = Infinity;
    const phase = (t: number) => (t < downAt ? 'before' : t < upAt ? 'during' : 'after');

    const ready: { at: number; status: number; ms: number }[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const r = await timedFetch(
          `${base}/readyz`,
          { headers: { accept: 'application/json' } },
          DB_TIMEOUT_MS + MARGIN_MS + 2000,
        );
        ready.push({ at: Date.now(), status: r.status, ms: r.ms });
        if (r.status === 200 && Date.now() > upAt && readyAgainAt === Infinity) readyAgainAt = Date.now();
        await sleep(250);
      }
    })();

    // Most signups come from many addresses; one in 20 from a single busy IP, which soon gets 429s.
    const emails: { email: string; status: number }[] = [];
    const load = runLoad(users, async (user, i) => {
      const email = `u${user}.${i}.${Math.floor(opts.random() * 1e9)}@${DOMAIN}`;
      const ip = i % 20 === 0 ? '203.0.113.99' : randomIp(opts.random);
      const at = Date.now();
      const r = await timedFetch(`${base}/v1/subscriptions`, signupInit(email, ip), DB_TIMEOUT_MS + MARGIN_MS + 5000);
      const sample: Sample = { kind: phase(at), at, ms: r.ms, status: r.status };
      if (r.status === 0) sample.problem = `no answer (${r.error})`;
      else if (![202, 429, 503].includes(r.status)) sample.problem = `status ${r.status}`;
      else if (r.status !== 202) {
        const p = envelopeProblem(r.body);
        if (p) sample.problem = p;
        else if (r.status === 503 && !r.body.includes('"service_unavailable"'))
          sample.problem = '503 without service_unavailable';
        else if (r.status === 503 && !r.body.includes('Something went wrong on our side'))
          sample.problem = "503 without the site's message";
        else if (r.status === 429 && !r.headers.get('retry-after')) sample.problem = '429 without Retry-After';
      }
      if (r.ms > DB_TIMEOUT_MS + MARGIN_MS) sample.problem ??= `took ${Math.round(r.ms)} ms`;
      if (sample.problem) sample.detail = r.body.slice(0, 200);
      load.samples.push(sample);
      emails.push({ email, status: r.status });
      if (r.status === 503) await sleep(100); // a browser user does not retry in a tight loop
    });

    await sleep(before);
    downAt = Date.now();
    cluster.stopImmediate();
    console.log(`  PostgreSQL stopped (-m immediate) after ${before / 1000} s of signups`);
    await sleep(outage);
    await cluster.start();
    upAt = Date.now();
    console.log(`  PostgreSQL started again after ${((upAt - downAt) / 1000).toFixed(1)} s`);
    await waitFor('/readyz to answer 200 again', () => readyAgainAt !== Infinity, 60_000, 100).catch(() => {});
    await sleep(after);
    await load.stop();
    polling = false;
    await poller;

    // Let the in-process delivery loop send what was queued, then look at the database. Rows the loop had
    // claimed when the database died keep their five-minute lease (it could not settle them): expire it by
    // SQL, as waiting would, and count what that costs at the sink.
    const core = await openCore(url);
    try {
      await waitFor(
        'queued confirmations to be sent',
        async () => {
          const [r] = await core.sql<
            { open: number }[]
          >`select count(*)::int as open from deliveries where status = 'queued' and kind = 'confirmation'`;
          return (r?.open ?? 1) === 0;
        },
        120_000,
        500,
      ).catch(() => {});
      const stranded = await core.sql<{ id: string }[]>`
        update deliveries set lease_until = now() - interval '1 second'
         where status = 'sending' and kind = 'confirmation' and lease_until < ${new Date(upAt + 5 * 60_000).toISOString()}::timestamptz
        returning id`;
      await waitFor(
        'every confirmation to be sent',
        async () => {
          const [r] = await core.sql<
            { open: number }[]
          >`select count(*)::int as open from deliveries where status in ('queued', 'sending') and kind = 'confirmation'`;
          return (r?.open ?? 1) === 0;
        },
        120_000,
        500,
      ).catch(() => {});
      await sleep(500);
      const confirmationIds = (
        await core.sql<{ id: string }[]>`select id from deliveries where kind = 'confirmation'`
      ).map((r) => r.id);
      const copies = await sink.counts();
      const confirmLost = confirmationIds.filter((id) => !copies.has(messageIdOf(id))).length;
      const confirmDuplicates = confirmationIds.reduce(
        (s, id) => s + Math.max(0, (copies.get(messageIdOf(id)) ?? 0) - 1),
        0,
      );
      const [half] = await core.sql<
        {
          subscribers: number;
          no_event: number;
          no_token: number;
          no_outbox: number;
          token_without_outbox: number;
          event_without_subscriber: number;
          unsent: number;
        }[]
      >`
        select count(*)::int as subscribers,
               count(*) filter (where not exists (select 1 from consent_events e where e.subscriber_id = s.id and e.kind = 'requested'))::int as no_event,
               count(*) filter (where not exists (select 1 from confirm_tokens t where t.subscriber_id = s.id))::int as no_token,
               count(*) filter (where not exists (select 1 from deliveries d where d.subscriber_id = s.id and d.kind = 'confirmation'))::int as no_outbox,
               (select count(*)::int from confirm_tokens t where not exists (select 1 from deliveries d where d.confirm_token_id = t.id)) as token_without_outbox,
               (select count(*)::int from consent_events e where e.kind = 'requested' and not exists (select 1 from subscribers x where x.id = e.subscriber_id)) as event_without_subscriber,
               (select count(*)::int from deliveries d where d.kind = 'confirmation' and d.status <> 'sent') as unsent
          from subscribers s where s.email like ${DOMAIN_LIKE}`;
      const stored = new Set(
        (await core.sql<{ email: string }[]>`select email from subscribers where email like ${DOMAIN_LIKE}`).map(
          (r) => r.email,
        ),
      );
      const acceptedMissing = emails.filter((e) => e.status === 202 && !stored.has(e.email)).length;
      const ledger = await adminCall<{ ok: boolean; events: number }>(base, '/admin/v1/consent/verify');

      const samples = load.samples.filter((s) => s.kind !== 'driver');
      const by = (k: string) => samples.filter((s) => s.kind === k);
      const count = (list: Sample[], status: number) => list.filter((s) => s.status === status).length;
      const problems = load.samples.filter((s) => s.problem);
      const maxMs = Math.max(...samples.map((s) => s.ms));
      const during = by('during');
      const afterSamples = by('after').filter((s) => s.at > readyAgainAt + 1000);
      const afterBad = afterSamples.filter((s) => s.status !== 202 && s.status !== 429).length;
      const readyDuring = ready.filter((r) => r.at > downAt + 500 && r.at < upAt);
      const readyBad = readyDuring.filter((r) => r.status !== 503).length;
      const readyAfter = ready.filter((r) => r.at > readyAgainAt);
      const readyAfterBad = readyAfter.filter((r) => r.status !== 200).length;
      const recoverySeconds = (readyAgainAt - upAt) / 1000;
      const serverErrors = api.errors().filter((e) => e.msg === 'request failed' && e.status !== 503);
      const alive = api.child.exitCode === null && api.pid === pid;

      const statusMix = (list: Sample[]) =>
        `${list.length} requests: ${count(list, 202)}×202, ${count(list, 429)}×429, ${count(list, 503)}×503${list.length - count(list, 202) - count(list, 429) - count(list, 503) ? `, ${list.length - count(list, 202) - count(list, 429) - count(list, 503)} other` : ''}`;
      rows.push(
        {
          figure: 'load',
          value: `${users} concurrent clients, ${(samples.length / ((performance.now() - started) / 1000)).toFixed(0)} req/s average`,
        },
        {
          figure: 'PostgreSQL down (pg_ctl stop -m immediate → start)',
          value: `${((upAt - downAt) / 1000).toFixed(1)} s`,
        },
        { figure: 'before the outage', value: statusMix(by('before')) },
        {
          figure: 'during the outage',
          value: statusMix(during),
          expected: 'only 503 (and 429)',
          ok: during.every((s) => [202, 429, 503].includes(s.status)),
        },
        { figure: 'after the restart', value: statusMix(by('after')) },
        {
          figure: 'answers other than 202/429/503, or not in the envelope',
          value: problems.length,
          expected: '0',
          ok: problems.length === 0,
        },
        {
          figure: 'slowest answer',
          value: `${Math.round(maxMs)} ms`,
          expected: `≤ DB_TIMEOUT_MS + ${MARGIN_MS} = ${DB_TIMEOUT_MS + MARGIN_MS} ms`,
          ok: maxMs <= DB_TIMEOUT_MS + MARGIN_MS,
        },
        {
          figure: 'p99 during the outage',
          value: `${Math.round(
            percentile(
              during.map((s) => s.ms),
              99,
            ),
          )} ms`,
        },
        {
          figure: '/readyz while down',
          value: `${readyDuring.length - readyBad} of ${readyDuring.length} polls 503`,
          expected: 'all 503',
          ok: readyDuring.length > 0 && readyBad === 0,
        },
        {
          figure: '/readyz 200 again after PostgreSQL started',
          value: Number.isFinite(recoverySeconds) ? `${recoverySeconds.toFixed(1)} s` : 'never',
          expected: 'by itself',
          ok: Number.isFinite(recoverySeconds) && readyAfterBad === 0,
        },
        {
          figure: 'signups after recovery (+1 s) not 202/429',
          value: `${afterBad} of ${afterSamples.length}`,
          expected: '0',
          ok: afterSamples.length > 0 && afterBad === 0,
        },
        {
          figure: 'same quire process throughout',
          value: alive ? `yes (pid ${pid})` : 'no',
          expected: 'yes',
          ok: alive,
        },
        { figure: 'subscribers stored', value: half?.subscribers ?? 0 },
        {
          figure: 'half-written: without requested event / confirm token / outbox row',
          value: `${half?.no_event} / ${half?.no_token} / ${half?.no_outbox}`,
          expected: '0 / 0 / 0',
          ok: half?.no_event === 0 && half?.no_token === 0 && half?.no_outbox === 0,
        },
        {
          figure: 'tokens without outbox row, ledger events without subscriber',
          value: `${half?.token_without_outbox} / ${half?.event_without_subscriber}`,
          expected: '0 / 0',
          ok: half?.token_without_outbox === 0 && half?.event_without_subscriber === 0,
        },
        {
          figure: '202 answers whose subscriber is not stored',
          value: acceptedMissing,
          expected: '0',
          ok: acceptedMissing === 0,
        },
        {
          figure: 'consent ledger hash chain',
          value: ledger.ok ? `intact (${ledger.events} events)` : 'broken',
          expected: 'intact',
          ok: ledger.ok,
        },
        {
          figure: 'confirmation rows left claimed (lease) when the database died',
          value: stranded.length,
          expected: '≤ DELIVERY_BATCH (50)',
          ok: stranded.length <= 50,
        },
        {
          figure: 'confirmations lost / sent twice (after those leases ran out)',
          value: `${confirmLost} / ${confirmDuplicates}`,
          expected: `0 / ≤ ${stranded.length}`,
          ok: confirmLost === 0 && confirmDuplicates <= stranded.length && half?.unsent === 0,
        },
        {
          figure: 'requests logged as failed with a status other than 503',
          value: serverErrors.length,
          expected: '0',
          ok: serverErrors.length === 0,
        },
      );
      for (const r of rows) if (r.ok === false) checks.ok(false, `${r.figure}: ${r.value} (expected ${r.expected})`);
      const kinds = new Map<string, number>();
      for (const p of problems)
        kinds.set(
          `${p.problem}${p.detail ? ` — ${p.detail}` : ''}`,
          (kinds.get(`${p.problem}${p.detail ? ` — ${p.detail}` : ''}`) ?? 0) + 1,
        );
      for (const [k, n] of kinds) notes.push(`${n}× ${k}`);
      notes.push(
        `quire: \`NODE_ENV=production node --import tsx src/runtime/node/main.ts\` (HTTP + delivery loop), DB_TIMEOUT_MS=${DB_TIMEOUT_MS}, RATE_LIMIT_IP=20; one client in 20 shares one IP (its 429s are expected).`,
        'PostgreSQL: a private cluster (initdb + pg_ctl as the postgres user in a temporary directory); `-m immediate` kills every backend without a checkpoint, so the restart runs crash recovery.',
        'The delivery loop in the same process keeps sending confirmations through the outage; a batch it had claimed when the database died cannot be settled, so its rows wait for their five-minute lease (expired here by SQL) and the ones already handed to SMTP go out a second time — the same bound as a killed worker.',
      );
    } finally {
      await core.close();
    }
  } catch (err) {
    checks.ok(false, `scenario aborted: ${(err as Error).message}`);
  } finally {
    await api?.kill('SIGKILL');
    await sink.close();
  }
  return {
    name: 'pg-outage',
    title: 'PostgreSQL stopped for 10 s during a signup load',
    rows,
    notes,
    failures: checks.failures,
    seconds: (performance.now() - started) / 1000,
  };
}
