/**
 * Faults 2: the SMTP relay dies mid-broadcast (listener closed, open connections destroyed) for 30 s
 * (quick: 5 s) and comes back on the same port. Signups keep arriving meanwhile. Every recipient must
 * get exactly one copy, every confirmation must go out once the relay is back, and the broadcast must
 * never be `sent` while any of its rows is queued or in flight.
 *
 * quire runs as one production process (`node --import tsx src/runtime/node/main.ts`: HTTP and its
 * delivery loop) plus one `--worker`, so two loops see the outage.
 */

import type { PrivateCluster } from './support/cluster.js';
import { broadcastStatus, deliveryIds, messageIdOf, openCore, seedAudience, startBroadcast } from './support/db.js';
import { adminCall, QuireProcess } from './support/quire.js';
import { Sink } from './support/sink.js';
import { Checks, type Row, type ScenarioResult, sleep, waitFor } from './support/util.js';

const SIGNUP_DOMAIN = 'outage.example';

export async function smtpOutage(
  cluster: PrivateCluster,
  opts: { quick: boolean; random: () => number },
): Promise<ScenarioResult> {
  const started = performance.now();
  const n = opts.quick ? 3_000 : 10_000;
  const outageMs = opts.quick ? 5_000 : 30_000;
  const checks = new Checks();
  const rows: Row[] = [];
  const notes: string[] = [];

  const url = await cluster.createDatabase('chaos_smtp');
  const sink = await Sink.start(SIGNUP_DOMAIN);
  const core = await openCore(url);
  const procs: QuireProcess[] = [];
  try {
    const topic = await seedAudience(core.sql, n, 'outage');
    // A paced send, so the broadcast is still going when the relay dies and after it returns.
    const env = { DELIVERY_RATE: opts.quick ? '150' : '200', DELIVERY_CONCURRENCY: '4', DELIVERY_BATCH: '50' };
    const api = await QuireProcess.start({ databaseUrl: url, smtpUrl: sink.url, env, label: 'outage-api' });
    procs.push(
      api,
      await QuireProcess.start({ databaseUrl: url, smtpUrl: sink.url, worker: true, env, label: 'outage-worker' }),
    );
    const broadcast = await startBroadcast(core, topic);

    // Watch the broadcast from one statement, so status and counts are one snapshot.
    let sentEarly = 0;
    let pausedSeen: string | null = null;
    let watching = true;
    const statuses = new Set<string>();
    const watcher = (async () => {
      while (watching) {
        const [s] = await core.sql<{ status: string; reason: string | null; open: number }[]>`
          select b.status, b.status_reason as reason,
                 (select count(*)::int from deliveries d where d.broadcast_id = b.id and d.kind = 'broadcast' and d.status in ('queued','sending')) as open
            from broadcasts b where b.id = ${broadcast.id}`;
        if (s) {
          statuses.add(s.status);
          if (s.status === 'sent' && s.open > 0) sentEarly++;
          if (s.status === 'paused') pausedSeen ??= s.reason;
        }
        await sleep(100);
      }
    })();

    // Signups all along: before, during and after the outage.
    let signups = 0;
    let signupErrors = 0;
    let signing = true;
    const signer = (async () => {
      while (signing) {
        const res = await fetch(`${api.url}/v1/subscriptions`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/json',
            'x-forwarded-for': `198.51.100.${signups % 250}`,
          },
          body: JSON.stringify({ email: `reader${signups}@${SIGNUP_DOMAIN}`, consent: true }),
        }).catch(() => undefined);
        signups++;
        if (res?.status !== 202) signupErrors++;
        await sleep(200);
      }
    })();

    const stopAt = Math.round(n * 0.3);
    await waitFor(`${stopAt} messages at the sink`, async () => (await sink.count()) >= stopAt, 300_000, 20);
    await sink.stop();
    const atStop = await sink.count();
    console.log(`  relay stopped after ${atStop} messages; down for ${outageMs / 1000} s`);
    await sleep(outageMs);
    const beforeResume = await broadcastStatus(core, broadcast.id);
    await sink.resume();
    const resumedAt = performance.now();
    console.log(
      `  relay back; broadcast is ${beforeResume.status}${beforeResume.reason ? ` (${beforeResume.reason})` : ''}`,
    );
    signing = false;
    await signer;

    // An author who finds the broadcast paused resumes it, as the README tells them to.
    let resumedByHand = false;
    if (beforeResume.status === 'paused') {
      await adminCall(api.url, `/admin/v1/broadcasts/${broadcast.id}/resume`, { method: 'POST' });
      resumedByHand = true;
    }
    await waitFor(
      'the broadcast to be sent',
      async () => (await broadcastStatus(core, broadcast.id)).status === 'sent',
      600_000,
      200,
    );
    const recoverySeconds = (performance.now() - resumedAt) / 1000;
    // Confirmations queued during the outage go out too.
    await waitFor(
      'every confirmation at the sink',
      () => new Set(sink.mail.map((m) => m.to)).size >= signups - signupErrors,
      120_000,
      200,
    ).catch(async (err) => {
      const states =
        await core.sql`select kind, status, attempts, next_attempt_at, last_error from deliveries where kind <> 'broadcast' and status <> 'sent'`;
      console.error(
        `  confirmations at the sink: ${new Set(sink.mail.map((m) => m.to)).size} of ${signups - signupErrors}`,
        states.slice(0, 5),
      );
      throw err;
    });
    watching = false;
    await watcher;

    const final = await broadcastStatus(core, broadcast.id);
    const deliveries = await deliveryIds(core.sql, broadcast.id);
    const counts = await sink.counts();
    const lost = deliveries.filter((d) => (counts.get(messageIdOf(d.id)) ?? 0) === 0).length;
    const duplicates = deliveries.reduce((s, d) => s + Math.max(0, (counts.get(messageIdOf(d.id)) ?? 0) - 1), 0);
    const confirmations = new Map<string, number>();
    for (const m of sink.mail) confirmations.set(m.to, (confirmations.get(m.to) ?? 0) + 1);
    const confirmDuplicates = [...confirmations.values()].reduce((s, c) => s + c - 1, 0);
    const [attempts] = await core.sql<{ max: number; retried: number }[]>`
      select max(attempts)::int as max, count(*) filter (where attempts > 1)::int as retried
        from deliveries where broadcast_id = ${broadcast.id}`;

    rows.push(
      { figure: 'recipients', value: n.toLocaleString('en') },
      { figure: 'relay down', value: `${outageMs / 1000} s, after message ${atStop.toLocaleString('en')}` },
      {
        figure: 'broadcast status when the relay came back',
        value: `${beforeResume.status}${beforeResume.reason ? ` — ${beforeResume.reason}` : ''}`,
        expected: 'sending',
        ok: beforeResume.status === 'sending',
      },
      { figure: 'resumed by hand', value: resumedByHand ? 'yes' : 'no', expected: 'no' },
      {
        figure: 'broadcast rows retried (attempts > 1) / max attempts',
        value: `${attempts?.retried ?? 0} / ${attempts?.max ?? 0}`,
      },
      { figure: 'seconds from relay back to broadcast sent', value: recoverySeconds.toFixed(1) },
      { figure: 'lost', value: lost, expected: '0', ok: lost === 0 },
      { figure: 'duplicated', value: duplicates, expected: '0', ok: duplicates === 0 },
      {
        figure: 'samples where status was sent with rows queued or sending',
        value: sentEarly,
        expected: '0',
        ok: sentEarly === 0,
      },
      {
        figure: 'final status / rows sent',
        value: `${final.status} / ${final.counts.sent}`,
        expected: `sent / ${n}`,
        ok: final.status === 'sent' && final.counts.sent === n,
      },
      {
        figure: 'signups during the run (202)',
        value: `${signups - signupErrors} of ${signups}`,
        expected: 'all',
        ok: signupErrors === 0,
      },
      {
        figure: 'confirmations delivered / duplicated',
        value: `${confirmations.size} / ${confirmDuplicates}`,
        expected: `${signups - signupErrors} / 0`,
        ok: confirmations.size === signups - signupErrors && confirmDuplicates === 0,
      },
    );
    checks.ok(lost === 0, `0 lost (got ${lost})`);
    checks.ok(duplicates === 0, `0 duplicated (got ${duplicates})`);
    checks.ok(sentEarly === 0, `never marked sent while rows were queued or sending (${sentEarly} samples)`);
    checks.ok(
      final.status === 'sent' && final.counts.sent === n,
      `broadcast completes (${final.status}, ${final.counts.sent} sent)`,
    );
    checks.ok(
      beforeResume.status === 'sending',
      `a relay outage does not pause the broadcast (was ${beforeResume.status})`,
    );
    checks.ok(signupErrors === 0, `signups answer 202 while the relay is down (${signupErrors} did not)`);
    checks.ok(
      confirmations.size === signups - signupErrors && confirmDuplicates === 0,
      `every confirmation delivered once (${confirmations.size}/${signups - signupErrors}, ${confirmDuplicates} duplicated)`,
    );
    notes.push(
      `Statuses seen: ${[...statuses].join(' → ')}${pausedSeen ? `; paused: ${pausedSeen}` : ''}.`,
      `quire: one production process (HTTP + its delivery loop) and one \`--worker\`, DELIVERY_RATE=${env.DELIVERY_RATE} msg/s each, so the send spans the outage; a signup every 200 ms throughout.`,
      'An unreachable relay (connection refused) does not count toward BROADCAST_PAUSE_AFTER_ERRORS: a loop stops its batch at the first such failure, puts the untried rows back with their attempt returned, and tries again 5 s later. Messages cut off mid-transfer when the relay died are retried with backoff (15–30 s): most of the time from "relay back" to "sent".',
    );
  } catch (err) {
    checks.ok(false, `scenario aborted: ${(err as Error).message}`);
  } finally {
    for (const p of procs) await p.kill('SIGKILL');
    await core.close();
    await sink.close();
  }
  return {
    name: 'smtp-outage',
    title: `SMTP relay down ${outageMs / 1000} s during a ${n.toLocaleString('en')}-recipient broadcast`,
    rows,
    notes,
    failures: checks.failures,
    seconds: (performance.now() - started) / 1000,
  };
}
