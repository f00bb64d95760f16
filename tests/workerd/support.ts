import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import postgres from 'postgres';
import { createTestHarness, type TestHarness } from 'wrangler';
import { createTestDatabase } from '../support/postgres.js';
import { SmtpSink, type ReceivedMail } from '../support/smtp-sink.js';

/**
 * The Worker (src/worker.ts, built from wrangler.toml) running in real workerd through wrangler's test
 * harness, against a fresh migrated PostgreSQL database (Hyperdrive's local connection string) and an
 * in-process SMTP server. Nothing leaves loopback: the Request.cf fetch and wrangler's metrics are off.
 */

export const WORKER_SECRET = 'workerd-test-secret-key-that-is-long-enough-0123';
export const WORKER_ADMIN_TOKEN = 'workerd-test-admin-token-0123456789';
export const PUBLIC_URL = 'http://quire.test';

/** Keep wrangler and Miniflare on this machine (also set before anything imports Miniflare). */
export function offline() {
  process.env.WRANGLER_SEND_METRICS = 'false';
  process.env.CLOUDFLARE_CF_FETCH_ENABLED = 'false';
  process.env.WRANGLER_LOG = process.env.WRANGLER_LOG ?? 'error';
}

export interface WorkerBuild {
  dir: string;
  /** worker.js as uploaded: bytes, and gzip -9 bytes (what Cloudflare's size limit counts). */
  bytes: number;
  gzipBytes: number;
  /** esbuild's metafile: which inputs ended up in the bundle, and how many bytes each. */
  metafile: { inputs: Record<string, unknown>; outputs: Record<string, { bytes: number; inputs: Record<string, { bytesInOutput: number }> }> };
  remove(): Promise<void>;
}

/** `wrangler deploy --dry-run --outdir …`: the exact bundle a deploy uploads, built offline. */
export async function buildWorker(): Promise<WorkerBuild> {
  offline();
  const dir = await mkdtemp(join(tmpdir(), 'quire-worker-'));
  const wrangler = join(process.cwd(), 'node_modules/wrangler/bin/wrangler.js');
  await promisify(execFile)(process.execPath, [wrangler, 'deploy', '--dry-run', '--outdir', dir, '--metafile', join(dir, 'meta.json')], {
    env: { ...process.env },
    maxBuffer: 16 << 20,
  });
  const code = await readFile(join(dir, 'worker.js'));
  return {
    dir,
    bytes: code.length,
    gzipBytes: gzipSync(code, { level: 9 }).length,
    metafile: JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8')),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

export interface WorkerRig {
  server: TestHarness;
  smtp: SmtpSink;
  sql: postgres.Sql;
  databaseUrl: string;
  fetch(path: string, init?: RequestInit): Promise<Response>;
  admin(path: string, init?: RequestInit): Promise<Response>;
  /** Structured runtime logs (our JSON lines, parsed) since the start or the last clear. */
  logs(): Record<string, unknown>[];
  close(): Promise<void>;
}

/**
 * The deploy bundle (built here unless given) served by workerd, with test vars and secrets over
 * wrangler.toml's.
 */
export async function startWorkerRig(vars: Record<string, string> = {}, prebuilt?: WorkerBuild): Promise<WorkerRig> {
  offline();
  const build = prebuilt ?? (await buildWorker());
  const smtp = await new SmtpSink().start();
  const db = await createTestDatabase(process.env.TEST_DATABASE_URL!);
  // wrangler reads Hyperdrive's local connection string from the environment when it builds bindings.
  // Hyperdrive insists on a password; a trust-auth server ignores the one given here.
  const hyperdriveUrl = new URL(db.url);
  if (!hyperdriveUrl.password) hyperdriveUrl.password = 'unused';
  process.env.CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE = hyperdriveUrl.toString();
  const server = createTestHarness({
    workers: [
      {
        configPath: './wrangler.toml',
        prebuiltWorkerDir: build.dir,
        vars: {
          NODE_ENV: 'production',
          PUBLIC_URL,
          SMTP_URL: smtp.url,
          MAIL_FROM: 'How Teams Think Before They Build <updates@quire.test>',
          POSTAL_ADDRESS: 'Quire Test Press, 1 Example Street, Springfield',
          RATE_LIMIT_IP: '1000',
          RATE_LIMIT_ADDRESS: '1000',
          DELIVERY_RATE: '100000',
          LOG_LEVEL: 'info',
          ...vars,
        },
        secrets: { SECRET_KEY: WORKER_SECRET, ADMIN_TOKEN: WORKER_ADMIN_TOKEN },
      },
    ],
  });
  try {
    await server.listen();
  } catch (err) {
    await smtp.stop();
    await db.drop();
    if (!prebuilt) await build.remove();
    throw err;
  }
  const sql = postgres(db.url, { max: 2, onnotice: () => {} });
  const fetchPath = (path: string, init: RequestInit = {}) => server.fetch(new URL(path, PUBLIC_URL).toString(), init as never) as unknown as Promise<Response>;
  return {
    server,
    smtp,
    sql,
    databaseUrl: db.url,
    fetch: fetchPath,
    admin: (path, init = {}) =>
      fetchPath(path, {
        ...init,
        headers: { authorization: `Bearer ${WORKER_ADMIN_TOKEN}`, accept: 'application/json', ...(init.body ? { 'content-type': 'application/json' } : {}), ...(init.headers as Record<string, string> | undefined) },
      }),
    logs: () =>
      server.getLogs().flatMap((l) => {
        try {
          return [JSON.parse(String(l.message)) as Record<string, unknown>];
        } catch {
          return [{ raw: String(l.message), level: l.level }];
        }
      }),
    async close() {
      await server.close().catch(() => {});
      await sql.end({ timeout: 1 }).catch(() => {});
      await smtp.stop();
      await db.drop().catch(() => {});
      if (!prebuilt) await build.remove();
    },
  };
}

/** Wait until `probe` returns something (not undefined), polling. */
export async function waitFor<T>(probe: () => T | undefined | Promise<T | undefined>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export const mailTo = (smtp: SmtpSink, address: string, n = 1): ReceivedMail[] | undefined => {
  const mails = smtp.to(address);
  return mails.length >= n ? mails : undefined;
};

/** A link to `path` (e.g. /confirm/) from a mail's text part. */
export function linkIn(mail: ReceivedMail, path: string): string {
  const re = new RegExp(`https?://[^\\s\\]>"]+${path.replace(/\//g, '\\/')}[A-Za-z0-9_.~%-]+`);
  const found = re.exec(mail.parsed.text ?? '')?.[0];
  if (!found) throw new Error(`no ${path} link in mail "${mail.parsed.subject}"`);
  return found;
}

export function listUnsubscribeUrl(mail: ReceivedMail): string {
  const header = mail.parsed.headerLines.find((l) => l.key === 'list-unsubscribe')?.line.replace(/\r?\n[ \t]+/g, ' ') ?? '';
  const url = /<(https?:\/\/[^>]+)>/.exec(header)?.[1];
  if (!url) throw new Error('no List-Unsubscribe URL');
  return url;
}
