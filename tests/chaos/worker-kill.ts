/**
 * Faults 1: SIGKILL the delivery worker at random points of a broadcast, restart it each time, and count
 * every recipient at the SMTP sink (by Message-ID, `<delivery id@domain>`) and in the database.
 *
 * At each kill, the rows the dead worker had sent but not yet settled are measured exactly: rows still
 * `sending` under its live lease whose message reached the sink while it ran. Those, and only those,
 * must arrive twice. The lease (five minutes) is then expired by SQL, which is what waiting five
 * minutes would do, and a new worker starts. A SIGTERM at the end shows the graceful case: 0 duplicates.
 */
import { SETTLE_GROUP } from '../../src/delivery/timing.js';
import type { PrivateCluster } from './support/cluster.js';
import { broadcastStatus, deliveryIds, messageIdOf, openCore, seedAudience, startBroadcast } from './support/db.js';
import { QuireProcess } from './support/quire.js';
import { Sink } from './support/sink.js';
import { Checks, type Row, type ScenarioResult, sleep, waitFor } from './support/util.js';

const CONCURRENCY = 4;
const BATCH = 50;

export async function workerKill(
  cluster: PrivateCluster,
  opts: { quick: boolean; random: () => number },
): Promise<ScenarioResult> {
  const started = performance.now();
  const n = opts.quick ? 3_000 : 20_000;
  const kills = opts.quick ? 3 : 5;
  const checks = new Checks();
  const rows: Row[] = [];
  const notes: string[] = [];

  const url = await cluster.createDatabase('chaos_kill');
  const sink = await Sink.start();
  const core = await openCore(url);
  const workers: QuireProcess[] = [];
  try {
    const topic = await seedAudience(core.sql, n, 'kill');
    const broadcast = await startBroadcast(core, topic);
    checks.ok(broadcast.audience === n, `audience frozen at ${n} (got ${broadcast.audience})`);

    // Kill points: uniform over 5–85 % of the audience, at least 3 % apart; then a SIGTERM near 92 %.
    const points: number[] = [];
    while (points.length < kills) {
      const p = Math.round(n * (0.05 + opts.random() * 0.8));
      if (points.every((q) => Math.abs(q - p) >= n * 0.03)) points.push(p);
    }
    points.sort((a, b) => a - b);
    const termAt = Math.round(n * 0.92);

    const env = { DELIVERY_RATE: '100000', DELIVERY_CONCURRENCY: String(CONCURRENCY), DELIVERY_BATCH: String(BATCH) };
    const start = async () => {
      const w = await QuireProcess.start({
        databaseUrl: url,
        smtpUrl: sink.url,
        worker: true,
        env,
        label: 'kill-worker',
      });
      workers.push(w);
      return w;
    };

    interface Kill {
      at: number;
      signal: 'SIGKILL' | 'SIGTERM';
      sinkBefore: number;
      sinkAfter: number;
      sentInDb: number;
      claimed: number;
      unsettled: Set<string>;
    }
    const history: Kill[] = [];
    const liveLeases = () =>
      core.sql<
        { id: string }[]
      >`select id from deliveries where broadcast_id = ${broadcast.id} and status = 'sending' and lease_until > now()`;

    let segmentStart = await sink.count();
    let worker = await start();
    let readyAt = performance.now();
    const rates: number[] = [];
    for (const [i, at] of [...points, termAt].entries()) {
      const signal = i < points.length ? 'SIGKILL' : 'SIGTERM';
      await waitFor(`${at} messages at the sink`, async () => (await sink.count()) >= at, 300_000, 5);
      await sleep(opts.random() * 30); // not always right on a message boundary
      const killedAt = performance.now();
      await worker.kill(signal);
      await sleep(400); // the sink finishes whatever the dead worker had fully transmitted
      const sinkAfter = await sink.count();
      const live = await liveLeases();
      const segment = new Set(await sink.ids(segmentStart, sinkAfter));
      const unsettled = new Set(live.map((r) => r.id).filter((id) => segment.has(messageIdOf(id))));
      const [{ sent } = { sent: 0 }] = await core.sql<{ sent: number }[]>`
        select count(*)::int as sent from deliveries where broadcast_id = ${broadcast.id} and status = 'sent'`;
      history.push({ at, signal, sinkBefore: at, sinkAfter, sentInDb: sent, claimed: live.length, unsettled });
      console.log(
        `  ${signal} #${i + 1} after ${sinkAfter} messages at the sink: ${live.length} rows claimed, ${unsettled.size} sent but not settled`,
      );
      // The dead worker's lease would run out in five minutes; move it into the past instead of waiting.
      await core.sql`update deliveries set lease_until = now() - interval '1 second'
                      where broadcast_id = ${broadcast.id} and status = 'sending' and lease_until > now()`;
      rates.push((sinkAfter - segmentStart) / ((killedAt - readyAt) / 1000));
      segmentStart = sinkAfter;
      worker = await start();
      readyAt = performance.now();
    }

    await waitFor(
      'the broadcast to be sent',
      async () => (await broadcastStatus(core, broadcast.id)).status === 'sent',
      600_000,
      200,
    );
    await worker.stop();
    await sleep(300);

    const final = await broadcastStatus(core, broadcast.id);
    const deliveries = await deliveryIds(core.sql, broadcast.id);
    const counts = await sink.counts();
    const expectedIds = new Set(deliveries.map((d) => messageIdOf(d.id)));
    const lost = deliveries.filter((d) => (counts.get(messageIdOf(d.id)) ?? 0) === 0).length;
    const duplicates = deliveries.reduce((s, d) => s + Math.max(0, (counts.get(messageIdOf(d.id)) ?? 0) - 1), 0);
    const strangers = [...counts.keys()].filter((id) => !expectedIds.has(id)).length;
    const predicted = history.reduce((s, k) => s + k.unsettled.size, 0);
    const mispredicted = deliveries.filter((d) => {
      const times = history.filter((k) => k.unsettled.has(d.id)).length;
      return (counts.get(messageIdOf(d.id)) ?? 0) !== 1 + times;
    }).length;
    const wrongMessageId = deliveries.filter((d) => d.messageId !== messageIdOf(d.id)).length;
    // Unsettled at any instant: no more than a batch (the engine sends a message only while the rows sent
    // and not yet marked, its own included, fit in DELIVERY_BATCH; src/delivery/engine.ts).
    const bound = BATCH;

    rows.push({ figure: 'recipients', value: n.toLocaleString('en') });
    rows.push({
      figure: 'send rate of a worker between kills (median)',
      value: `${Math.round([...rates].sort((a, b) => a - b)[Math.floor(rates.length / 2)] ?? 0)} msg/s`,
    });
    for (const [i, k] of history.entries()) {
      const dupsOfKill = k.unsettled.size;
      rows.push({
        figure: `${k.signal} ${i + 1} at message ${k.sinkAfter.toLocaleString('en')} (${((k.sinkAfter / n) * 100).toFixed(0)} %)`,
        value: `${k.claimed} claimed, ${dupsOfKill} sent but unsettled → ${dupsOfKill} duplicate${dupsOfKill === 1 ? '' : 's'}`,
        expected: k.signal === 'SIGTERM' ? '0 (graceful stop settles the batch)' : `≤ ${bound}`,
        ok: k.signal === 'SIGTERM' ? dupsOfKill === 0 && k.claimed === 0 : dupsOfKill <= bound,
      });
      if (k.signal === 'SIGTERM')
        checks.ok(
          dupsOfKill === 0 && k.claimed === 0,
          `SIGTERM leaves nothing claimed or unsettled (claimed ${k.claimed}, unsettled ${dupsOfKill})`,
        );
      else checks.ok(dupsOfKill <= bound, `kill ${i + 1}: ${dupsOfKill} unsettled ≤ ${bound}`);
    }
    rows.push(
      { figure: 'lost (no copy at the sink)', value: lost, expected: '0', ok: lost === 0 },
      {
        figure: 'duplicates at the sink, total',
        value: duplicates,
        expected: `= Σ sent-but-unsettled (${predicted})`,
        ok: duplicates === predicted,
      },
      {
        figure: 'recipients whose copies ≠ 1 + kills that caught them unsettled',
        value: mispredicted,
        expected: '0',
        ok: mispredicted === 0,
      },
      { figure: 'messages at the sink not in this broadcast', value: strangers, expected: '0', ok: strangers === 0 },
      {
        figure: 'rows sent in the database',
        value: final.counts.sent,
        expected: String(n),
        ok: final.counts.sent === n,
      },
      {
        figure: 'rows whose message_id ≠ <delivery id@domain>',
        value: wrongMessageId,
        expected: '0',
        ok: wrongMessageId === 0,
      },
      { figure: 'broadcast status', value: final.status, expected: 'sent', ok: final.status === 'sent' },
    );
    checks.ok(lost === 0, `0 recipients lost (got ${lost})`);
    checks.ok(
      duplicates === predicted,
      `duplicates (${duplicates}) equal the messages sent but unsettled at the kills (${predicted})`,
    );
    checks.ok(
      mispredicted === 0,
      `every recipient received 1 + (kills that caught its row unsettled) copies (${mispredicted} differ)`,
    );
    checks.ok(strangers === 0, `no unknown Message-ID at the sink (${strangers})`);
    checks.ok(
      final.counts.sent === n && final.status === 'sent',
      `all ${n} rows sent and the broadcast is sent (${final.counts.sent}, ${final.status})`,
    );
    checks.ok(wrongMessageId === 0, 'message_id column matches the Message-ID sent');
    const crashes = workers.flatMap((w) => w.errors()).filter((e) => e.msg !== 'delivery loop error');
    checks.ok(crashes.length === 0, `no error logged by the workers (${crashes.length})`);

    notes.push(
      `Worker: \`node --import tsx src/runtime/node/main.ts --worker\`, DELIVERY_CONCURRENCY=${CONCURRENCY}, DELIVERY_BATCH=${BATCH}, no rate limit; private PostgreSQL 15 cluster; SMTP sink in its own process.`,
      `"Sent but unsettled" is measured at each kill: rows still \`sending\` under the dead worker's live lease whose Message-ID reached the sink while it ran. The run checks that exactly those rows arrive one extra time, and no others.`,
      `Bound ${bound} = DELIVERY_BATCH: a message goes out only while the rows sent and not yet marked, its own included, fit in one batch; a lane held there writes the group still collecting first. Sent rows are marked in groups of half a batch (at most SETTLE_GROUP, ${SETTLE_GROUP}).`,
      "The dead worker's five-minute lease is expired by SQL right after the kill instead of being waited out; a live worker never holds an expired lease here.",
    );
  } catch (err) {
    checks.ok(false, `scenario aborted: ${(err as Error).message}`);
  } finally {
    for (const w of workers) await w.kill('SIGKILL');
    await core.close();
    await sink.close();
  }
  return {
    name: 'worker-kill',
    title: `SIGKILL the delivery worker ${kills}× during a ${n.toLocaleString('en')}-recipient broadcast`,
    rows,
    notes,
    failures: checks.failures,
    seconds: (performance.now() - started) / 1000,
  };
}
