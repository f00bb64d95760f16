/**
 * `npm run test:soak [-- --minutes N] [--users N] [--audience N]` (5 minutes by default)
 *
 * A bounded soak against Node + PostgreSQL: one production quire process (HTTP and its delivery loop) on a
 * private PostgreSQL cluster, an SMTP sink in its own process, and N virtual readers who sign up, follow
 * the confirmation link from the mail at the sink, change their topics with the preferences link from the
 * welcome mail, and unsubscribe with one click — while a broadcast to a seeded audience sends, paced to
 * last the run. Reports throughput, latency percentiles, errors (anything but 2xx and 429) and the server's
 * RSS over time (VmRSS from /proc/<pid>/status), writes the figures to docs/reliability.md, and exits
 * non-zero on any error or when RSS keeps growing.
 */
import { parseArgs } from 'node:util';
import { startPrivateCluster } from './support/cluster.js';
import { broadcastStatus, deliveryIds, messageIdOf, openCore, seedAudience, startBroadcast } from './support/db.js';
import { randomIp, runLoad, type Sample, signupInit, timedFetch } from './support/load.js';
import { logDir, QuireProcess, removeLogs } from './support/quire.js';
import { printResult, writeSection } from './support/report.js';
import { Sink } from './support/sink.js';
import { Checks, percentile, type Row, rssMiB, seededRandom, sleep } from './support/util.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '5' },
    users: { type: 'string', default: '16' },
    audience: { type: 'string' },
    rate: { type: 'string', default: '250' },
    seed: { type: 'string' },
    'no-report': { type: 'boolean', default: false },
  },
});
const minutes = Number(values.minutes);
const users = Number(values.users);
// The delivery loop sends at most DELIVERY_RATE messages a second, confirmations and welcomes first; the
// broadcast's audience is sized to take about 60 % of that for the whole run, so it sends throughout.
const rate = Number(values.rate);
const audience = values.audience ? Number(values.audience) : Math.round(rate * 0.6 * minutes * 60);
const seed = values.seed ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
const random = seededRandom(seed);
const DOMAIN = 'soak.example';
const durationMs = minutes * 60_000;

const started = performance.now();
const checks = new Checks();
console.log(
  `quire soak: ${minutes} min, ${users} readers, broadcast to ${audience.toLocaleString('en')} (DELIVERY_RATE ${rate} msg/s) — seed ${seed}`,
);
const cluster = await startPrivateCluster();
const url = await cluster.createDatabase('quire_soak');
const sink = await Sink.start(DOMAIN);
sink.keepMail = false;
const core = await openCore(url);
let api: QuireProcess | undefined;
const rows: Row[] = [];
const notes: string[] = [];

try {
  const topic = await seedAudience(core.sql, audience, 'soak');
  api = await QuireProcess.start({
    databaseUrl: url,
    smtpUrl: sink.url,
    env: { DELIVERY_RATE: String(rate), DELIVERY_CONCURRENCY: '4', DELIVERY_BATCH: '50', LOG_LEVEL: 'warn' },
    label: 'soak-api',
  });
  const base = api.url;
  const pid = api.pid;

  // Readers' links, as their mail arrives at the sink.
  const confirmLinks: string[] = [];
  const managed: { prefs: string; unsubscribe: string }[] = [];
  const link = (text: string, path: string) => new RegExp(`https?://[^\\s\\]]+/${path}/[A-Za-z0-9_-]+`).exec(text)?.[0];
  sink.onMail = (m) => {
    const confirm = link(m.text, 'confirm');
    const prefs = link(m.text, 'preferences');
    const unsubscribe = link(m.text, 'unsubscribe');
    if (confirm && !prefs) confirmLinks.push(confirm);
    else if (prefs && unsubscribe) managed.push({ prefs, unsubscribe });
  };

  const broadcast = await startBroadcast(core, topic);

  // RSS and progress every 5 s.
  const rss: { t: number; mib: number; sent: number; requests: number }[] = [];
  let sampling = true;
  let sentAt = 0;
  const samples: Sample[] = [];
  const sampler = (async () => {
    while (sampling) {
      const mib = rssMiB(pid);
      if (mib !== undefined)
        rss.push({ t: (performance.now() - started) / 1000, mib, sent: await sink.count(), requests: samples.length });
      if (!sentAt && (await broadcastStatus(core, broadcast.id)).status === 'sent')
        sentAt = (performance.now() - started) / 1000;
      await sleep(5000);
    }
  })();

  let seq = 0;
  const record = (kind: string, r: Awaited<ReturnType<typeof timedFetch>>, ok: number[]) => {
    const s: Sample = { kind, at: Date.now(), ms: r.ms, status: r.status };
    if (!ok.includes(r.status) && r.status !== 429)
      s.problem = `${kind}: ${r.status === 0 ? r.error : r.status} ${r.body.slice(0, 160)}`;
    samples.push(s);
  };
  const json = { accept: 'application/json' };
  const load = runLoad(users, async () => {
    // A reader's think time: 0–200 ms between requests, so the run is a steady state, not a flood.
    await sleep(random() * 200);
    const dice = random();
    if (dice < 0.2 && confirmLinks.length) {
      const target = confirmLinks.splice(Math.floor(random() * confirmLinks.length), 1)[0]!;
      record('confirm', await timedFetch(target, { method: 'POST', headers: json }, 15_000), [200]);
    } else if (dice < 0.35 && managed.length) {
      const m = managed[Math.floor(random() * managed.length)]!;
      const topics = random() < 0.5 ? ['release'] : ['release', 'updates'];
      record(
        'preferences',
        await timedFetch(
          m.prefs.replace('/preferences/', '/v1/preferences/'),
          { method: 'PUT', headers: { ...json, 'content-type': 'application/json' }, body: JSON.stringify({ topics }) },
          15_000,
        ),
        [200],
      );
    } else if (dice < 0.45 && managed.length) {
      const m = managed.splice(Math.floor(random() * managed.length), 1)[0]!;
      record(
        'unsubscribe',
        await timedFetch(
          m.unsubscribe,
          {
            method: 'POST',
            headers: { ...json, 'content-type': 'application/x-www-form-urlencoded' },
            body: 'List-Unsubscribe=One-Click',
          },
          15_000,
        ),
        [200],
      );
    } else if (dice >= 0.45 && dice < 0.48) {
      record('readyz', await timedFetch(`${base}/readyz`, { headers: json }, 15_000), [200]);
    } else {
      // Mostly new readers; one in ten signs up again with an earlier address (the cooldown path).
      const i = random() < 0.1 && seq > 10 ? Math.floor(random() * seq) : seq++;
      record(
        'signup',
        await timedFetch(`${base}/v1/subscriptions`, signupInit(`reader${i}@${DOMAIN}`, randomIp(random)), 15_000),
        [202],
      );
    }
  });
  const stopAt = Date.now() + durationMs;
  let lastPrint = Date.now();
  while (Date.now() < stopAt) {
    await sleep(1000);
    if (Date.now() - lastPrint >= 30_000) {
      lastPrint = Date.now();
      const last = rss.at(-1);
      console.log(
        `  ${((performance.now() - started) / 60_000).toFixed(1)} min: ${samples.length} requests, ${samples.filter((s) => s.problem).length} errors, RSS ${last?.mib.toFixed(0)} MiB, ${last?.sent} messages at the sink`,
      );
    }
  }
  await load.stop();
  samples.push(...load.samples);
  sampling = false;
  await sampler;
  const seconds = durationMs / 1000;

  // The broadcast: progress, and nobody twice.
  const state = await broadcastStatus(core, broadcast.id);
  const deliveries = await deliveryIds(core.sql, broadcast.id);
  const counts = await sink.counts();
  const dupes = deliveries.reduce((s, d) => s + Math.max(0, (counts.get(messageIdOf(d.id)) ?? 0) - 1), 0);
  const alive = api.child.exitCode === null;

  const kinds = ['signup', 'confirm', 'preferences', 'unsubscribe', 'readyz'];
  const errors = samples.filter((s) => s.problem);
  const limited = samples.filter((s) => s.status === 429).length;
  const ms = samples.map((s) => s.ms);

  // RSS: after a one-minute warm-up (or the first fifth of a short run), compare the last quarter with
  // the quarter before the middle, and fit a line.
  const warm = rss.filter((r) => r.t >= Math.min(60, seconds / 5));
  const q = Math.max(1, Math.floor(warm.length / 4));
  const median = (xs: number[]) => percentile(xs, 50);
  const early = median(warm.slice(q, 2 * q).map((r) => r.mib));
  const late = median(warm.slice(-q).map((r) => r.mib));
  const growth = early > 0 ? (late - early) / early : 0;
  const n = warm.length;
  const mt = warm.reduce((s, r) => s + r.t, 0) / n;
  const mm = warm.reduce((s, r) => s + r.mib, 0) / n;
  const slope =
    (warm.reduce((s, r) => s + (r.t - mt) * (r.mib - mm), 0) /
      Math.max(
        1e-9,
        warm.reduce((s, r) => s + (r.t - mt) ** 2, 0),
      )) *
    60;
  const flat = growth < 0.1;
  // Under three minutes the warm-up is most of the run: report RSS, but do not judge it.
  const judged = minutes >= 3;

  rows.push(
    {
      figure: 'run',
      value: `${minutes} min, ${users} concurrent readers, one quire process (production, HTTP + delivery loop), private PostgreSQL 15`,
    },
    {
      figure: 'requests',
      value: `${samples.length.toLocaleString('en')} (${(samples.length / seconds).toFixed(0)} req/s)`,
    },
    ...kinds.map((k) => {
      const ks = samples.filter((s) => s.kind === k);
      return {
        figure: `  ${k}`,
        value: `${ks.length.toLocaleString('en')} (${(ks.length / seconds).toFixed(1)}/s), p50 ${percentile(
          ks.map((s) => s.ms),
          50,
        ).toFixed(0)} ms, p99 ${percentile(
          ks.map((s) => s.ms),
          99,
        ).toFixed(0)} ms`,
      };
    }),
    {
      figure: 'latency p50 / p95 / p99 / max',
      value: `${percentile(ms, 50).toFixed(0)} / ${percentile(ms, 95).toFixed(0)} / ${percentile(ms, 99).toFixed(0)} / ${Math.max(...ms).toFixed(0)} ms`,
    },
    { figure: 'errors (not 2xx, not 429)', value: errors.length, expected: '0', ok: errors.length === 0 },
    { figure: '429 answers', value: limited },
    {
      figure: `broadcast to ${audience.toLocaleString('en')} (DELIVERY_RATE ${rate} msg/s, shared with confirmations)`,
      value: `${state.counts.sent.toLocaleString('en')} sent${sentAt ? ` by ${(sentAt / 60).toFixed(1)} min` : ''}, status ${state.status}, ${dupes} duplicated`,
      expected: '0 duplicated',
      ok: dupes === 0,
    },
    {
      figure: 'mail at the sink (broadcast + confirmations + welcomes)',
      value: `${(await sink.count()).toLocaleString('en')} (${((await sink.count()) / seconds).toFixed(0)} msg/s)`,
    },
    { figure: 'quire process alive at the end', value: alive ? 'yes' : 'no', expected: 'yes', ok: alive },
    {
      figure: 'RSS min / median / max',
      value: `${Math.min(...rss.map((r) => r.mib)).toFixed(0)} / ${median(rss.map((r) => r.mib)).toFixed(0)} / ${Math.max(...rss.map((r) => r.mib)).toFixed(0)} MiB`,
    },
    {
      figure: 'RSS after warm-up: second quarter → last quarter (medians)',
      value: `${early.toFixed(0)} → ${late.toFixed(0)} MiB (${(growth * 100).toFixed(1)} %), trend ${slope.toFixed(2)} MiB/min`,
      expected: judged ? 'flat (< 10 % growth)' : 'not judged under 3 minutes',
      ...(judged ? { ok: flat } : {}),
    },
  );
  for (const r of rows) if (r.ok === false) checks.ok(false, `${r.figure}: ${r.value} (expected ${r.expected})`);
  const byProblem = new Map<string, number>();
  for (const e of errors) byProblem.set(e.problem!, (byProblem.get(e.problem!) ?? 0) + 1);
  for (const [p, c] of [...byProblem].slice(0, 5)) notes.push(`${c}× ${p}`);
  const every = Math.max(1, Math.round(rss.length / 12));
  notes.push(
    `RSS over time (VmRSS of the quire process): ${rss
      .filter((_, i) => i % every === 0 || i === rss.length - 1)
      .map((r) => `${(r.t / 60).toFixed(1)} min ${r.mib.toFixed(0)} MiB`)
      .join(', ')}.`,
  );
  if (judged)
    notes.push(
      `RSS is ${flat ? 'flat' : '**growing**'}: ${flat ? "no growth past the warm-up beyond the garbage collector's sawtooth" : 'investigate before trusting long runs'}.`,
    );
  notes.push(
    'The load generator, the SMTP sink, PostgreSQL and quire share the same two cores, so throughput is a floor, not a capacity figure.',
  );
} catch (err) {
  checks.ok(false, `soak aborted: ${(err as Error).message}`);
} finally {
  await api?.kill('SIGKILL');
  await core.close();
  await sink.close();
  cluster.destroy();
}

const result = {
  name: 'soak',
  title: `Soak: ${minutes} minutes of mixed traffic while a broadcast sends`,
  rows,
  notes,
  failures: checks.failures,
  seconds: (performance.now() - started) / 1000,
};
printResult(result);
if (!values['no-report']) await writeSection(result, `npm run test:soak -- --minutes ${minutes} --seed ${seed}`);
if (result.failures.length) {
  console.error(`quire's logs: ${logDir}`);
  process.exit(1);
}
removeLogs();
process.exit(0);
