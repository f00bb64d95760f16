/**
 * Broadcast delivery through HTTP mail providers, end to end (first to last row marked sent), beside the
 * SMTP figure of the same run:
 *  - the Postmark stand-in (500 messages a request), with the CPU each process spent per message, to say
 *    which of the database, the worker and the stand-in is the limit;
 *  - the Resend stand-in held to 2 requests/s (its default rate): the send must finish at the pace the
 *    provider allows (100 messages a request ≈ 200 msg/s), with no message failed or repeated.
 * Each stand-in runs in its own process (tests/stand-ins/*.ts), as a provider would.
 * `npm run bench -- providers [--quick]`
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { deliveryRun } from './delivery-run.js';
import { loadAverage, procStats } from './support/proc.js';
import type { BenchResult } from './support/report.js';
import { startSinkProcess } from './support/sink.js';

/** One request carries a whole unit: claims of four requests' worth, four requests in flight. */
const BATCH_ENV = { DELIVERY_BATCH: '2000', DELIVERY_CONCURRENCY: '4' };

interface StandInProcess {
  url: string;
  pid: number;
  recipients(): Promise<Map<string, number>>;
  stop(): Promise<void>;
}

async function startStandIn(script: string, args: string[]): Promise<StandInProcess> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
  const { url } = JSON.parse(line) as { url: string };
  return {
    url,
    pid: child.pid!,
    async recipients() {
      const counts = (await (await fetch(`${url}/_stand-in/recipients`)).json()) as Record<string, number>;
      return new Map(Object.entries(counts));
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

/** Recipients sent more than once, and missing ones. */
async function exactlyOnce(standIn: StandInProcess, n: number): Promise<{ repeated: number; missing: number }> {
  const counts = await standIn.recipients();
  let repeated = 0;
  for (const c of counts.values()) repeated += c - 1;
  return { repeated, missing: n - counts.size };
}

export async function benchProviders(quick: boolean): Promise<BenchResult> {
  const n = quick ? 5_000 : 50_000;
  const rows: BenchResult['rows'] = [];
  const notes: string[] = [];

  const us = (cpuSeconds: number) => (cpuSeconds * 1e6) / n;
  notes.push(`Load average (1 min) at the start: ${loadAverage().toFixed(1)}.`);

  const sink = await startSinkProcess();
  try {
    const smtp = await deliveryRun({
      n,
      mail: { SMTP_URL: sink.url },
      env: { DELIVERY_CONCURRENCY: '16', DELIVERY_BATCH: '400' },
    });
    rows.push({
      figure: `SMTP to a local sink, ${n.toLocaleString('en')} subscribers`,
      value: smtp.messagesPerSecond,
      unit: 'msg/s',
    });
  } finally {
    await sink.stop();
  }

  const postmark = await startStandIn('tests/stand-ins/postmark.ts', ['--server-token', 'bench-token']);
  try {
    const standInCpu = procStats(postmark.pid).cpuSeconds;
    const run = await deliveryRun({
      n,
      mail: { MAIL_DSN: `postmark+api://bench-token@${new URL(postmark.url).host}?message_stream=broadcast` },
      env: BATCH_ENV,
    });
    const standInUs = us(procStats(postmark.pid).cpuSeconds - standInCpu);
    const once = await exactlyOnce(postmark, n);
    const worker = us(run.workerCpuSeconds[0]!);
    const backends = us(run.backendCpuSeconds);
    const spanUs = (run.seconds * 1e6) / n;
    rows.push(
      {
        figure: `Postmark stand-in (500 a request), ${n.toLocaleString('en')} subscribers`,
        value: run.messagesPerSecond,
        unit: 'msg/s',
        target: '≥ 10,000 msg/s',
        met: run.messagesPerSecond >= 10_000,
        headline: true,
      },
      { figure: 'Postmark / SMTP, same run', value: run.messagesPerSecond / rows[0]!.value, unit: '×' },
      { figure: 'CPU per message: quire worker', value: worker, unit: 'µs' },
      { figure: 'CPU per message: PostgreSQL backends', value: backends, unit: 'µs' },
      { figure: 'CPU per message: the Postmark stand-in', value: standInUs, unit: 'µs' },
      { figure: 'wall time per message (the span / recipients)', value: spanUs, unit: 'µs' },
      {
        figure: `peak RSS of the worker (Postmark, ${n.toLocaleString('en')})`,
        value: run.workerPeakRssMb[0]!,
        unit: 'MiB',
      },
      {
        figure: 'Postmark: recipients repeated or missing',
        value: once.repeated + once.missing,
        unit: 'messages',
        target: '0',
        met: once.repeated + once.missing === 0,
      },
    );
    const [limit] = [
      ['the quire worker', worker],
      ['PostgreSQL', backends],
      ['the stand-in', standInUs],
    ].sort((a, b) => (b[1] as number) - (a[1] as number));
    notes.push(
      `Postmark: of the wall time per message (${spanUs.toFixed(0)} µs on 2 cores), the worker used ${worker.toFixed(0)} µs of CPU, PostgreSQL ${backends.toFixed(0)} µs and the stand-in ${standInUs.toFixed(0)} µs: the busiest is ${limit![0]}.`,
    );
  } finally {
    await postmark.stop();
  }

  const resendN = quick ? 1_000 : 6_000;
  const resend = await startStandIn('tests/stand-ins/resend.ts', ['--api-key', 're_bench_key', '--rate', '2']);
  try {
    const run = await deliveryRun({
      n: resendN,
      mail: { MAIL_DSN: `resend+api://re_bench_key@${new URL(resend.url).host}` },
      env: { DELIVERY_BATCH: '500', DELIVERY_CONCURRENCY: '4' },
    });
    const once = await exactlyOnce(resend, resendN);
    const failed = Number(run.counts.failed ?? 0);
    rows.push(
      {
        figure: `Resend stand-in held to 2 requests/s, ${resendN.toLocaleString('en')} subscribers`,
        value: run.messagesPerSecond,
        unit: 'msg/s',
        target: '≈ 200 msg/s (the provider’s pace)',
        met: run.messagesPerSecond >= 150 && run.messagesPerSecond <= 210,
        headline: true,
      },
      {
        figure: 'Resend: messages failed, repeated or missing',
        value: failed + once.repeated + once.missing,
        unit: 'messages',
        target: '0',
        met: failed + once.repeated + once.missing === 0,
      },
    );
  } finally {
    await resend.stop();
  }
  notes.push(
    `Each stand-in runs in its own process on loopback; workers as \`npm run worker\` in theirs (bench/delivery-run.ts). Postmark: DELIVERY_BATCH=${BATCH_ENV.DELIVERY_BATCH}, DELIVERY_CONCURRENCY=${BATCH_ENV.DELIVERY_CONCURRENCY} (four requests of 500 in flight); Resend: 500 and 4. Rates run from the first row marked sent to the last.`,
    `Load average (1 min) at the end: ${loadAverage().toFixed(1)}.`,
  );
  return { name: 'providers', rows, notes };
}
