import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from './config.js';
import { connectPostgres, type Database } from './db/client.js';
import { migratePglite, migratePostgres } from './db/migrate.js';
import type { Mailer } from './mail/mailer.js';

/**
 * Node-only wiring for the entries (`node.ts`, `cli.ts`), tests and benchmarks: the database and mailer
 * chosen by configuration (PGlite and the capture mailbox exist only here), the generated development
 * secret, and the PGlite data-directory lock. The Worker entry builds its parts from bindings instead.
 */

/** SECRET_KEY, or one generated once into the data directory (development only; config refuses it in production). */
export async function resolveSecret(config: Config): Promise<string> {
  if (config.SECRET_KEY) return config.SECRET_KEY;
  const file = join(config.QUIRE_DATA_DIR, 'secret.key');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    await mkdir(config.QUIRE_DATA_DIR, { recursive: true });
    const secret = randomBytes(32).toString('hex');
    await writeFile(file, `${secret}\n`, { mode: 0o600, flag: 'wx' }).catch(async () => {
      // Another process won the race: use its key.
    });
    return (await readFile(file, 'utf8')).trim();
  }
}

/**
 * PGlite has no lock of its own and two processes on one data directory corrupt it: take a pid file,
 * refusing when a live process holds it.
 */
export async function lockDataDir(dir: string): Promise<() => Promise<void>> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'quire.pid');
  try {
    await writeFile(file, String(process.pid), { flag: 'wx' });
  } catch {
    const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim());
    if (pid && pid !== process.pid && isAlive(pid)) {
      throw new Error(
        `The embedded database in ${dir} is in use by process ${pid}. Stop it first, or set DATABASE_URL to share a PostgreSQL server between processes.`,
      );
    }
    await writeFile(file, String(process.pid));
  }
  return async () => {
    await rm(file, { force: true });
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** PostgreSQL when DATABASE_URL is set, otherwise PGlite persisted in the data directory; migrated. */
export async function openDatabase(config: Config): Promise<Database> {
  if (config.DATABASE_URL) {
    await migratePostgres(config.DATABASE_URL);
    return connectPostgres({ url: config.DATABASE_URL, timeoutMs: config.DB_TIMEOUT_MS });
  }
  const dir = join(config.QUIRE_DATA_DIR, 'pgdata');
  await mkdir(config.QUIRE_DATA_DIR, { recursive: true });
  const { openPglite } = await import('./db/pglite.js');
  const database = await openPglite(dir);
  await migratePglite(database.client);
  return database;
}

/** SMTP when SMTP_URL is set, otherwise the capture mailbox in `$QUIRE_DATA_DIR/mail`. */
export async function createMailer(config: Config): Promise<Mailer> {
  if (config.SMTP_URL) {
    const { createSmtpMailer } = await import('./mail/smtp.js');
    const dkim =
      config.DKIM_DOMAIN && config.DKIM_SELECTOR && config.DKIM_PRIVATE_KEY
        ? { domainName: config.DKIM_DOMAIN, keySelector: config.DKIM_SELECTOR, privateKey: config.DKIM_PRIVATE_KEY }
        : undefined;
    return createSmtpMailer({ url: config.SMTP_URL, maxConnections: config.DELIVERY_CONCURRENCY, dkim });
  }
  const { createCaptureMailer } = await import('./mail/capture.js');
  return createCaptureMailer(join(config.QUIRE_DATA_DIR, 'mail'));
}

/**
 * Log lines to stdout, gathered per turn of the event loop and written together. Node writes to a pipe
 * or file synchronously, one system call per write; under load that was a system call per request.
 * Whatever is still gathered is written when the process exits (synchronously, for a pipe or a file).
 */
export function stdoutLines(): (line: string) => void {
  let pending: string[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    const text = `${pending.join('\n')}\n`;
    pending = [];
    process.stdout.write(text);
  };
  process.on('exit', flush);
  return (line) => {
    if (pending.push(line) === 1) setImmediate(flush);
  };
}
