/**
 * Broadcast delivery over SMTP, end to end, against baselines measured in the same run:
 *  - the wire's ceiling with nodemailer: `SMTPConnection.send` of the same pre-built message over 8
 *    connections to the same sink (the target is a share of it);
 *  - the React Email docs' way (render and sendMail per recipient) and nodemailer's pooled `sendMail` of one
 *    pre-rendered message (the earlier targets' baselines);
 *  - CPU per message of every process involved (worker, database backends, sink; the baseline's client);
 *  - memory of a worker from 10k to 1M recipients beside a bare `node -e`, plotted in
 *    docs/delivery-memory.svg; and a `--cpu-prof` of the worker, summarised.
 * `npm run bench -- delivery [--quick]`
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import nodemailer from 'nodemailer';
import { greetingFor } from '../emails/_components/broadcast-context.js';
import { templates } from '../emails/index.js';
import { renderEmail } from '../src/mail/render.js';
import { deliveryRun, type RunResult } from './delivery-run.js';
import { loadAverage, procStats } from './support/proc.js';
import { summariseProfile } from './support/profile.js';
import { rawSmtpBaseline, sampleBroadcastMessage } from './support/raw-smtp.js';
import type { BenchResult, BenchRow } from './support/report.js';
import { type SinkProcess, startSinkProcess } from './support/sink.js';
import { lineChart } from './support/svg.js';

const BOOK = {
  preheader: 'The book is available today.',
  lang: 'en',
  bookTitle: 'How Teams Think Before They Build',
  postalAddress: 'Jane Author, 1 Example Street',
};

/** The worker as a launch would run it: many lanes, claims of a few hundred rows. */
const WORKER_ENV = { DELIVERY_CONCURRENCY: '16', DELIVERY_BATCH: '400' };

/** Send `n` messages over a pooled nodemailer transport, 16 at a time; `make(i)` builds message i. */
async function sendAll(
  sink: SinkProcess,
  n: number,
  make: (i: number) => Promise<{ html: string; text: string }>,
): Promise<number> {
  const transport = nodemailer.createTransport({
    pool: true,
    host: '127.0.0.1',
    port: Number(new URL(sink.url).port),
    maxConnections: 16,
    secure: false,
    ignoreTLS: true,
  });
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < n) {
        const i = next++;
        const { html, text } = await make(i);
        await transport.sendMail({
          from: 'Jane Author <news@example.com>',
          to: `reader${i}@example.com`,
          subject: 'How Teams Think Before They Build is out',
          html,
          text,
        });
      }
    }),
  );
  const rate = n / ((performance.now() - started) / 1000);
  transport.close();
  return rate;
}

const render = (i: number | null) => {
  const t = templates['release-announcement']!;
  return renderEmail(
    t.element(t.previewProps, {
      ...BOOK,
      recipient: {
        greeting: greetingFor(i === null ? null : `Reader ${i}`),
        unsubscribeUrl: `https://news.example.com/unsubscribe/${i}`,
        preferencesUrl: `https://news.example.com/preferences/${i}`,
      },
    }),
  );
};

/** Peak RSS of a process that does nothing: the floor a worker's figure stands on. */
async function idlePeakMb(args: string[]): Promise<number> {
  const { stdout } = await promisify(execFile)(process.execPath, [
    ...args,
    '-e',
    "setTimeout(() => process.stdout.write(/VmHWM:\\s+(\\d+)/.exec(require('fs').readFileSync('/proc/self/status','utf8'))[1]), 500)",
  ]);
  return Number(stdout) / 1024;
}

const perMessageUs = (cpuSeconds: number, n: number) => (cpuSeconds * 1e6) / n;

export async function benchDelivery(quick: boolean): Promise<BenchResult> {
  const rows: BenchRow[] = [];
  const notes: string[] = [`Load average (1 min) at the start: ${loadAverage().toFixed(1)}.`];
  const sink = await startSinkProcess();
  try {
    const n = quick ? 5_000 : 50_000;
    const smtp = { SMTP_URL: sink.url };

    // The worker, then the wire's ceiling with the same message, back to back.
    sink.reset();
    const sinkCpu = procStats(sink.pid).cpuSeconds;
    const main = await deliveryRun({ n, mail: smtp, env: WORKER_ENV, probe: true });
    const sinkCpuQuire = procStats(sink.pid).cpuSeconds - sinkCpu;
    const atSink = (await sink.count()).count;
    const message = await sampleBroadcastMessage();
    const rawN = quick ? 5_000 : 30_000;
    sink.reset();
    const sinkCpu2 = procStats(sink.pid).cpuSeconds;
    const raw = await rawSmtpBaseline(sink.url, message, rawN, 8);
    const sinkCpuRaw = procStats(sink.pid).cpuSeconds - sinkCpu2;
    const ratio = main.messagesPerSecond / raw.rate;
    rows.push(
      {
        figure: `broadcast to ${n.toLocaleString('en')} subscribers over SMTP, first to last marked sent`,
        value: main.messagesPerSecond,
        unit: 'msg/s',
        target: '≥ 5,000 msg/s',
        met: main.messagesPerSecond >= 5000,
        headline: true,
      },
      {
        figure: `baseline: nodemailer SMTPConnection.send of one pre-built ${(message.length / 1024).toFixed(1)} KiB message, 8 connections`,
        value: raw.rate,
        unit: 'msg/s',
      },
      {
        figure: 'ratio quire / SMTPConnection.send',
        value: ratio,
        unit: '×',
        target: '≥ 0.40',
        met: ratio >= 0.4,
        headline: true,
      },
      {
        figure: 'messages at the sink minus recipients (exactly once)',
        value: atSink - n,
        unit: 'messages',
        target: '0',
        met: atSink === n && main.counts.sent === n,
      },
      { figure: 'CPU per message: quire worker', value: perMessageUs(main.workerCpuSeconds[0]!, n), unit: 'µs' },
      { figure: 'CPU per message: PostgreSQL backends', value: perMessageUs(main.backendCpuSeconds, n), unit: 'µs' },
      { figure: 'CPU per message: SMTP sink, quire’s messages', value: perMessageUs(sinkCpuQuire, n), unit: 'µs' },
      { figure: 'CPU per message: SMTPConnection.send client', value: perMessageUs(raw.cpuSeconds, rawN), unit: 'µs' },
      {
        figure: 'CPU per message: SMTP sink, the baseline’s messages',
        value: perMessageUs(sinkCpuRaw, rawN),
        unit: 'µs',
      },
      {
        figure: `the send call (audience of ${n.toLocaleString('en')} frozen)`,
        value: main.freezeSeconds * 1000,
        unit: 'ms',
      },
    );

    // The earlier targets' baselines: per-recipient rendering, and nodemailer's own pooled sendMail.
    const perRecipient = await sendAll(sink, quick ? 300 : 2_000, (i) => render(i));
    const pre = await render(null);
    const ceiling = await sendAll(sink, quick ? 2_000 : 10_000, async () => pre);
    rows.push(
      { figure: 'baseline: React render + sendMail per recipient', value: perRecipient, unit: 'msg/s' },
      {
        figure: 'ratio quire / per-recipient baseline',
        value: main.messagesPerSecond / perRecipient,
        unit: '×',
        target: '≥ 5×',
        met: main.messagesPerSecond / perRecipient >= 5,
      },
      { figure: 'baseline: pooled sendMail of one pre-rendered message', value: ceiling, unit: 'msg/s' },
      { figure: 'ratio quire / pooled sendMail', value: main.messagesPerSecond / ceiling, unit: '×' },
    );

    await memory(quick, smtp, main, rows, notes);
    await profile(quick, smtp, notes);
    notes.push(
      `Worker: \`node --import tsx src/runtime/node/main.ts --worker\` (as \`npm run worker\`), NODE_ENV=production, DELIVERY_CONCURRENCY=${WORKER_ENV.DELIVERY_CONCURRENCY}, DELIVERY_BATCH=${WORKER_ENV.DELIVERY_BATCH}, no rate limit; the SMTP sink (smtp-server) in its own process; a fresh database on the local PostgreSQL. The rate runs from the first row marked sent to the last (worker start-up and the freeze are outside it). CPU per message is what the kernel counted for each process over the same span, divided by the messages.`,
      `Load average (1 min) at the end: ${loadAverage().toFixed(1)}.`,
    );
    return { name: 'delivery', rows, notes };
  } finally {
    await sink.stop();
  }
}

/** Peak RSS from 10k to 1M recipients beside idle Node, and the samples of each run plotted. */
async function memory(
  quick: boolean,
  smtp: { SMTP_URL: string },
  main: RunResult,
  rows: BenchRow[],
  notes: string[],
): Promise<void> {
  const sizes = quick ? [2_000, 10_000] : [10_000, 100_000, 1_000_000];
  const runs: RunResult[] = [];
  for (const size of sizes)
    runs.push(size === main.n ? main : await deliveryRun({ n: size, mail: smtp, env: WORKER_ENV, probe: true }));
  const nodeE = await idlePeakMb([]);
  const tsxE = await idlePeakMb(['--import', 'tsx']);
  const peak = (r: RunResult) => r.workerPeakRssMb[0]!;
  const at = (size: number) => runs.find((r) => r.n === size);
  const first = runs[0]!;
  const last = runs[runs.length - 1]!;
  const hundred = at(100_000) ?? last;
  rows.push(
    ...runs.map((r) => ({
      figure: `worker peak RSS, ${r.n.toLocaleString('en')} recipients (${Math.round(r.messagesPerSecond).toLocaleString('en')} msg/s)`,
      value: peak(r),
      unit: 'MiB',
      ...(r === hundred ? { target: '≤ 160 MiB', met: peak(r) <= 160, headline: true } : {}),
    })),
    {
      figure: `peak RSS ${last.n.toLocaleString('en')} / ${first.n.toLocaleString('en')}`,
      value: peak(last) / peak(first),
      unit: '×',
      target: '≤ 1.1×',
      met: peak(last) / peak(first) <= 1.1,
    },
    { figure: 'baseline: `node -e` (the same Node), peak RSS', value: nodeE, unit: 'MiB' },
    {
      figure: 'baseline: `node --import tsx -e` (the TypeScript loader the worker runs under)',
      value: tsxE,
      unit: 'MiB',
    },
  );
  const mb = (b: number) => b / 2 ** 20;
  // Where the largest run's RSS was at its highest sample, and how long the worker took to get near it.
  const samples = last.samples ?? [];
  const top = samples.reduce<number[] | undefined>((best, s) => (!best || s[1]! > best[1]! ? s : best), undefined);
  if (top?.[5]) {
    const [, rss, , heapTotal, external, anonymous, fileBacked] = top.map((v) => mb(v));
    const settledAt = samples.find((s) => s[1]! >= 0.95 * top[1]!)?.[0] ?? 0;
    const firstEnds = first.samples?.at(-1)?.[0] ?? 0;
    rows.push({
      figure: `${last.n.toLocaleString('en')}: seconds until the worker's RSS is within 5% of its highest sample (${rss!.toFixed(0)} MiB)`,
      value: settledAt / 1000,
      unit: 's',
    });
    rows.push({
      figure: `${first.n.toLocaleString('en')}: the worker's whole run`,
      value: firstEnds / 1000,
      unit: 's',
    });
    notes.push(
      `The RSS of the ${last.n.toLocaleString('en')} run at its highest sample, as the kernel splits it: ${anonymous!.toFixed(0)} MiB anonymous — the V8 heap ${heapTotal!.toFixed(0)} MiB committed, buffers outside it ${external!.toFixed(0)} MiB, ${(anonymous! - heapTotal! - external!).toFixed(0)} MiB of native allocations (malloc arenas, compiler zones) — and ${fileBacked!.toFixed(0)} MiB file-backed (the node binary and its libraries, shared with every Node process; \`node -e\` peaks at ${nodeE.toFixed(0)} MiB in all).`,
    );
  }
  const colours = ['#1f77b4', '#d62728', '#2ca02c'];
  // A few hundred points a line are enough to see the shape; every sample would make a large file.
  const thin = (samples: number[][] = []) => samples.filter((_, i) => i % Math.ceil(samples.length / 300) === 0);
  const svg = lineChart({
    title: 'Delivery worker memory over a broadcast (RSS solid, V8 heap used dashed)',
    xLabel: 'seconds since the worker started',
    yLabel: 'MiB',
    series: runs.flatMap((r, i) => [
      {
        label: `RSS, ${r.n.toLocaleString('en')}`,
        colour: colours[i % colours.length]!,
        points: thin(r.samples).map((s) => [s[0]! / 1000, mb(s[1]!)] as [number, number]),
      },
      {
        label: `heap, ${r.n.toLocaleString('en')}`,
        colour: colours[i % colours.length]!,
        dashed: true,
        points: thin(r.samples).map((s) => [s[0]! / 1000, mb(s[2]!)] as [number, number]),
      },
    ]),
    rules: [
      { y: 160, label: 'target 160 MiB', colour: '#999' },
      { y: nodeE, label: '`node -e`', colour: '#555' },
    ],
  });
  if (!quick) await writeFile('docs/delivery-memory.svg', svg);
  notes.push(
    `Memory: the kernel's peak RSS (VmHWM) of the worker over its whole life, start-up included, sampled every 100 ms by bench/support/memory-probe.ts for docs/delivery-memory.svg.`,
  );
}

/** A profiled run of the worker: where its CPU goes while it sends. */
async function profile(quick: boolean, smtp: { SMTP_URL: string }, notes: string[]): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'quire-delivery-prof-'));
  try {
    const run = await deliveryRun({ n: quick ? 5_000 : 20_000, mail: smtp, env: WORKER_ENV, profileDir: dir });
    notes.push(
      `Where the worker's time goes (\`--cpu-prof\`, ${run.n.toLocaleString('en')} recipients, self time; start-up left out): ${await summariseProfile(dir)}.`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
