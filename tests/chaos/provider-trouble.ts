/**
 * Faults 5: a mail provider in trouble mid-broadcast. The Postmark and the Resend stand-ins, each in its
 * own process, answer 500 to a run of requests, then 429 (Retry-After: 1) to a run, then hang: every
 * request is held past quire's timeout_ms for a while, and processed once the hold ends — accepted, with
 * nobody left to hear the answer. Both providers run at once, each with its own database and workers.
 *
 * What must hold: nobody lost; no broadcast paused (a 429 is pace, not failure, and the 5xx and timeouts
 * stay under BROADCAST_PAUSE_AFTER_ERRORS); Resend, which deduplicates by Idempotency-Key, duplicates
 * nothing; Postmark, which has no such key, sends again exactly the rows of the requests it accepted
 * unheard — for each recipient, copies = 1 + such requests that carried it — and never more than the
 * rows of the requests that failed after reaching it (a 5xx or no answer).
 */
import type { PrivateCluster } from './support/cluster.js';
import { broadcastStatus, type CoreHandle, messageIdOf, openCore, seedAudience, startBroadcast } from './support/db.js';
import { QuireProcess } from './support/quire.js';
import { StandInProcess, type StandInState } from './support/stand-in.js';
import { Checks, type Row, type ScenarioResult, sleep, waitFor } from './support/util.js';

type Provider = 'postmark' | 'resend';
type Body = Record<string, unknown>;

const PROVIDERS: Record<
  Provider,
  { label: string; args: string[]; dsn: (host: string, timeoutMs: number) => string; messageId: (m: Body) => unknown }
> = {
  postmark: {
    label: 'Postmark',
    args: ['--server-token', 'chaos-postmark-token'],
    dsn: (host, t) => `postmark+api://chaos-postmark-token@${host}?message_stream=broadcast&timeout_ms=${t}`,
    messageId: (m) => (m.Headers as { Name: string; Value: string }[]).find((h) => h.Name === 'Message-ID')?.Value,
  },
  resend: {
    label: 'Resend',
    args: ['--api-key', 're_chaos_key'],
    dsn: (host, t) => `resend+api://re_chaos_key@${host}?timeout_ms=${t}`,
    messageId: (m) => (m.headers as Record<string, string>)['Message-ID'],
  },
};

const QUICK = { n: 600, workers: 1, rate: 200, fail500: 3, fail429: 3, hangMs: 3_000, timeoutMs: 1_500 };
const FULL = { n: 10_000, workers: 2, rate: 100, fail500: 10, fail429: 40, hangMs: 30_000, timeoutMs: 3_000 };
type Plan = typeof QUICK & { quick: boolean };

const PAUSE_AFTER = 25;

/** A row-adder whose figures name the provider; a row with a verdict is an invariant too. */
const labelled =
  (label: string, rows: Row[], checks: Checks) =>
  (figure: string, value: string | number, expected?: string, ok?: boolean) => {
    rows.push({
      figure: `${label}: ${figure}`,
      value,
      ...(expected ? { expected } : {}),
      ...(ok === undefined ? {} : { ok }),
    });
    if (ok !== undefined) checks.ok(ok, `${label}: ${figure}: ${value} (expected ${expected})`);
  };

export async function providerTrouble(
  cluster: PrivateCluster,
  opts: { quick: boolean; random: () => number },
): Promise<ScenarioResult> {
  const started = performance.now();
  const plan: Plan = { ...(opts.quick ? QUICK : FULL), quick: opts.quick };
  const checks = new Checks();
  const trials = await Promise.all((['postmark', 'resend'] as const).map((p) => trial(cluster, p, plan, checks)));
  const hang = `${plan.hangMs / 1000} s`;
  return {
    name: 'provider-trouble',
    title: `A provider answering 500, then 429, then nothing for ${hang} during a ${plan.n.toLocaleString('en')}-recipient broadcast`,
    rows: trials.flat(),
    notes: [
      `quire: ${plan.workers} \`--worker\` process${plan.workers > 1 ? 'es' : ''} per provider, DELIVERY_RATE=${plan.rate} msg/s each, DELIVERY_BATCH=50, BROADCAST_PAUSE_AFTER_ERRORS=${PAUSE_AFTER}; MAIL_DSN names the stand-in with timeout_ms=${plan.timeoutMs}. Postmark and Resend run at the same time, each with its own database.`,
      `Faults, in order, each after the broadcast made progress again: the next ${plan.fail500} requests answered 500; the next ${plan.fail429} answered 429 with Retry-After: 1; then for ${hang} every request held ${hang} before it is processed (accepted, and answered to a client that gave up after timeout_ms).`,
      'Postmark takes no idempotency key: a request that failed after reaching it may have been accepted, and its rows are sent again. Bound: duplicates ≤ the rows of the requests answered 5xx or not answered in time (at most DELIVERY_BATCH per such request). The stand-in rejects a 5xx before accepting anything, so only the unanswered requests it accepted make duplicates, and the run checks exactly those.',
      plan.quick
        ? 'Quick mode: once the hang is over, rows waiting out their retry backoff (15–30 s) are made due at once by SQL, as worker-kill does with leases.'
        : 'Rows that failed wait out their retry backoff (15–30 s, then 30–60 s) by the clock: most of the time from "hang over" to "sent".',
    ],
    failures: checks.failures,
    seconds: (performance.now() - started) / 1000,
  };
}

async function trial(cluster: PrivateCluster, provider: Provider, plan: Plan, checks: Checks): Promise<Row[]> {
  const p = PROVIDERS[provider];
  const rows: Row[] = [];
  const row = labelled(p.label, rows, checks);
  const t0 = performance.now();
  const log = (line: string) =>
    console.log(`  [${provider} +${((performance.now() - t0) / 1000).toFixed(1)} s] ${line}`);

  const [url, standIn] = await Promise.all([
    cluster.createDatabase(`chaos_trouble_${provider}`),
    StandInProcess.start(provider, p.args),
  ]);
  const core = await openCore(url);
  const procs: QuireProcess[] = [];
  let watching = true;
  try {
    const env = {
      MAIL_DSN: p.dsn(standIn.host, plan.timeoutMs),
      DELIVERY_RATE: String(plan.rate),
      DELIVERY_CONCURRENCY: '4',
      DELIVERY_BATCH: '50',
      BROADCAST_PAUSE_AFTER_ERRORS: String(PAUSE_AFTER),
    };
    const starting = Array.from({ length: plan.workers }, () =>
      QuireProcess.start({ databaseUrl: url, smtpUrl: '', worker: true, env, label: `trouble-${provider}` }).then((q) =>
        procs.push(q),
      ),
    );
    const [topic] = await Promise.all([seedAudience(core.sql, plan.n, `trouble${provider}`), ...starting]);
    const broadcast = await startBroadcast(core, topic);
    log('broadcast started');

    // One sample every 200 ms: a pause at any moment is a failure, whatever the final status says, and
    // ends the run at once rather than when a wait times out.
    let status = 'sending';
    const pauses: string[] = [];
    const watcher = (async () => {
      while (watching) {
        const s = await broadcastStatus(core, broadcast.id).catch(() => undefined);
        if (s) status = s.status;
        if (s?.status === 'paused') pauses.push(s.reason ?? '(no reason)');
        await sleep(200);
      }
    })();
    const until = (what: string, done: (s: StandInState) => boolean) =>
      waitFor(
        what,
        async () => {
          if (pauses.length) throw new Error(`the broadcast paused (${pauses[0]}) before ${what}`);
          if (status === 'sent') throw new Error(`the broadcast was sent before ${what}`);
          return done(await standIn.state());
        },
        120_000,
        50,
      );
    const progress = async (what: string) => {
      const base = (await standIn.state()).messages;
      await until(`more messages accepted ${what}`, (s) => s.messages > base);
    };

    await until('15 % of the audience accepted', (s) => s.messages >= plan.n * 0.15);
    log(`500 × ${plan.fail500}`);
    await standIn.faults({ fail: plan.fail500, status: 500 });
    await until(`${plan.fail500} requests answered 500`, (s) => s.fail === 0);
    await progress('after the 500s');
    log(`429 × ${plan.fail429}`);
    await standIn.faults({ fail: plan.fail429, status: 429 });
    await until(`${plan.fail429} requests answered 429`, (s) => s.fail === 0);
    await progress('after the 429s');
    log(`hanging for ${plan.hangMs / 1000} s after ${(await standIn.state()).messages} messages`);
    await standIn.faults({ delay_ms: plan.hangMs });
    await sleep(plan.hangMs);
    await standIn.faults({ delay_ms: 0 });
    const hangOver = performance.now();

    // A stalled engine fails the run once nothing has been sent for longer than any backoff here.
    const stallMs = plan.quick ? 60_000 : 180_000;
    let sentSoFar = -1;
    let lastProgress = performance.now();
    await waitFor(
      'the broadcast to be sent',
      async () => {
        if (pauses.length) throw new Error(`the broadcast paused (${pauses[0]})`);
        // Quick mode waits out the retry backoff by SQL instead of the clock.
        if (plan.quick)
          await core.sql`update deliveries set next_attempt_at = now()
                          where broadcast_id = ${broadcast.id} and status = 'queued' and next_attempt_at > now()`;
        const b = await broadcastStatus(core, broadcast.id);
        if (b.counts.sent !== sentSoFar) [sentSoFar, lastProgress] = [b.counts.sent, performance.now()];
        else if (performance.now() - lastProgress > stallMs)
          throw new Error(
            `no row sent for ${stallMs / 1000} s (sent ${b.counts.sent}, sending ${b.counts.sending}, queued ${b.counts.queued})`,
          );
        return b.status === 'sent';
      },
      1_800_000,
      250,
    );
    const recovery = (performance.now() - hangOver) / 1000;
    log('broadcast sent');
    await waitFor(
      'the stand-in to finish the requests it held',
      async () => (await standIn.state()).inFlight === 0,
      120_000,
    );
    watching = false;
    await watcher;
    await tally(core, standIn, provider, broadcast.id, plan, row);
    // The workers' own count of rows put back after a rate limit outlasted the in-lane tries.
    const batches = procs.flatMap((q) => q.log().split('\n')).filter((l) => l.includes('"msg":"delivery batch"'));
    const throttled = batches.reduce(
      (sum, l) => sum + Number((JSON.parse(l) as { throttled?: number }).throttled ?? 0),
      0,
    );
    row('rows put back by a rate limit, no attempt spent (worker logs)', throttled);
    row("seconds from the hang's end to broadcast sent", recovery.toFixed(1));
    row(
      'paused at any sample',
      pauses.length ? `${pauses.length}: ${pauses[0]}` : 'never',
      'never',
      pauses.length === 0,
    );
  } catch (err) {
    checks.ok(false, `${p.label}: scenario aborted: ${(err as Error).message}`);
  } finally {
    watching = false;
    for (const q of procs) await q.kill('SIGKILL');
    await core.close();
    await standIn.close();
  }
  return rows;
}

/** What arrived at the stand-in against what the outbox says, recipient by recipient. */
async function tally(
  core: CoreHandle,
  standIn: StandInProcess,
  provider: Provider,
  broadcastId: string,
  plan: Plan,
  row: ReturnType<typeof labelled>,
): Promise<void> {
  const p = PROVIDERS[provider];
  const deliveries = await core.sql<{ id: string; status: string; attempts: number }[]>`
    select id, status, attempts from deliveries where broadcast_id = ${broadcastId} and kind = 'broadcast'`;
  const copies = new Map<string, number>();
  for (const m of await standIn.records<Body>('messages', [provider === 'postmark' ? 'Headers' : 'headers'])) {
    const id = String(p.messageId(m));
    copies.set(id, (copies.get(id) ?? 0) + 1);
  }
  const requests = await standIn.records<{ status: number; answered: boolean }>('requests', ['status', 'answered']);
  const idsIn = (body: string) => {
    const parsed = JSON.parse(body) as Body | Body[];
    return (Array.isArray(parsed) ? parsed : [parsed]).map((m) => String(p.messageId(m)));
  };
  // Processed and never answered: the provider has these rows, quire does not know it.
  const unheard = new Map<string, number>();
  let unheardRows = 0;
  let bound = 0;
  for (const r of await standIn.records<{ body: string; status: number }>('requests', ['body', 'status'], {
    answered: 'false',
  })) {
    bound += idsIn(r.body).length;
    if (r.status !== 200) continue;
    for (const id of idsIn(r.body)) unheard.set(id, (unheard.get(id) ?? 0) + 1);
    unheardRows += idsIn(r.body).length;
  }
  for (const r of await standIn.records<{ body: string }>('requests', ['body'], { status: 500 }))
    bound += idsIn(r.body).length;

  const n = plan.n;
  const ids = new Set(deliveries.map((d) => messageIdOf(d.id)));
  const copiesOf = (d: { id: string }) => copies.get(messageIdOf(d.id)) ?? 0;
  const lost = deliveries.filter((d) => copiesOf(d) === 0).length;
  const duplicates = [...copies.values()].reduce((s, c) => s + c - 1, 0);
  const strangers = [...copies.keys()].filter((id) => !ids.has(id)).length;
  const mispredicted = deliveries.filter((d) => copiesOf(d) !== 1 + (unheard.get(messageIdOf(d.id)) ?? 0)).length;
  const sent = deliveries.filter((d) => d.status === 'sent').length;
  const count = (f: (r: { status: number; answered: boolean }) => boolean) => requests.filter(f).length;
  const [n500, n429, none] = [
    count((r) => r.status === 500),
    count((r) => r.status === 429),
    count((r) => !r.answered),
  ];

  row(
    'requests: 200 answered / 500 / 429 / not answered in time',
    `${count((r) => r.status === 200 && r.answered)} / ${n500} / ${n429} / ${none}`,
  );
  row(
    'faults met',
    `${n500} × 500, ${n429} × 429, ${none} unanswered`,
    `${plan.fail500} × 500, ${plan.fail429} × 429, ≥ 1 unanswered`,
    n500 === plan.fail500 && n429 === plan.fail429 && none > 0,
  );
  row(
    'requests processed but not answered in time (their rows)',
    `${count((r) => r.status === 200 && !r.answered)} (${unheardRows})`,
  );
  row(
    'rows retried (attempts > 1) / max attempts',
    `${deliveries.filter((d) => d.attempts > 1).length} / ${Math.max(0, ...deliveries.map((d) => d.attempts))}`,
  );
  row('lost', lost, '0', lost === 0);
  if (provider === 'postmark') {
    row(
      'duplicates',
      duplicates,
      `= rows processed unheard (${unheardRows}); ≤ ${bound}`,
      duplicates === unheardRows && duplicates <= bound,
    );
    row(
      'recipients whose copies ≠ 1 + requests processed unheard that carried them',
      mispredicted,
      '0',
      mispredicted === 0,
    );
  } else row('duplicates', duplicates, '0 (Idempotency-Key)', duplicates === 0);
  row('messages at the stand-in not in this broadcast', strangers, '0', strangers === 0);
  row('rows sent', `${sent} of ${deliveries.length} (audience ${n})`, String(n), sent === n && deliveries.length === n);
}
