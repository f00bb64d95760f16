/**
 * One end-to-end broadcast in this process: N subscribers on PostgreSQL, the real services and
 * delivery loop, an SMTP sink in another process. Prints one JSON line: messages/s and peak RSS.
 * Used by bench/delivery.ts, which runs it in fresh processes so memory figures are not mixed.
 */
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { templates } from '../emails/index.js';
import { parseConfig } from '../src/config.js';
import { createBroadcast, describeBroadcast, sendBroadcast } from '../src/core/broadcasts.js';
import { connectPostgres } from '../src/db/client.js';
import { createLogger } from '../src/log.js';
import { createMailers } from '../src/runtime/node/mailer.js';
import { createServices } from '../src/services.js';
import { benchDatabase, seedSubscribers } from './support/postgres.js';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '50000' },
    workers: { type: 'string', default: '1' },
    smtp: { type: 'string' },
    dsn: { type: 'string' },
  },
});
const n = Number(values.n);
// An SMTP sink (--smtp) or any transport by its DSN (--dsn: an HTTP provider's stand-in).
const mail = values.dsn ? { MAIL_DSN: values.dsn } : { SMTP_URL: values.smtp! };

const db = await benchDatabase(`delivery${n}`);
await seedSubscribers(db.url, n);
const config = parseConfig({
  NODE_ENV: 'test',
  DATABASE_URL: db.url,
  ...mail,
  SECRET_KEY: 'bench-secret-key-0123456789abcdef0123456789',
  PUBLIC_URL: 'https://news.example.com',
  MAIL_FROM: 'Jane Author <news@example.com>',
  DELIVERY_RATE: '1000000',
  DELIVERY_CONCURRENCY: process.env.BENCH_CONCURRENCY ?? '16',
  DELIVERY_BATCH: process.env.BENCH_BATCH ?? '200',
  LOG_LEVEL: 'silent',
});
const workers = Number(values.workers);
const s = await createServices(config, {
  database: await connectPostgres({ url: db.url, max: 10 }),
  ...(await createMailers(config)),
  secret: config.SECRET_KEY!,
  log: createLogger('silent'),
});
// Further workers are separate processes (`npm run worker`), as they would be in production.
const env = {
  ...process.env,
  NODE_ENV: 'test',
  DATABASE_URL: db.url,
  ...mail,
  SECRET_KEY: config.SECRET_KEY!,
  PUBLIC_URL: config.PUBLIC_URL,
  MAIL_FROM: config.MAIL_FROM,
  DELIVERY_RATE: '1000000',
  DELIVERY_CONCURRENCY: String(config.DELIVERY_CONCURRENCY),
  DELIVERY_BATCH: String(config.DELIVERY_BATCH),
  LOG_LEVEL: 'silent',
};
const children = Array.from({ length: workers - 1 }, () =>
  spawn(process.execPath, ['--import', 'tsx', 'src/runtime/node/main.ts', '--worker'], { env, stdio: 'ignore' }),
);
const t = templates['release-announcement']!;
const b = await createBroadcast(s, {
  template: t.name,
  topic: 'release',
  subject: 'How Teams Think Before They Build is out',
  preheader: 'The book is available today.',
  props: t.previewProps,
});

let peakRss = process.memoryUsage().rss;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
const started = performance.now();
await sendBroadcast(s, b.id);
s.delivery.start();
for (;;) {
  const d = await describeBroadcast(s.db, b.id);
  if (d.status === 'sent') break;
  await new Promise((r) => setTimeout(r, 100));
}
const seconds = (performance.now() - started) / 1000;
clearInterval(sampler);
const final = await describeBroadcast(s.db, b.id);
for (const c of children) c.kill('SIGTERM');
await s.close();
await db.drop();
console.log(
  JSON.stringify({
    n,
    workers,
    seconds,
    messagesPerSecond: n / seconds,
    peakRssMb: peakRss / 2 ** 20,
    counts: final.counts,
  }),
);
process.exit(0);
