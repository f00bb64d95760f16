/**
 * Workers: a broadcast sent through the Worker in workerd (the deploy bundle, wrangler's local runtime,
 * PostgreSQL through the Hyperdrive binding) drains through queue consumers started by the send itself:
 * the request answers 202, its waitUntil freezes the audience and fans the broadcast out to the delivery
 * queue, and consumer invocations send it. Twice: paced as a deployment would be (several invocations),
 * and unpaced (what one invocation can send). Beside it, the same broadcast sent by one Node worker.
 * `npm run bench -- queue [--quick]`
 */
import postgres from 'postgres';
import { templates } from '../emails/index.js';
import { buildWorker, startWorkerd } from '../tests/workerd/workerd.js';
import { deliveryRun } from './delivery-run.js';
import { benchDatabase, seedSubscribers } from './support/postgres.js';
import { loadAverage } from './support/proc.js';
import type { BenchResult, BenchRow } from './support/report.js';
import { BENCH_ADMIN_TOKEN, BENCH_SECRET } from './support/server.js';
import { type SinkProcess, startSinkProcess } from './support/sink.js';

/** Per invocation, as a deployment paces it (wrangler.toml): the fan-out plans rate × slice rows a message. */
const PACED = { DELIVERY_RATE: '250', QUEUE_SLICE_SECONDS: '10', QUEUE_FANOUT: '10', DELIVERY_BATCH: '100' };
/** No pace to speak of: one queue message covers the whole broadcast, so one invocation sends it all. */
const UNPACED = { ...PACED, DELIVERY_RATE: '5000' };

interface Drain {
  answeredMs: number;
  answeredFreezing: boolean;
  firstMs: number;
  doneMs: number;
  rate: number;
  fannedOut: number;
  invocations: number;
  extraAtSink: number;
  exactlyOnce: boolean;
}

async function drainThroughQueue(
  build: Awaited<ReturnType<typeof buildWorker>>,
  sink: SinkProcess,
  vars: Record<string, string>,
  n: number,
): Promise<Drain> {
  const db = await benchDatabase('queue');
  const sql = postgres(db.url, { max: 1, onnotice: () => {} });
  try {
    await seedSubscribers(db.url, n);
    await sql.unsafe('vacuum analyze');
    const { server } = await startWorkerd({
      build,
      databaseUrl: db.url,
      vars: {
        NODE_ENV: 'production',
        PUBLIC_URL: 'http://quire.bench',
        SMTP_URL: sink.url,
        MAIL_FROM: 'Jane Author <news@example.com>',
        LOG_LEVEL: 'info',
        ...vars,
      },
      secrets: { SECRET_KEY: BENCH_SECRET, ADMIN_TOKEN: BENCH_ADMIN_TOKEN },
    });
    try {
      const admin = (path: string, init: RequestInit = {}) =>
        server.fetch(new URL(path, 'http://quire.bench').toString(), {
          ...init,
          headers: {
            authorization: `Bearer ${BENCH_ADMIN_TOKEN}`,
            accept: 'application/json',
            ...(init.body ? { 'content-type': 'application/json' } : {}),
          },
        } as never) as unknown as Promise<Response>;
      const t = templates['release-announcement']!;
      const created = await admin('/admin/v1/broadcasts', {
        method: 'POST',
        body: JSON.stringify({ template: t.name, topic: 'release', subject: 'Out now', props: t.previewProps }),
      });
      const { id } = (await created.json()) as { id: string };
      sink.reset();
      const sentAt = performance.now();
      const send = await admin(`/admin/v1/broadcasts/${id}/send`, { method: 'POST' });
      const answeredMs = performance.now() - sentAt;
      const answer = (await send.json()) as { status: string };
      if (send.status !== 202) throw new Error(`the send answered ${send.status}: ${JSON.stringify(answer)}`);
      let firstMs = 0;
      const deadline = Date.now() + 600_000;
      for (;;) {
        const { count } = await sink.count();
        if (count > 0 && !firstMs) firstMs = performance.now() - sentAt;
        const [row] = await sql<{ status: string }[]>`select status from broadcasts where id = ${id}`;
        if (row?.status === 'sent') break;
        if (Date.now() > deadline) throw new Error(`the broadcast did not finish (${row?.status}, ${count} sent)`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const doneMs = performance.now() - sentAt;
      const [span] = await sql<{ seconds: number; sent: number }[]>`
        select extract(epoch from max(sent_at) - min(sent_at))::float8 as seconds, count(*)::int as sent
          from deliveries where broadcast_id = ${id} and status = 'sent'`;
      const atSink = (await sink.count()).count;
      const logs = server.getLogs().flatMap((l) => {
        try {
          return [JSON.parse(String(l.message)) as Record<string, unknown>];
        } catch {
          return [];
        }
      });
      const slices = logs.filter((l) => l.msg === 'delivery slice' && l.broadcastId === id);
      const fanned = logs.find((l) => l.msg === 'delivery fanned out');
      return {
        answeredMs,
        answeredFreezing: answer.status === 'freezing',
        firstMs,
        doneMs,
        rate: n / Math.max(span?.seconds ?? 0, 0.001),
        fannedOut: Number(fanned?.messages ?? 0),
        invocations: slices.filter((s) => Number(s.sent) > 0).length,
        extraAtSink: atSink - n,
        exactlyOnce: atSink === n && span?.sent === n,
      };
    } finally {
      await server.close().catch(() => {});
    }
  } finally {
    await sql.end();
    await db.drop();
  }
}

export async function benchQueue(quick: boolean): Promise<BenchResult> {
  const n = quick ? 2_000 : 10_000;
  const notes: string[] = [`Load average (1 min) at the start: ${loadAverage().toFixed(1)}.`];
  const sink = await startSinkProcess();
  const build = await buildWorker();
  try {
    const paced = await drainThroughQueue(build, sink, PACED, n);
    const unpaced = await drainThroughQueue(build, sink, UNPACED, n);
    const node = await deliveryRun({ n, mail: { SMTP_URL: sink.url }, env: { DELIVERY_BATCH: '100' } });
    const count = n.toLocaleString('en');
    const rows: BenchRow[] = [
      { figure: 'the send request (answers 202 `freezing`)', value: paced.answeredMs, unit: 'ms' },
      {
        figure: 'send → first message at the sink (before: the next cron tick, up to 60 s)',
        value: paced.firstMs / 1000,
        unit: 's',
        target: 'at once (no cron tick)',
        met: paced.answeredFreezing && paced.firstMs < 10_000,
        headline: true,
      },
      {
        figure: `paced (${PACED.DELIVERY_RATE} msg/s an invocation): send → the broadcast of ${count} sent`,
        value: paced.doneMs / 1000,
        unit: 's',
        headline: true,
      },
      { figure: '… first to last marked sent', value: paced.rate, unit: 'msg/s' },
      { figure: '… queue messages the send fanned out', value: paced.fannedOut, unit: 'messages' },
      { figure: '… consumer invocations that sent', value: paced.invocations, unit: 'invocations' },
      {
        figure: '… messages at the sink minus recipients (exactly once)',
        value: paced.extraAtSink,
        unit: 'messages',
        target: '0',
        met: paced.exactlyOnce,
      },
      {
        figure: `unpaced, one invocation: send → the broadcast of ${count} sent`,
        value: unpaced.doneMs / 1000,
        unit: 's',
      },
      {
        figure: 'unpaced, one invocation: first to last marked sent',
        value: unpaced.rate,
        unit: 'msg/s',
        headline: true,
      },
      {
        figure: '… messages at the sink minus recipients (exactly once)',
        value: unpaced.extraAtSink,
        unit: 'messages',
        target: '0',
        met: unpaced.exactlyOnce,
      },
      { figure: `baseline: one Node worker, the same ${count}`, value: node.messagesPerSecond, unit: 'msg/s' },
      {
        figure: 'ratio unpaced workerd invocation / Node worker',
        value: unpaced.rate / node.messagesPerSecond,
        unit: '×',
      },
    ];
    notes.push(
      `workerd runs the \`wrangler deploy --dry-run\` bundle in wrangler's local runtime (Miniflare's queue in place of Cloudflare Queues), QUEUE_SLICE_SECONDS=${PACED.QUEUE_SLICE_SECONDS}, QUEUE_FANOUT=${PACED.QUEUE_FANOUT}, DELIVERY_BATCH=${PACED.DELIVERY_BATCH}, at most 4 SMTP connections an invocation; the fan-out plans rate × slice rows a message. The Hyperdrive binding is a plain connection string locally, so every invocation opens its own connections.`,
      `Paced, the ${count} recipients are ${paced.fannedOut} queue messages. Miniflare's local queue runs one consumer invocation at a time (it does not implement max_concurrency), so the paced drain here is the sum of the slices; on Cloudflare, with max_concurrency = 10 (wrangler.toml), they run side by side.`,
      `Node baseline: one \`npm run worker\` process (bench/delivery-run.ts), DELIVERY_BATCH=100, defaults otherwise, no rate limit.`,
      `Load average (1 min) at the end: ${loadAverage().toFixed(1)}.`,
    );
    return { name: 'queue', rows, notes };
  } finally {
    await build.remove();
    await sink.stop();
  }
}
