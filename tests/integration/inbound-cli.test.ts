import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { emailHashFor } from '../../src/core/identity.js';
import { signLinkToken } from '../../src/core/tokens.js';
import { type Database, rowsOf } from '../../src/db/client.js';
import { deliveries, subscribers } from '../../src/db/schema.js';
import { verpAddress } from '../../src/mail/headers.js';
import { openDatabase } from '../../src/runtime/node/database.js';
import { uniqueEmail } from '../support/factories.js';
import { databaseKinds, TEST_SECRET } from '../support/harness.js';
import { createTestDatabase } from '../support/postgres.js';
import { dsnMail, largeMail, plainMail, unsubscribeMail } from './inbound-mail.js';

/**
 * `quire inbound < message.eml` as a Postfix pipe transport runs it: a spawned process, the message on
 * stdin, the envelope recipient from --to, ORIGINAL_RECIPIENT or the X-Original-To/Delivered-To header,
 * and an exit status from sysexits.h (0 done or dropped, 65 too large, 67 not ours, 75 try again later).
 */

const BOUNCES = 'bounces@quire.test';
const UNSUBSCRIBE = 'unsubscribe@quire.test';
const MAX = 16_384;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe.each(databaseKinds)('quire inbound on %s', (kind) => {
  let env: Record<string, string>;
  let cleanup = async () => {};
  beforeAll(async () => {
    const base = {
      NODE_ENV: 'test',
      SECRET_KEY: TEST_SECRET,
      MAIL_FROM: 'Book <updates@quire.test>',
      BOUNCE_ADDRESS: BOUNCES,
      INBOUND_MAX_BYTES: String(MAX),
      LOG_LEVEL: 'silent',
    };
    if (kind === 'postgres') {
      const db = await createTestDatabase(process.env.TEST_DATABASE_URL!);
      env = { ...base, DATABASE_URL: db.url };
      cleanup = db.drop;
    } else {
      const dir = await mkdtemp(join(tmpdir(), 'quire-inbound-'));
      env = { ...base, QUIRE_DATA_DIR: dir };
      cleanup = () => rm(dir, { recursive: true, force: true });
    }
  });
  afterAll(() => cleanup());

  /** The database, opened only while the test looks at it: PGlite's directory takes one process at a time. */
  async function withDb<T>(run: (database: Database) => Promise<T>): Promise<T> {
    const database = await openDatabase(parseConfig(env));
    try {
      return await run(database);
    } finally {
      await database.close();
    }
  }
  const seed = () =>
    withDb(async ({ db }) => {
      const email = uniqueEmail('inbound');
      const [sub] = await db
        .insert(subscribers)
        .values({
          email,
          emailHash: emailHashFor(TEST_SECRET, email.toLowerCase()),
          status: 'active',
          confirmedAt: new Date(),
        })
        .returning({ id: subscribers.id });
      const [delivery] = await db
        .insert(deliveries)
        .values({ kind: 'welcome', subscriberId: sub!.id, to: email, status: 'sent' })
        .returning({ id: deliveries.id });
      return { id: sub!.id, email, deliveryId: delivery!.id };
    });
  const statusOf = (id: string) =>
    withDb(
      async ({ db }) =>
        rowsOf<{ status: string }>(await db.execute(sql`select status from subscribers where id = ${id}`))[0]?.status,
    );

  const quire = (args: string[], stdin: string, extra: Record<string, string> = {}): Promise<Run> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'inbound', ...args], {
        env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env, ...extra },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      // The command may stop reading early (an oversized message): that is its answer, not an error here.
      child.stdin.on('error', () => {});
      child.stdin.end(stdin);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });

  it('mail to the unsubscribe address (--to, as a Postfix pipe passes the original recipient) unsubscribes', async () => {
    const sub = await seed();
    const token = signLinkToken(TEST_SECRET, 'unsubscribe', sub.id, new Date());
    const run = await quire(
      ['--to', UNSUBSCRIBE],
      unsubscribeMail({ to: UNSUBSCRIBE, subject: `unsubscribe ${token}` }),
    );
    expect(run, run.stderr).toMatchObject({ code: 0, stdout: 'Unsubscribed.\n' });
    expect(await statusOf(sub.id)).toBe('unsubscribed');
    const events = await withDb(async ({ db }) =>
      rowsOf<{ kind: string; source: string; sealed: boolean }>(
        await db.execute(
          sql`select kind, source, hash is not null as sealed from consent_events where subscriber_id = ${sub.id}`,
        ),
      ),
    );
    expect(events).toEqual([{ kind: 'unsubscribed', source: 'mailto', sealed: true }]);
  }, 60_000);

  it('a DSN to the VERP address (recipient from ORIGINAL_RECIPIENT) suppresses', async () => {
    const sub = await seed();
    const run = await quire(['--json'], dsnMail({ recipient: sub.email }), {
      ORIGINAL_RECIPIENT: verpAddress(BOUNCES, sub.deliveryId),
    });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      status: 'done',
      route: 'bounce',
      reason: 'dsn',
      reports: 1,
      suppressed: 1,
      unknown: 0,
    });
    expect(await statusOf(sub.id)).toBe('bounced');
  }, 60_000);

  it('reads the recipient from the X-Original-To or Delivered-To header the MTA prepended', async () => {
    const sub = await seed();
    const token = signLinkToken(TEST_SECRET, 'unsubscribe', sub.id, new Date());
    const raw = `X-Original-To: ${UNSUBSCRIBE}\r\n${unsubscribeMail({ to: 'list@quire.test', subject: `unsubscribe ${token}` })}`;
    expect(await quire([], raw)).toMatchObject({ code: 0, stdout: 'Unsubscribed.\n' });
    // Junk to the bounce address is accepted and dropped: exit 0, nothing else.
    const junk = `Delivered-To: ${verpAddress(BOUNCES, sub.deliveryId)}\r\n${plainMail({ to: 'x@quire.test', subject: 'Auto: away' })}`;
    expect(await quire([], junk)).toMatchObject({ code: 0, stdout: expect.stringContaining('dropped') });
  }, 60_000);

  it('refuses other addresses (67) and oversized mail (65), and cannot do without a recipient (64)', async () => {
    const other = await quire(['--to', 'author@quire.test'], plainMail({ to: 'author@quire.test' }));
    expect(other.code).toBe(67);
    expect(other.stderr).toContain('This address takes no mail');
    const large = await quire(['--to', UNSUBSCRIBE], largeMail(UNSUBSCRIBE, MAX * 2));
    expect(large.code).toBe(65);
    expect(large.stderr).toContain(`larger than ${MAX} bytes`);
    expect((await quire([], plainMail({ to: UNSUBSCRIBE }))).code).toBe(64);
  }, 60_000);

  it('answers 75, try again later, when the database cannot be had', async () => {
    const sub = await seed();
    const token = signLinkToken(TEST_SECRET, 'unsubscribe', sub.id, new Date());
    const raw = unsubscribeMail({ to: UNSUBSCRIBE, subject: `unsubscribe ${token}` });
    if (kind === 'pglite') {
      // The server holds the embedded database (its pid file names a live process: this one).
      await writeFile(join(env.QUIRE_DATA_DIR!, 'quire.pid'), String(process.pid));
      try {
        const run = await quire(['--to', UNSUBSCRIBE], raw);
        expect(run.code).toBe(75);
        expect(run.stderr).toContain('try again later');
      } finally {
        await rm(join(env.QUIRE_DATA_DIR!, 'quire.pid'), { force: true });
      }
    } else {
      const run = await quire(['--to', UNSUBSCRIBE], raw, {
        DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none',
        DB_TIMEOUT_MS: '2000',
      });
      expect(run.code).toBe(75);
    }
    expect(await statusOf(sub.id)).toBe('active');
  }, 60_000);
});
