/**
 * Broadcast delivery, end to end (send call → every row `sent`), against the same run's baselines:
 *  - per recipient: React Email render + nodemailer sendMail per message (the React Email docs' way);
 *  - ceiling: nodemailer pooled sendMail of one pre-rendered message (MIME composed per message).
 * Then 10k vs 100k subscribers (memory and throughput flat?) and 2 and 4 workers vs 1.
 * `npm run bench -- delivery [--quick]`
 */
import { execFileSync } from 'node:child_process';
import nodemailer from 'nodemailer';
import { greetingFor } from '../emails/_components/broadcast-context.js';
import { templates } from '../emails/index.js';
import { renderEmail } from '../src/mail/render.js';
import type { BenchResult } from './support/report.js';
import { type SinkProcess, startSinkProcess } from './support/sink.js';

interface RunResult {
  n: number;
  workers: number;
  seconds: number;
  messagesPerSecond: number;
  peakRssMb: number;
}

function engineRun(n: number, smtp: string, workers = 1): RunResult {
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', 'bench/delivery-run.ts', '--n', String(n), '--smtp', smtp, '--workers', String(workers)],
    {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    },
  );
  return JSON.parse(out.trim().split('\n').pop()!) as RunResult;
}

const BOOK = {
  preheader: 'The book is available today.',
  lang: 'en',
  bookTitle: 'How Teams Think Before They Build',
  postalAddress: 'Jane Author, 1 Example Street',
};

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

/** The React Email docs' way: render every recipient's message, then sendMail it. */
function perRecipientBaseline(sink: SinkProcess, n: number): Promise<number> {
  const t = templates['release-announcement']!;
  return sendAll(sink, n, (i) =>
    renderEmail(
      t.element(t.previewProps, {
        ...BOOK,
        recipient: {
          greeting: greetingFor(`Reader ${i}`),
          unsubscribeUrl: `https://news.example.com/unsubscribe/${i}`,
          preferencesUrl: `https://news.example.com/preferences/${i}`,
        },
      }),
    ),
  );
}

/** Our transport's ceiling: one message rendered in advance, composed into MIME per send by nodemailer. */
async function preRenderedCeiling(sink: SinkProcess, n: number): Promise<number> {
  const t = templates['release-announcement']!;
  const rendered = await renderEmail(
    t.element(t.previewProps, {
      ...BOOK,
      recipient: {
        greeting: 'Hi,',
        unsubscribeUrl: 'https://news.example.com/unsubscribe/x',
        preferencesUrl: 'https://news.example.com/preferences/x',
      },
    }),
  );
  return sendAll(sink, n, async () => rendered);
}

export async function benchDelivery(quick: boolean): Promise<BenchResult> {
  const sink = await startSinkProcess();
  try {
    const n = quick ? 5_000 : 50_000;
    const main = engineRun(n, sink.url);
    const perRecipient = await perRecipientBaseline(sink, quick ? 300 : 2_000);
    const ceiling = await preRenderedCeiling(sink, quick ? 2_000 : 10_000);
    const rows: BenchResult['rows'] = [
      {
        figure: `broadcast to ${n.toLocaleString('en')} subscribers, end to end`,
        value: main.messagesPerSecond,
        unit: 'msg/s',
        target: '≥ 1,000 msg/s',
        met: main.messagesPerSecond >= 1000,
        headline: true,
      },
      { figure: 'baseline: React render + sendMail per recipient', value: perRecipient, unit: 'msg/s' },
      {
        figure: 'ratio quire / per-recipient baseline',
        value: main.messagesPerSecond / perRecipient,
        unit: '×',
        target: '≥ 5×',
        met: main.messagesPerSecond / perRecipient >= 5,
        headline: true,
      },
      { figure: 'ceiling: pooled sendMail of one pre-rendered message', value: ceiling, unit: 'msg/s' },
      { figure: 'ratio quire / sendMail ceiling', value: main.messagesPerSecond / ceiling, unit: '×' },
      { figure: `peak RSS of the worker (${n.toLocaleString('en')})`, value: main.peakRssMb, unit: 'MiB' },
    ];
    if (!quick) {
      const small = engineRun(10_000, sink.url);
      const large = engineRun(100_000, sink.url);
      const two = engineRun(n, sink.url, 2);
      const four = engineRun(n, sink.url, 4);
      rows.push(
        { figure: '10k subscribers', value: small.messagesPerSecond, unit: 'msg/s' },
        { figure: '100k subscribers', value: large.messagesPerSecond, unit: 'msg/s' },
        {
          figure: 'throughput 100k / 10k',
          value: large.messagesPerSecond / small.messagesPerSecond,
          unit: '×',
          target: 'within 20% (0.8–1.2)',
          met: Math.abs(large.messagesPerSecond / small.messagesPerSecond - 1) <= 0.2,
        },
        { figure: 'peak RSS 10k', value: small.peakRssMb, unit: 'MiB' },
        { figure: 'peak RSS 100k', value: large.peakRssMb, unit: 'MiB' },
        {
          figure: 'peak RSS 100k / 10k',
          value: large.peakRssMb / small.peakRssMb,
          unit: '×',
          target: 'within 20% (≤ 1.2)',
          met: large.peakRssMb / small.peakRssMb <= 1.2,
        },
        {
          figure: `two worker processes vs one (${n.toLocaleString('en')})`,
          value: two.messagesPerSecond / main.messagesPerSecond,
          unit: '×',
        },
        {
          figure: `four worker processes vs one (${n.toLocaleString('en')}; 2 cores)`,
          value: four.messagesPerSecond / main.messagesPerSecond,
          unit: '×',
        },
      );
    }
    return { name: 'delivery', rows };
  } finally {
    await sink.stop();
  }
}
