/**
 * Scale-out: one broadcast sent by 1, 2 and 4 delivery worker processes against one PostgreSQL, and the
 * database alone doing the same claim + settle statements under pgbench with 1, 2 and 4 clients, so the
 * curve can be read against what the database could take and against the machine's cores.
 * `npm run bench -- scale-out [--quick]`
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { templates } from '../emails/index.js';
import { parseConfig } from '../src/config.js';
import { createBroadcast, sendBroadcast } from '../src/core/broadcasts.js';
import { connectPostgres } from '../src/db/client.js';
import { deliveryRun, type RunResult } from './delivery-run.js';
import { benchDatabase, seedSubscribers } from './support/postgres.js';
import { loadAverage, procStats } from './support/proc.js';
import type { BenchResult, BenchRow } from './support/report.js';
import { BENCH_SECRET } from './support/server.js';
import { startSinkProcess } from './support/sink.js';

const WORKER_ENV = { DELIVERY_CONCURRENCY: '16', DELIVERY_BATCH: '400' };
const BATCH = 400;
const GROUP = 128;

/** What one worker's batch asks of the database (src/delivery/outbox-store.ts): claim from the audience, then settle in groups. */
const script = (b: string) => `
with c as (
  select a.id, a.subscriber_ids[1:${BATCH}] as ids, cardinality(a.subscriber_ids) > ${BATCH} as more
    from broadcast_audience a
   where a.broadcast_id = '${b}' and exists (select 1 from broadcasts x where x.id = '${b}' and x.status = 'sending')
   order by a.id limit 1 for update skip locked),
rest as (update broadcast_audience a set subscriber_ids = a.subscriber_ids[${BATCH + 1}:] from c where a.id = c.id and c.more),
gone as (delete from broadcast_audience a using c where a.id = c.id and not c.more)
insert into deliveries (kind, broadcast_id, subscriber_id, "to", status, attempts, lease_until, next_attempt_at, created_at)
select 'broadcast', '${b}', u.id, s.email, 'sending', 1, now() + interval '5 min', now(), now()
  from c cross join unnest(c.ids) as u(id) left join subscribers s on s.id = u.id;
${Array.from(
  { length: Math.ceil(BATCH / GROUP) },
  () => `update deliveries d set status = 'sent', message_id = '<' || d.id || '@example.com>', provider_message_id = null,
       send_key = null, sent_at = now(), lease_until = null, last_error = null
 where d.id in (select id from deliveries where broadcast_id = '${b}' and status = 'sending' and kind = 'broadcast'
                limit ${GROUP} for update skip locked);`,
).join('\n')}
`;

/** pgbench with `clients` clients doing `batches` batches in all; rows claimed and settled per second. */
async function pgbenchRate(url: string, file: string, clients: number, batches: number): Promise<number> {
  const u = new URL(url);
  const { stdout } = await promisify(execFile)(
    'pgbench',
    ['-n', '-f', file, '-c', String(clients), '-j', String(clients), '-t', String(Math.ceil(batches / clients))],
    {
      env: {
        ...process.env,
        PGHOST: u.hostname,
        PGPORT: u.port || '5432',
        PGUSER: u.username,
        PGDATABASE: u.pathname.slice(1),
      },
    },
  );
  const tps = Number(/tps = ([\d.]+)/.exec(stdout)?.[1] ?? 0);
  return tps * BATCH;
}

async function databaseAlone(quick: boolean, rows: BenchRow[]): Promise<number[]> {
  const clients = [1, 2, 4];
  const perRun = quick ? 40_000 : 120_000;
  const db = await benchDatabase('scaleout_pgbench');
  const dir = await mkdtemp(join(tmpdir(), 'quire-pgbench-'));
  const database = await connectPostgres({ url: db.url, max: 2, timeoutMs: 600_000 });
  try {
    await seedSubscribers(db.url, perRun * clients.length);
    const config = parseConfig({
      NODE_ENV: 'test',
      DATABASE_URL: db.url,
      SECRET_KEY: BENCH_SECRET,
      PUBLIC_URL: 'https://news.example.com',
      MAIL_FROM: 'Jane <news@example.com>',
    });
    const core = { db: database.db, config, secret: BENCH_SECRET, now: () => new Date() };
    const t = templates['release-announcement']!;
    const b = await createBroadcast(core, { template: t.name, topic: 'release', subject: 's', props: t.previewProps });
    await sendBroadcast(core, b.id);
    const sql = postgres(db.url, { max: 1, onnotice: () => {} });
    await sql.unsafe('vacuum analyze');
    await sql.end();
    const file = join(dir, 'claim-settle.sql');
    await writeFile(file, script(b.id));
    const rates: number[] = [];
    for (const c of clients) rates.push(await pgbenchRate(db.url, file, c, perRun / BATCH));
    for (const [i, c] of clients.entries())
      rows.push({
        figure: `the database alone: pgbench of a worker's claim + settle statements, ${c} client${c > 1 ? 's' : ''}`,
        value: rates[i]!,
        unit: 'rows/s',
      });
    return rates;
  } finally {
    await database.close();
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  }
}

export async function benchScaleOut(quick: boolean): Promise<BenchResult> {
  const n = quick ? 20_000 : 100_000;
  const rows: BenchRow[] = [];
  const notes: string[] = [`Load average (1 min) at the start: ${loadAverage().toFixed(1)}.`];
  const sink = await startSinkProcess();
  const runs: RunResult[] = [];
  const sinkUs: number[] = [];
  try {
    for (const workers of [1, 2, 4]) {
      const before = procStats(sink.pid).cpuSeconds;
      runs.push(await deliveryRun({ n, workers, mail: { SMTP_URL: sink.url }, env: WORKER_ENV }));
      sinkUs.push(((procStats(sink.pid).cpuSeconds - before) * 1e6) / n);
    }
  } finally {
    await sink.stop();
  }
  const one = runs[0]!.messagesPerSecond;
  for (const [i, r] of runs.entries()) {
    const workerUs = (r.workerCpuSeconds.reduce((a, b) => a + b, 0) * 1e6) / n;
    const pgUs = (r.backendCpuSeconds * 1e6) / n;
    rows.push(
      {
        figure: `${r.workers} worker process${r.workers > 1 ? 'es' : ''}, ${n.toLocaleString('en')} recipients over SMTP`,
        value: r.messagesPerSecond,
        unit: 'msg/s',
        ...(r.workers > 1 ? {} : { headline: true }),
      },
      ...(r.workers > 1
        ? [{ figure: `${r.workers} workers / 1`, value: r.messagesPerSecond / one, unit: '×', headline: true }]
        : []),
      {
        figure: `… CPU per message: workers ${workerUs.toFixed(0)} µs + PostgreSQL ${pgUs.toFixed(0)} µs + sink ${sinkUs[i]!.toFixed(0)} µs`,
        value: workerUs + pgUs + sinkUs[i]!,
        unit: 'µs',
      },
    );
  }
  const alone = await databaseAlone(quick, rows);
  const cpuPerMessage = rows.filter((r) => r.figure.startsWith('… CPU')).map((r) => r.value);
  notes.push(
    `The machine has 2 cores for the workers, PostgreSQL and the sink together: at ${cpuPerMessage[0]!.toFixed(0)} µs of CPU a message, 2 cores carry at most ${Math.round(2e6 / cpuPerMessage[0]!).toLocaleString('en')} msg/s whatever the number of workers. The database alone did the same claim + settle statements at ${Math.round(alone[0]!).toLocaleString('en')}–${Math.round(Math.max(...alone)).toLocaleString('en')} rows/s (1–4 pgbench clients), with the 2 cores to itself.`,
    `Workers: \`npm run worker\` processes (bench/delivery-run.ts), DELIVERY_CONCURRENCY=${WORKER_ENV.DELIVERY_CONCURRENCY}, DELIVERY_BATCH=${WORKER_ENV.DELIVERY_BATCH}; pgbench: ${BATCH} rows claimed from the frozen audience (one statement) and settled in groups of ${GROUP} (one statement each) per transaction, as src/delivery/outbox-store.ts does; each statement commits on its own, as the worker's do.`,
    `Load average (1 min) at the end: ${loadAverage().toFixed(1)}.`,
  );
  return { name: 'scale-out', rows, notes };
}
