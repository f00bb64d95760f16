import { PGlite } from '@electric-sql/pglite';
import { type App, createApp } from '../../src/app.js';
import { type Config, parseConfig } from '../../src/config.js';
import { importLedgerKey } from '../../src/core/ledger-key.js';
import { connectPostgres, type Database, rowsOf } from '../../src/db/client.js';
import { migratePglite, openPglite } from '../../src/db/pglite.js';
import type { BatchReport } from '../../src/delivery/types.js';
import { createLogger } from '../../src/log.js';
import { createMailers } from '../../src/runtime/node/mailer.js';
import { createServices, type Services } from '../../src/services.js';
import { createTestDatabase } from './postgres.js';
import { SmtpSink } from './smtp-sink.js';

export type DatabaseKind = 'pglite' | 'postgres';

/** The databases this run covers: PGlite always, PostgreSQL when TEST_DATABASE_URL is set. */
export const databaseKinds: DatabaseKind[] = process.env.TEST_DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];

export const TEST_SECRET = 'test-secret-key-that-is-long-enough-0123456789';
export const ADMIN_TOKEN = 'test-admin-token-0123456789';
/** The consent ledger's checkpoint key in tests (an Ed25519 seed, base64). */
export const TEST_LEDGER_KEY = 'cXVpcmUtdGVzdC1sZWRnZXIta2V5LTAxMjM0NTY3ODk=';

/** A clock the test moves by hand, so expiry and cooldowns are tested without sleeping. */
export class TestClock {
  constructor(private t = Date.parse('2026-11-25T12:00:00.000Z')) {}
  now = () => new Date(this.t);
  advance(ms: number) {
    this.t += ms;
  }
}

export interface Harness {
  kind: DatabaseKind;
  config: Config;
  services: Services;
  app: App;
  smtp: SmtpSink;
  clock: TestClock;
  logs: string[];
  database: Database;
  /** The PostgreSQL URL of this harness's own database, as its owner (undefined on PGlite). */
  databaseUrl?: string | undefined;
  /** A request to the app as if from `ip` (TRUST_PROXY is on in tests). */
  request(path: string, init?: RequestInit & { ip?: string }): Promise<Response>;
  /** Run the delivery engine until nothing is due. */
  deliver(): Promise<BatchReport>;
  /** Seal pending consent events into the ledger's chain, as the running service does every 200 ms. */
  seal(): Promise<number>;
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

let pgliteBase: PGlite | undefined;

/** One migrated PGlite per test worker; each harness gets a clone of it. */
async function pgliteClone(): Promise<PGlite> {
  if (!pgliteBase) {
    pgliteBase = await PGlite.create();
    await migratePglite(pgliteBase);
  }
  return (await pgliteBase.clone()) as PGlite;
}

export interface HarnessOptions {
  /** PostgreSQL: connect the app as this login role instead of the owner (the harness's `query` too). */
  connectAs?: { user: string; password: string };
}

export async function createHarness(
  kind: DatabaseKind,
  env: Record<string, string> = {},
  opts: HarnessOptions = {},
): Promise<Harness> {
  const smtp = await new SmtpSink().start();
  const config = parseConfig({
    NODE_ENV: 'test',
    PUBLIC_URL: 'http://quire.test',
    SMTP_URL: smtp.url,
    SECRET_KEY: TEST_SECRET,
    ADMIN_TOKEN,
    TRUST_PROXY: 'true',
    RATE_LIMIT_IP: '1000',
    RATE_LIMIT_ADDRESS: '1000',
    MAIL_FROM: 'How Teams Think Before They Build <updates@quire.test>',
    POSTAL_ADDRESS: 'Quire Test Press, 1 Example Street, Springfield',
    DELIVERY_RATE: '100000',
    LOG_LEVEL: 'info',
    ...env,
  });

  let database: Database;
  let dropDatabase = async () => {};
  let databaseUrl: string | undefined;
  if (kind === 'postgres') {
    const db = await createTestDatabase(process.env.TEST_DATABASE_URL!);
    dropDatabase = db.drop;
    databaseUrl = db.url;
    const url = new URL(db.url);
    if (opts.connectAs) {
      url.username = opts.connectAs.user;
      url.password = opts.connectAs.password;
    }
    database = await connectPostgres({ url: url.toString(), timeoutMs: 5000 });
  } else {
    database = await openPglite(await pgliteClone());
  }

  const logs: string[] = [];
  const clock = new TestClock();
  const mailers = await createMailers(config);
  const services = await createServices(config, {
    database,
    ...mailers,
    secret: TEST_SECRET,
    ledgerKey: await importLedgerKey(config.LEDGER_SIGNING_KEY ?? TEST_LEDGER_KEY),
    now: clock.now,
    log: createLogger('info', (line) => logs.push(line)),
  });
  const app = createApp(services);

  return {
    kind,
    config,
    services,
    app,
    smtp,
    clock,
    logs,
    database,
    databaseUrl,
    request(path, init = {}) {
      const { ip = '203.0.113.7', ...rest } = init;
      const headers = new Headers(rest.headers);
      headers.set('x-forwarded-for', ip);
      return Promise.resolve(app.request(path, { ...rest, headers }));
    },
    deliver: () => services.delivery.drain(),
    seal: () => services.ledger.seal(),
    async query(text, params = []) {
      if (database.kind === 'pglite') {
        const client = (database as unknown as { client: PGlite }).client;
        return (await client.query(text, params)).rows as never;
      }
      const sql = (database as unknown as { sql: import('postgres').Sql }).sql;
      return rowsOf(await sql.unsafe(text, params as never[])) as never;
    },
    async close() {
      await services.close();
      await smtp.stop();
      await dropDatabase();
      assertNoAddressesLogged(logs);
    },
  };
}

/**
 * Test addresses live on example.com / example.org / example.net (factories.uniqueEmail and friends).
 * Logs must never hold one, in any spelling a request could carry: plain, URL-encoded or JSON-escaped.
 */
const LOGGED_ADDRESS = /(@|%40|\\u0040)([a-z0-9-]+\.)*example\.(com|org|net)\b/i;

/** Every harness checks its own log on close(), so the whole suite proves no test address was logged. */
export function assertNoAddressesLogged(logs: string[]): void {
  const leaks = logs.filter((line) => LOGGED_ADDRESS.test(line));
  if (leaks.length > 0) {
    throw new Error(
      `the log holds ${leaks.length} line(s) with a test email address, e.g.:\n${leaks.slice(0, 3).join('\n')}`,
    );
  }
}
