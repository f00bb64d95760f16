/**
 * One broadcast, end to end, as production runs it: N subscribers on a fresh PostgreSQL database, the
 * send accepted (the audience frozen), and K delivery workers (`npm run worker`, each its own process)
 * sending it to a transport in yet another process. Used by bench/delivery.ts, providers.ts, scale-out.ts.
 *
 * The rate is N over the span between the first and the last row marked sent (`sent_at`), so worker
 * start-up and the freeze are not in it. CPU is what the kernel counted for the workers and for the
 * database's backends while the broadcast went out.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { templates } from '../emails/index.js';
import { parseConfig } from '../src/config.js';
import { createBroadcast, type DeliveryCounts, deliveryCounts, sendBroadcast } from '../src/core/broadcasts.js';
import { connectPostgres } from '../src/db/client.js';
import { benchDatabase, seedSubscribers } from './support/postgres.js';
import { backendCpuSeconds, cpuBetween, procStats } from './support/proc.js';
import { BENCH_SECRET } from './support/server.js';
import { BENCH_MAIL_FROM, BENCH_PUBLIC_URL, startWorker, type WorkerProcess } from './support/worker.js';

export interface RunOptions {
  n: number;
  workers?: number;
  mail: { SMTP_URL: string } | { MAIL_DSN: string };
  /** DELIVERY_BATCH, DELIVERY_CONCURRENCY, … for every worker. */
  env?: Record<string, string>;
  /** Memory samples of the first worker ([ms, rss, heapUsed, heapTotal, external] bytes). */
  probe?: boolean;
  /** `--cpu-prof` of the first worker into this directory. */
  profileDir?: string;
}

export interface RunResult {
  n: number;
  workers: number;
  /** The send call: the audience frozen into chunks (core/audience.ts), in seconds. */
  freezeSeconds: number;
  seconds: number;
  messagesPerSecond: number;
  counts: DeliveryCounts;
  /** Per worker, while the broadcast went out. */
  workerCpuSeconds: number[];
  /** Per worker, the kernel's peak RSS over its whole life (VmHWM). */
  workerPeakRssMb: number[];
  backendCpuSeconds: number;
  samples?: number[][];
}

export async function deliveryRun(opts: RunOptions): Promise<RunResult> {
  const n = opts.n;
  const k = opts.workers ?? 1;
  const db = await benchDatabase(`delivery${n}x${k}`);
  const dbName = new URL(db.url).pathname.slice(1);
  const sql = postgres(db.url, { max: 1, onnotice: () => {} });
  const probeDir = opts.probe ? await mkdtemp(join(tmpdir(), 'quire-probe-')) : undefined;
  const workers: WorkerProcess[] = [];
  const database = await connectPostgres({ url: db.url, max: 2, timeoutMs: 600_000 });
  try {
    await seedSubscribers(db.url, n);
    // As a list that has been there a while: autovacuum's first pass over the new rows is not the send's.
    await sql.unsafe('vacuum analyze');
    const config = parseConfig({
      NODE_ENV: 'test',
      DATABASE_URL: db.url,
      SECRET_KEY: BENCH_SECRET,
      PUBLIC_URL: BENCH_PUBLIC_URL,
      MAIL_FROM: BENCH_MAIL_FROM,
      LOG_LEVEL: 'silent',
    });
    // No background runner here: the send call freezes the audience before it returns.
    const core = { db: database.db, config, secret: BENCH_SECRET, now: () => new Date() };
    const t = templates['release-announcement']!;
    const b = await createBroadcast(core, {
      template: t.name,
      topic: 'release',
      subject: 'How Teams Think Before They Build is out',
      preheader: 'The book is available today.',
      props: t.previewProps,
    });

    for (let i = 0; i < k; i++)
      workers.push(
        startWorker({
          databaseUrl: db.url,
          mail: opts.mail,
          ...(opts.env ? { env: opts.env } : {}),
          ...(i === 0 && probeDir ? { probeFile: join(probeDir, 'samples.jsonl') } : {}),
          ...(i === 0 && opts.profileDir ? { profileDir: opts.profileDir } : {}),
        }),
      );
    await Promise.all(workers.map((w) => w.ready));
    const cpuBefore = workers.map((w) => procStats(w.pid).cpuSeconds);
    const backendsBefore = await backendCpuSeconds(sql, dbName);

    const frozeAt = performance.now();
    await sendBroadcast(core, b.id);
    const freezeSeconds = (performance.now() - frozeAt) / 1000;
    const deadline = Date.now() + Math.max(300_000, n * 5);
    for (;;) {
      const [row] = await sql<{ status: string }[]>`select status from broadcasts where id = ${b.id}`;
      if (row?.status === 'sent') break;
      if (Date.now() > deadline) throw new Error(`broadcast of ${n} not sent in time (${row?.status})`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const workerCpuSeconds = workers.map((w, i) => procStats(w.pid).cpuSeconds - cpuBefore[i]!);
    const workerPeakRssMb = workers.map((w) => procStats(w.pid).peakRssMb);
    const backendCpu = cpuBetween(backendsBefore, await backendCpuSeconds(sql, dbName));
    const [span] = await sql<{ seconds: number }[]>`
      select extract(epoch from max(sent_at) - min(sent_at))::float8 as seconds
        from deliveries where broadcast_id = ${b.id} and status = 'sent'`;
    const counts = await deliveryCounts(database.db, b.id);
    await Promise.all(workers.map((w) => w.stop()));
    const seconds = Math.max(span?.seconds ?? 0, 0.001);
    const samples = probeDir
      ? (await readFile(join(probeDir, 'samples.jsonl'), 'utf8'))
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as number[])
      : undefined;
    return {
      n,
      workers: k,
      freezeSeconds,
      seconds,
      messagesPerSecond: n / seconds,
      counts,
      workerCpuSeconds,
      workerPeakRssMb,
      backendCpuSeconds: backendCpu,
      ...(samples ? { samples } : {}),
    };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await database.close();
    await sql.end();
    await db.drop();
    if (probeDir) await rm(probeDir, { recursive: true, force: true });
  }
}
