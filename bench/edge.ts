/**
 * The edge runtime against Node, in one run: the Worker's deploy bundle size, and signup latency served
 * by workerd (the deploy bundle, through wrangler's local runtime, postgres.js via the Hyperdrive
 * binding with a client per request) vs `src/runtime/node/main.ts` (pooled postgres.js), each with its
 * own fresh database on the same PostgreSQL server and the same SMTP sink. Both servers are separate processes;
 * the client is this process's fetch over loopback, one request at a time, then 8 at a time.
 * `npm run bench -- edge [--quick]`
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { buildWorker, startWorkerd } from '../tests/workerd/workerd.js';
import { benchDatabase } from './support/postgres.js';
import type { BenchResult } from './support/report.js';
import { startSinkProcess } from './support/sink.js';

const SECRET = 'bench-secret-key-that-is-long-enough-0123456789';
const ADMIN = 'bench-admin-token-0123456789';

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

const commonEnv = (smtpUrl: string) => ({
  NODE_ENV: 'production',
  PUBLIC_URL: 'http://quire.bench',
  SMTP_URL: smtpUrl,
  MAIL_FROM: 'How Teams Think Before They Build <updates@quire.bench>',
  RATE_LIMIT_IP: '10000000',
  RATE_LIMIT_ADDRESS: '1000',
  DELIVERY_RATE: '100000',
  TRUST_PROXY: 'true',
  LOG_LEVEL: 'warn',
});

async function startNode(databaseUrl: string, smtpUrl: string): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const env = {
    ...process.env,
    ...commonEnv(smtpUrl),
    DATABASE_URL: databaseUrl,
    SECRET_KEY: SECRET,
    ADMIN_TOKEN: ADMIN,
    PORT: String(port),
  };
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/runtime/node/main.ts'], {
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (
      (await fetch(`${url}/readyz`)
        .then((r) => r.ok)
        .catch(() => false)) === true
    )
      return { url, child };
    if (Date.now() > deadline || child.exitCode !== null) throw new Error('the Node server did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
}

let seq = 0;
const signup = async (base: string, tag: string) => {
  const started = performance.now();
  const res = await fetch(`${base}/v1/subscriptions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'cf-connecting-ip': `198.51.100.${seq % 250}` },
    body: JSON.stringify({ email: `${tag}.${process.pid}.${seq++}@example.com`, consent: true }),
  });
  await res.arrayBuffer();
  if (res.status !== 202) throw new Error(`signup answered ${res.status}`);
  return performance.now() - started;
};

const probe = async (base: string, path: string) => {
  const started = performance.now();
  const res = await fetch(`${base}${path}`);
  await res.arrayBuffer();
  return performance.now() - started;
};

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

interface Latency {
  p50: number;
  p95: number;
  healthP50: number;
  readyP50: number;
  perSecond: number;
}

async function measure(base: string, tag: string, n: number): Promise<Latency> {
  for (let i = 0; i < 20; i++) await signup(base, `${tag}-warm`);
  const healthTimes: number[] = [];
  for (let i = 0; i < 50; i++) healthTimes.push(await probe(base, '/healthz'));
  const readyTimes: number[] = [];
  for (let i = 0; i < 50; i++) readyTimes.push(await probe(base, '/readyz'));
  const times: number[] = [];
  for (let i = 0; i < n; i++) times.push(await signup(base, tag));
  // Eight clients at once: signups per second.
  const started = performance.now();
  let left = n;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (left-- > 0) await signup(base, `${tag}-c`);
    }),
  );
  const perSecond = n / ((performance.now() - started) / 1000);
  return {
    p50: quantile(times, 0.5),
    p95: quantile(times, 0.95),
    healthP50: quantile(healthTimes, 0.5),
    readyP50: quantile(readyTimes, 0.5),
    perSecond,
  };
}

export async function benchEdge(quick: boolean): Promise<BenchResult> {
  const n = quick ? 100 : 500;
  const build = await buildWorker();
  const sink = await startSinkProcess();
  const nodeDb = await benchDatabase('edge_node');
  const workerDb = await benchDatabase('edge_workerd');
  let node: ChildProcess | undefined;
  let workerd: Awaited<ReturnType<typeof startWorkerd>> | undefined;
  try {
    const nodeServer = await startNode(nodeDb.url, sink.url);
    node = nodeServer.child;
    workerd = await startWorkerd({
      build,
      databaseUrl: workerDb.url,
      vars: { ...commonEnv(sink.url), PUBLIC_URL: 'http://quire.bench' },
      secrets: { SECRET_KEY: SECRET, ADMIN_TOKEN: ADMIN },
    });
    const workerBase = workerd.url.toString().replace(/\/$/, '');
    const onNode = await measure(nodeServer.url, 'node', n);
    const onWorkerd = await measure(workerBase, 'workerd', n);
    // Every confirmation mail was sent (Node: its delivery loop; workerd: each signup's waitUntil).
    await sink.waitFor(2 * (n + n + 20), 60_000).catch(() => {});
    const mails = (await sink.count()).count;

    const MiB = 1024 * 1024;
    return {
      name: 'edge',
      rows: [
        { figure: 'Worker bundle (worker.js)', value: build.bytes / 1024, unit: 'KiB' },
        {
          figure: 'Worker bundle gzipped',
          value: build.gzipBytes / 1024,
          unit: 'KiB',
          target: '< 1,024 KiB (limit 3 MiB)',
          met: build.gzipBytes < MiB,
        },
        { figure: 'signup p50, Node (pooled postgres.js)', value: onNode.p50, unit: 'ms' },
        { figure: 'signup p50, workerd (client per request via Hyperdrive binding)', value: onWorkerd.p50, unit: 'ms' },
        { figure: 'signup p95, Node', value: onNode.p95, unit: 'ms' },
        { figure: 'signup p95, workerd', value: onWorkerd.p95, unit: 'ms' },
        { figure: 'signup p50 ratio workerd / Node', value: onWorkerd.p50 / onNode.p50, unit: '×' },
        { figure: '/healthz p50, Node (no database)', value: onNode.healthP50, unit: 'ms' },
        { figure: '/healthz p50, workerd (no database)', value: onWorkerd.healthP50, unit: 'ms' },
        { figure: '/readyz p50, Node (one query, pooled connection)', value: onNode.readyP50, unit: 'ms' },
        { figure: '/readyz p50, workerd (one query, new connection)', value: onWorkerd.readyP50, unit: 'ms' },
        { figure: 'signups/s, 8 clients, Node', value: onNode.perSecond, unit: '/s' },
        { figure: 'signups/s, 8 clients, workerd', value: onWorkerd.perSecond, unit: '/s' },
        { figure: 'confirmation mails received (both servers)', value: mails, unit: 'mails' },
      ],
      notes: [
        `${n} sequential signups per server after 20 warm-up ones, then ${n} more from 8 concurrent clients; fresh address each time, one PostgreSQL server, one SMTP sink.`,
        "workerd runs the `wrangler deploy --dry-run` bundle in wrangler's local runtime (its dev proxy in front). Locally the Hyperdrive binding is a plain connection string, so each Worker request opens a new PostgreSQL connection; on Cloudflare, Hyperdrive keeps pooled connections near the database instead, and the network distances differ — these figures compare runtimes on one machine, not production latency.",
      ],
    };
  } finally {
    await workerd?.server.close().catch(() => {});
    node?.kill('SIGTERM');
    if (node && node.exitCode === null) await new Promise((r) => node!.once('exit', r));
    await sink.stop();
    await nodeDb.drop();
    await workerDb.drop();
    await build.remove();
  }
}
