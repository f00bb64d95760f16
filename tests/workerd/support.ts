import postgres from 'postgres';
import type { TestHarness } from 'wrangler';
import { createTestDatabase } from '../support/postgres.js';
import { type ReceivedMail, SmtpSink } from '../support/smtp-sink.js';
import { buildWorker, startWorkerd, type WorkerBuild } from './workerd.js';

export { buildWorker, type WorkerBuild } from './workerd.js';

/**
 * The Worker (src/runtime/worker/, built from wrangler.toml) running in real workerd through wrangler's test
 * harness, against a fresh migrated PostgreSQL database (Hyperdrive's local connection string) and an
 * in-process SMTP server. Nothing leaves loopback: the Request.cf fetch and wrangler's metrics are off.
 */

export const WORKER_SECRET = 'workerd-test-secret-key-that-is-long-enough-0123';
export const WORKER_ADMIN_TOKEN = 'workerd-test-admin-token-0123456789';
export const PUBLIC_URL = 'http://quire.test';

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

export interface WorkerRigOptions {
  /** Local `[[send_email]]` bindings to give the Worker (names), for `MAIL_DSN=cloudflare+email://NAME`. */
  sendEmail?: string[];
}

/**
 * The deploy bundle (built here unless given) served by workerd, with test vars and secrets over
 * wrangler.toml's.
 */
export async function startWorkerRig(
  vars: Record<string, string> = {},
  prebuilt?: WorkerBuild,
  options: WorkerRigOptions = {},
): Promise<WorkerRig> {
  const build = prebuilt ?? (await buildWorker());
  const smtp = await new SmtpSink().start();
  const db = await createTestDatabase(process.env.TEST_DATABASE_URL!);
  let server: TestHarness;
  try {
    ({ server } = await startWorkerd({
      build,
      databaseUrl: db.url,
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
      ...(options.sendEmail ? { sendEmail: options.sendEmail } : {}),
    }));
  } catch (err) {
    await smtp.stop();
    await db.drop();
    if (!prebuilt) await build.remove();
    throw err;
  }
  const sql = postgres(db.url, { max: 2, onnotice: () => {} });
  const fetchPath = (path: string, init: RequestInit = {}) =>
    server.fetch(new URL(path, PUBLIC_URL).toString(), init as never) as unknown as Promise<Response>;
  return {
    server,
    smtp,
    sql,
    databaseUrl: db.url,
    fetch: fetchPath,
    admin: (path, init = {}) =>
      fetchPath(path, {
        ...init,
        headers: {
          authorization: `Bearer ${WORKER_ADMIN_TOKEN}`,
          accept: 'application/json',
          ...(init.body ? { 'content-type': 'application/json' } : {}),
          ...(init.headers as Record<string, string> | undefined),
        },
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
export async function waitFor<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  what: string,
  timeoutMs = 15_000,
): Promise<T> {
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
  const header =
    mail.parsed.headerLines.find((l) => l.key === 'list-unsubscribe')?.line.replace(/\r?\n[ \t]+/g, ' ') ?? '';
  const url = /<(https?:\/\/[^>]+)>/.exec(header)?.[1];
  if (!url) throw new Error('no List-Unsubscribe URL');
  return url;
}
