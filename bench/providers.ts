/**
 * Broadcast delivery through HTTP mail providers, end to end (send call → every row `sent`), beside the
 * SMTP figure of the same run:
 *  - the Postmark stand-in (500 messages a request): the database and our own code are the limit;
 *  - the Resend stand-in held to 2 requests/s (its default rate): the send must finish at the pace the
 *    provider allows (100 messages a request ≈ 200 msg/s), with no message failed or repeated.
 * Each stand-in runs in its own process (tests/stand-ins/*.ts), as a provider would.
 * `npm run bench -- providers [--quick]`
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { BenchResult } from './support/report.js';
import { startSinkProcess } from './support/sink.js';

interface RunResult {
  n: number;
  seconds: number;
  messagesPerSecond: number;
  peakRssMb: number;
  counts: Record<string, number>;
}

function engineRun(n: number, transport: { smtp: string } | { dsn: string }): RunResult {
  const flag = 'smtp' in transport ? ['--smtp', transport.smtp] : ['--dsn', transport.dsn];
  const out = execFileSync(process.execPath, ['--import', 'tsx', 'bench/delivery-run.ts', '--n', String(n), ...flag], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
    // One request carries a whole batch: claim as many rows as the provider takes in one call.
    env: { ...process.env, BENCH_BATCH: '500', BENCH_CONCURRENCY: '4' },
  });
  return JSON.parse(out.trim().split('\n').pop()!) as RunResult;
}

interface StandInProcess {
  url: string;
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

  const sink = await startSinkProcess();
  try {
    const smtp = engineRun(n, { smtp: sink.url });
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
    const run = engineRun(n, {
      dsn: `postmark+api://bench-token@${new URL(postmark.url).host}?message_stream=broadcast`,
    });
    const once = await exactlyOnce(postmark, n);
    rows.push(
      {
        figure: `Postmark stand-in (500 a request), ${n.toLocaleString('en')} subscribers`,
        value: run.messagesPerSecond,
        unit: 'msg/s',
        target: '≥ 5,000 msg/s',
        met: run.messagesPerSecond >= 5000,
        headline: true,
      },
      { figure: 'Postmark / SMTP, same run', value: run.messagesPerSecond / rows[0]!.value, unit: '×' },
      { figure: `peak RSS of the worker (Postmark, ${n.toLocaleString('en')})`, value: run.peakRssMb, unit: 'MiB' },
      {
        figure: 'Postmark: recipients repeated or missing',
        value: once.repeated + once.missing,
        unit: 'messages',
        target: '0',
        met: once.repeated + once.missing === 0,
      },
    );
  } finally {
    await postmark.stop();
  }

  const resendN = quick ? 1_000 : 6_000;
  const resend = await startStandIn('tests/stand-ins/resend.ts', ['--api-key', 're_bench_key', '--rate', '2']);
  try {
    const run = engineRun(resendN, { dsn: `resend+api://re_bench_key@${new URL(resend.url).host}` });
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
  notes.push('Each stand-in runs in its own process on loopback; the worker claims 500 rows a batch with 4 lanes.');
  return { name: 'providers', rows, notes };
}
