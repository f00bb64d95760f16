/**
 * Faults 4: two API instances and three delivery workers on one PostgreSQL database, under load.
 *  - The rate limits live in the database, so they hold across instances: 200 signups for one address
 *    from 200 IPs, and 200 signups from one IP for 200 addresses, spread over both instances, accept at
 *    most RATE_LIMIT_ADDRESS and RATE_LIMIT_IP of them; the victim address gets at most one confirmation.
 *  - A broadcast sent while signups keep coming is delivered by five loops at once (each API instance
 *    runs one, plus three `--worker`s): every recipient exactly once at the sink.
 */

import type { PrivateCluster } from './support/cluster.js';
import { broadcastStatus, deliveryIds, messageIdOf, openCore, seedAudience, startBroadcast } from './support/db.js';
import { randomIp, runLoad, signupInit, timedFetch } from './support/load.js';
import { QuireProcess } from './support/quire.js';
import { Sink } from './support/sink.js';
import { Checks, type Row, type ScenarioResult, sleep, waitFor } from './support/util.js';

const DOMAIN = 'multi.example';
const RATE_LIMIT_IP = 20;
const RATE_LIMIT_ADDRESS = 3;
const IP_WINDOW_MS = 600_000;
const DAY_MS = 86_400_000;

/** Fixed windows: start at least `margin` after a boundary, so one burst never straddles two windows. */
async function clearOfWindowEdges(marginMs: number): Promise<void> {
  for (;;) {
    const now = Date.now();
    const toIpEdge = IP_WINDOW_MS - (now % IP_WINDOW_MS);
    const toDayEdge = DAY_MS - (now % DAY_MS);
    const wait = Math.min(toIpEdge, toDayEdge);
    if (wait > marginMs) return;
    console.log(`  waiting ${(wait / 1000).toFixed(0)} s for the next rate-limit window`);
    await sleep(wait + 1000);
  }
}

export async function multiInstance(
  cluster: PrivateCluster,
  opts: { quick: boolean; random: () => number },
): Promise<ScenarioResult> {
  const started = performance.now();
  const checks = new Checks();
  const rows: Row[] = [];
  const notes: string[] = [];
  const n = opts.quick ? 3_000 : 10_000;
  const burst = 200;

  const url = await cluster.createDatabase('chaos_multi');
  const sink = await Sink.start(DOMAIN);
  const core = await openCore(url);
  const procs: QuireProcess[] = [];
  try {
    const topic = await seedAudience(core.sql, n, 'multi');
    const env = {
      RATE_LIMIT_IP: String(RATE_LIMIT_IP),
      RATE_LIMIT_ADDRESS: String(RATE_LIMIT_ADDRESS),
      DELIVERY_RATE: '100000',
      DELIVERY_CONCURRENCY: '4',
      DELIVERY_BATCH: '50',
    };
    const apis = [
      await QuireProcess.start({ databaseUrl: url, smtpUrl: sink.url, env, label: 'multi-api' }),
      await QuireProcess.start({ databaseUrl: url, smtpUrl: sink.url, env, label: 'multi-api' }),
    ];
    const workers = await Promise.all(
      [0, 1, 2].map(() =>
        QuireProcess.start({ databaseUrl: url, smtpUrl: sink.url, worker: true, env, label: 'multi-worker' }),
      ),
    );
    procs.push(...apis, ...workers);

    // Background load: new readers from many IPs on both instances, all through the scenario.
    let seq = 0;
    const background = runLoad(8, async (user) => {
      const i = seq++;
      const r = await timedFetch(
        `${apis[i % 2]!.url}/v1/subscriptions`,
        signupInit(`reader${i}.${user}@bg.${DOMAIN}`, randomIp(opts.random)),
        15_000,
      );
      background.samples.push({
        kind: 'background',
        at: Date.now(),
        ms: r.ms,
        status: r.status,
        ...(r.status === 202 || r.status === 429
          ? {}
          : { problem: `status ${r.status} ${r.error ?? r.body.slice(0, 120)}` }),
      });
    });

    await clearOfWindowEdges(30_000);
    // Same address, many IPs, alternating instances, 20 at a time.
    const victim = `victim@${DOMAIN}`;
    const fire = async (count: number, make: (i: number) => { base: string; email: string; ip: string }) => {
      const statuses: number[] = [];
      let next = 0;
      await Promise.all(
        Array.from({ length: 20 }, async () => {
          while (next < count) {
            const { base, email, ip } = make(next++);
            statuses.push((await timedFetch(`${base}/v1/subscriptions`, signupInit(email, ip), 15_000)).status);
          }
        }),
      );
      return statuses;
    };
    const [byAddress, byIp] = await Promise.all([
      fire(burst, (i) => ({
        base: apis[i % 2]!.url,
        email: victim,
        ip: `198.19.${Math.floor(i / 200)}.${1 + (i % 200)}`,
      })),
      fire(burst, (i) => ({ base: apis[i % 2]!.url, email: `same-ip.${i}@${DOMAIN}`, ip: '203.0.113.50' })),
    ]);
    const accepted = (s: number[]) => s.filter((x) => x === 202).length;
    const limited = (s: number[]) => s.filter((x) => x === 429).length;

    // The broadcast, while the background load goes on.
    const broadcast = await startBroadcast(core, topic);
    const sendStart = performance.now();
    await waitFor(
      'the broadcast to be sent',
      async () => (await broadcastStatus(core, broadcast.id)).status === 'sent',
      600_000,
      200,
    );
    const sendSeconds = (performance.now() - sendStart) / 1000;
    await background.stop();
    // Every confirmation queued by the load goes out too.
    await waitFor(
      'the outbox to drain',
      async () => {
        const [r] = await core.sql<
          { open: number }[]
        >`select count(*)::int as open from deliveries where status in ('queued', 'sending')`;
        return (r?.open ?? 1) === 0;
      },
      120_000,
      250,
    ).catch(() => {});
    await sleep(500);

    const deliveries = await deliveryIds(core.sql, broadcast.id);
    const counts = await sink.counts();
    const lost = deliveries.filter((d) => !counts.has(messageIdOf(d.id))).length;
    const duplicates = deliveries.reduce((s, d) => s + Math.max(0, (counts.get(messageIdOf(d.id)) ?? 0) - 1), 0);
    const allRows = await core.sql<
      { id: string; kind: string }[]
    >`select id, kind from deliveries where status = 'sent'`;
    const anyDuplicate = allRows.filter((r) => (counts.get(messageIdOf(r.id)) ?? 0) > 1).length;
    const victimMails = sink.mail.filter((m) => m.to === victim).length;
    const final = await broadcastStatus(core, broadcast.id);
    const bg = background.samples;
    const bgProblems = bg.filter((s) => s.problem);
    // Who sent what: each process logs its batches.
    const sentBy = procs.map((p) =>
      p
        .log()
        .split('\n')
        .filter((l) => l.includes('"msg":"delivery batch"'))
        .reduce((s, l) => s + Number((JSON.parse(l) as { sent?: number }).sent ?? 0), 0),
    );

    rows.push(
      { figure: 'processes', value: '2 API instances (each with its delivery loop) + 3 workers, one database' },
      {
        figure: `${burst} signups for one address from ${burst} IPs, across both instances`,
        value: `${accepted(byAddress)} accepted, ${limited(byAddress)} × 429`,
        expected: `≤ ${RATE_LIMIT_ADDRESS} accepted (RATE_LIMIT_ADDRESS)`,
        ok: accepted(byAddress) <= RATE_LIMIT_ADDRESS && accepted(byAddress) + limited(byAddress) === burst,
      },
      {
        figure: 'confirmation mails to that address',
        value: victimMails,
        expected: '≤ 1 (one per cooldown)',
        ok: victimMails <= 1,
      },
      {
        figure: `${burst} signups from one IP for ${burst} addresses, across both instances`,
        value: `${accepted(byIp)} accepted, ${limited(byIp)} × 429`,
        expected: `≤ ${RATE_LIMIT_IP} accepted (RATE_LIMIT_IP)`,
        ok: accepted(byIp) <= RATE_LIMIT_IP && accepted(byIp) + limited(byIp) === burst,
      },
      {
        figure: 'background signups (8 clients, both instances)',
        value: `${bg.length} requests, ${bg.filter((s) => s.status === 202).length} × 202, ${bgProblems.length} other`,
        expected: '0 other',
        ok: bgProblems.length === 0,
      },
      {
        figure: `broadcast to ${n.toLocaleString('en')} during the load`,
        value: `${final.status} in ${sendSeconds.toFixed(1)} s (${(n / sendSeconds).toFixed(0)} msg/s)`,
        expected: 'sent',
        ok: final.status === 'sent',
      },
      { figure: 'messages per process (api, api, worker ×3)', value: sentBy.join(' / ') },
      {
        figure: 'broadcast recipients lost / duplicated',
        value: `${lost} / ${duplicates}`,
        expected: '0 / 0',
        ok: lost === 0 && duplicates === 0,
      },
      {
        figure: 'any outbox row (broadcast or confirmation) delivered twice',
        value: anyDuplicate,
        expected: '0',
        ok: anyDuplicate === 0,
      },
    );
    for (const r of rows) if (r.ok === false) checks.ok(false, `${r.figure}: ${r.value} (expected ${r.expected})`);
    for (const p of bgProblems.slice(0, 3)) notes.push(`background: ${p.problem}`);
    notes.push(
      `RATE_LIMIT_IP=${RATE_LIMIT_IP} per 10 minutes, RATE_LIMIT_ADDRESS=${RATE_LIMIT_ADDRESS} per day, fixed windows kept in the rate_limits table (one atomic upsert per hit); the bursts start at least 30 s away from a window edge.`,
    );
  } catch (err) {
    checks.ok(false, `scenario aborted: ${(err as Error).message}`);
  } finally {
    for (const p of procs) await p.kill('SIGKILL');
    await core.close();
    await sink.close();
  }
  return {
    name: 'multi-instance',
    title: 'Two API instances and three workers on one database, under load',
    rows,
    notes,
    failures: checks.failures,
    seconds: (performance.now() - started) / 1000,
  };
}
