import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SmtpSink } from '../support/smtp-sink.js';

/**
 * The author's `quire` command against a real server process (PGlite in a temp directory, mail to an
 * in-process SMTP sink): import a list, create, test and send a broadcast, follow it, export, verify.
 */

const TOKEN = 'cli-e2e-admin-token-0123456789';
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of ['DATABASE_URL', 'SMTP_URL', 'SECRET_KEY', 'ADMIN_TOKEN', 'PUBLIC_URL', 'NODE_ENV', 'QUIRE_URL'])
    delete env[key];
  return env;
}

async function waitFor<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await Promise.resolve(probe()).catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe('the quire CLI against a running server', () => {
  let dir: string;
  let port: number;
  let server: ChildProcess;
  let serverOutput = '';
  const sink = new SmtpSink();
  const base = () => `http://127.0.0.1:${port}`;

  const run = (
    args: string[],
    env: Record<string, string | undefined> = {},
    entry = ['--import', 'tsx', 'src/cli.ts'],
  ): Promise<Run> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [...entry, ...args], {
        env: { ...cleanEnv(), QUIRE_URL: base(), ADMIN_TOKEN: TOKEN, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (d) => (stdout += d));
      child.stderr!.on('data', (d) => (stderr += d));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  const quire = (...args: string[]) => run(args);
  const ok = (r: Run) => {
    expect(r.code, `exit code; stderr:\n${r.stderr}`).toBe(0);
    return r.stdout;
  };
  const mailsTo = (address: string) => sink.to(address);

  let broadcastId = '';
  const ada = `ada.${Date.now()}@example.com`;
  const grace = `grace.${Date.now()}@example.com`;
  const linus = `linus.${Date.now()}@example.com`;

  beforeAll(async () => {
    await sink.start();
    dir = await mkdtemp(join(tmpdir(), 'quire-cli-'));
    port = await freePort();
    server = spawn(process.execPath, ['--import', 'tsx', 'src/runtime/node/main.ts'], {
      env: {
        ...cleanEnv(),
        QUIRE_DATA_DIR: join(dir, 'data'),
        PORT: String(port),
        PUBLIC_URL: `http://127.0.0.1:${port}`,
        ADMIN_TOKEN: TOKEN,
        SMTP_URL: sink.url,
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server.stdout!.on('data', (d) => (serverOutput += d));
    server.stderr!.on('data', (d) => (serverOutput += d));
    await waitFor(
      async () => ((await fetch(`${base()}/readyz`)).ok ? true : undefined),
      `/readyz (server output: ${serverOutput})`,
      90_000,
    );
  });

  afterAll(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server.once('exit', r));
      server.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (server.exitCode === null) server.kill('SIGKILL');
    }
    await sink.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('prints help for every command group and refuses to run without ADMIN_TOKEN', async () => {
    expect(ok(await quire('--help'))).toContain('usage: quire <command>');
    expect(ok(await quire('broadcast', '--help'))).toContain('retry-failed ID');
    expect(ok(await quire('broadcast', 'status', '--help'))).toContain('--follow');
    expect(ok(await quire('subscribers', 'import', '--help'))).toContain('consent_source');
    // The installed launcher (bin/quire.mjs) runs the same command.
    expect(ok(await run(['--help'], {}, ['bin/quire.mjs']))).toContain('usage: quire <command>');

    const noToken = await run(['broadcast', 'list'], { ADMIN_TOKEN: undefined });
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toContain('ADMIN_TOKEN is not set');
    const usage = await quire('broadcast', 'send');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('the broadcast ID is missing');
  });

  it('prints the API error message and exits 1', async () => {
    const wrongToken = await run(['broadcast', 'list'], { ADMIN_TOKEN: 'not-the-right-token-at-all' });
    expect(wrongToken.code).toBe(1);
    expect(wrongToken.stderr).toContain('Missing or invalid admin token.');
    // Guards against a refused token with no word on why: the server reads its own ADMIN_TOKEN (item 13).
    expect(wrongToken.stderr).toContain('ADMIN_TOKEN is not the one the server was started with');
    const missing = await quire('broadcast', 'status', '00000000-0000-4000-8000-000000000000');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('Broadcast not found.');
    expect(missing.stderr).not.toMatch(/\n\s+at /);
  });

  it('imports a CSV list: evidence rows active, the rest pending with a confirmation mail, bad rows reported by line', async () => {
    const csv = [
      '\uFEFFEmail, Name ,Topics,Consent At,consent_source,notes',
      `${ada},"Lovelace, Ada",release;updates,2026-03-14T18:30:00Z,paper form at launch event,met at the stand`,
      `  ${grace}  ,Grace,,2026-03-14,paper form at launch event,`,
      `${linus},"Linus ""T""",release,,,no evidence`,
      'not-an-address,Nobody,,,,',
      '',
    ].join('\r\n');
    const file = join(dir, 'list.csv');
    await writeFile(file, csv);

    const r = await quire('subscribers', 'import', file);
    const out = ok(r);
    expect(out).toContain('imported: 2 active, 1 pending');
    expect(out).toContain('invalid:  1');
    expect(out).toContain('line 5 (email): not a valid email address');
    expect(r.stderr).toContain('ignoring column: notes');

    const confirmation = await waitFor(() => mailsTo(linus)[0], 'the confirmation mail to the row without evidence');
    expect(confirmation.parsed.subject).toMatch(/^Confirm your subscription/);
    expect(mailsTo(ada)).toHaveLength(0);

    // Running the same file again changes nothing.
    expect(ok(await quire('subscribers', 'import', file))).toMatch(
      /imported: 0 active, 0 pending[\s\S]*skipped:\s+3 already on the list/,
    );
  });

  it('lists templates and creates a draft from a props file', async () => {
    expect(ok(await quire('templates'))).toMatch(/release-announcement\s+/);
    const props = ok(await quire('templates', 'release-announcement'));
    const propsFile = join(dir, 'props.json');
    await writeFile(propsFile, props);
    expect(JSON.parse(props)).toBeTypeOf('object');

    const created = ok(
      await quire(
        'broadcast',
        'create',
        '--template',
        'release-announcement',
        '--topic',
        'release',
        '--subject',
        'The book is out',
        '--preheader',
        'Finally.',
        '--props',
        propsFile,
      ),
    );
    broadcastId = UUID.exec(created)![0];
    expect(created).toContain(`created draft ${broadcastId}`);

    const bad = await quire(
      'broadcast',
      'create',
      '--template',
      'release-announcement',
      '--topic',
      'release',
      '--subject',
      'x',
      '--props',
      join(dir, 'missing.json'),
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('cannot read');
  });

  it('previews the draft as HTML in a temp file and as text', async () => {
    const path = ok(await quire('broadcast', 'preview', broadcastId)).trim();
    expect(path).toMatch(/\.html$/);
    expect(await readFile(path, 'utf8')).toMatch(/<html[\s>]/i);
    await rm(join(path, '..'), { recursive: true, force: true });
    expect(ok(await quire('broadcast', 'preview', broadcastId, '--text')).length).toBeGreaterThan(50);
  });

  it('sends a test copy that arrives at the SMTP sink', async () => {
    expect(
      ok(await quire('broadcast', 'test', broadcastId, '--to', 'me@example.com', '--to', 'editor@example.com')),
    ).toContain('queued 2 test copies');
    const test = await waitFor(() => mailsTo('me@example.com')[0], 'the test copy');
    expect(test.parsed.subject).toContain('The book is out');
    expect(test.parsed.subject).toMatch(/test/i);
    await waitFor(() => mailsTo('editor@example.com')[0], 'the second test copy');
  });

  it('sends, and status --follow exits once sent with the final counts; the mails arrive', async () => {
    // Without --yes it asks; a closed stdin is no answer, and nothing is sent.
    const unanswered = await quire('broadcast', 'send', broadcastId);
    expect(unanswered.code).toBe(1);
    expect(unanswered.stdout).toMatch(/^"The book is out" goes to 2 people — not to 0 unsubscribed, 1 pending/);
    expect(unanswered.stderr).toContain('Send it now to 2? [y/N]');
    expect(unanswered.stderr).toContain('quire: not sent (answer y, or pass --yes)');
    expect(ok(await quire('broadcast', 'status', broadcastId))).toMatch(/^draft:/);

    expect(ok(await quire('broadcast', 'send', broadcastId, '--yes'))).toContain(
      `sending ${broadcastId} to 2 recipients`,
    );

    const follow = await quire('broadcast', 'status', broadcastId, '--follow', '--interval', '0.2');
    const lines = ok(follow).trim().split('\n');
    expect(lines.at(-1)).toMatch(/^sent: 2\/2 sent {2}0 failed {2}0 bounced$/);
    expect(follow.stdout).not.toContain('\r'); // not a terminal: plain lines only

    for (const address of [ada, grace]) {
      const mail = await waitFor(
        () => mailsTo(address).find((m) => m.parsed.subject === 'The book is out'),
        `the broadcast to ${address}`,
      );
      expect(mail.raw).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r?$/m);
    }
    expect(mailsTo(linus).map((m) => m.parsed.subject)).not.toContain('The book is out');

    expect(ok(await quire('broadcast', 'status', broadcastId))).toMatch(/^sent: 2\/2 sent/);
    expect(ok(await quire('broadcast', 'list'))).toMatch(new RegExp(`${broadcastId}\\s+sent`));
    // Sending it again is refused, before anything is asked or posted.
    const again = await quire('broadcast', 'send', broadcastId, '--yes');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`quire: ${broadcastId} is already sent to 2 recipients; nothing was sent again.`);
    // Guards against "sent … to 2 recipients" and exit 0 for a resend with --at in the past (issue 15, item 12).
    const past = await quire('broadcast', 'send', broadcastId, '--at', '2020-01-01T00:00:00Z', '--yes');
    expect(past.code).toBe(1);
    expect(past.stdout).not.toContain('recipients');
    const cancel = await quire('broadcast', 'cancel', broadcastId);
    expect(cancel.code).toBe(1);
    expect(cancel.stderr).toContain('The broadcast is sent');
    // Every command here is its own process: on a busy machine they outlast the default test timeout.
  }, 120_000);

  it('exports the list as CSV that reads back with csv-parse', async () => {
    const all = parse(ok(await quire('subscribers', 'export')), { columns: true }) as Record<string, string>[];
    expect(all.map((r) => r.email).sort()).toEqual([ada, grace, linus].sort());
    const byEmail = new Map(all.map((r) => [r.email, r]));
    expect(byEmail.get(ada)).toMatchObject({ name: 'Lovelace, Ada', status: 'active', topics: 'release;updates' });
    expect(byEmail.get(linus)).toMatchObject({ name: 'Linus "T"', status: 'pending', topics: '', confirmed_at: '' });

    const active = parse(ok(await quire('subscribers', 'export', '--status', 'active')), { columns: true }) as Record<
      string,
      string
    >[];
    expect(active.map((r) => r.email).sort()).toEqual([ada, grace].sort());

    // The export goes back in as it is.
    const file = join(dir, 'exported.csv');
    await writeFile(file, ok(await quire('subscribers', 'export')));
    const back = await quire('subscribers', 'import', file);
    expect(ok(back)).toMatch(/imported: 0 active, 0 pending[\s\S]*skipped:\s+3 already on the list[\s\S]*invalid:\s+0/);
    expect(back.stderr).toBe('ignoring column: created_at\n');
  });

  it('ingests a saved bounce report, and refuses a message that is not one', async () => {
    expect(ok(await quire('bounces', 'ingest', 'tests/fixtures/bounces/postfix-5.1.1-verp.eml'))).toMatch(
      /^dsn: 1 report\(s\)/,
    );
    const notAReport = await quire('bounces', 'ingest', 'tests/fixtures/bounces/auto-reply-out-of-office.eml');
    expect(notAReport.code).toBe(1);
    const missing = await quire('bounces', 'ingest', 'tests/fixtures/bounces/nope.eml');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read/);
  });

  it('verifies the consent ledger', async () => {
    expect(ok(await quire('consent', 'verify'))).toMatch(/^ok: \d+ consent events, chain intact/);
  });
});
