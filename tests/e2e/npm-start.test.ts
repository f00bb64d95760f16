import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The newcomer's path, on a real process: `npm start` on embedded defaults (PGlite in a fresh data
 * directory, captured mail), then signup → confirmation mail on disk → confirm → welcome → unsubscribe.
 */

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

function startQuire(env: Record<string, string>): {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
} {
  let out = '';
  const clean = { ...process.env };
  for (const key of ['DATABASE_URL', 'SMTP_URL', 'SECRET_KEY', 'ADMIN_TOKEN', 'PUBLIC_URL', 'NODE_ENV'])
    delete clean[key];
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/runtime/node/main.ts'], {
    env: { ...clean, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

async function waitFor<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('npm start on embedded defaults', () => {
  let dataDir: string;
  let port: number;
  let quire: ReturnType<typeof startQuire>;
  const base = () => `http://127.0.0.1:${port}`;

  const mailFiles = async (suffix: string) =>
    (await readdir(join(dataDir, 'mail')).catch(() => [] as string[])).filter((f) => f.endsWith(suffix)).sort();
  const nthMailText = (n: number) =>
    waitFor(
      async () => {
        const files = await mailFiles('.txt');
        return files[n] ? readFile(join(dataDir, 'mail', files[n]!), 'utf8') : undefined;
      },
      `captured mail #${n + 1}`,
    );

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'quire-start-'));
    port = await freePort();
    quire = startQuire({ QUIRE_DATA_DIR: dataDir, PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` });
    // A fresh data directory runs initdb and every migration first: slow on a busy machine.
    await waitFor(async () => ((await fetch(`${base()}/readyz`)).ok ? true : undefined), '/readyz', 90_000);
  });

  afterAll(async () => {
    if (quire?.child.exitCode === null) quire.child.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  });

  it('creates its data directory, secret and database, and serves the demo page', async () => {
    const entries = await readdir(dataDir);
    expect(entries).toEqual(expect.arrayContaining(['pgdata', 'secret.key', 'quire.pid']));
    const page = await fetch(`${base()}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('How Teams Think Before They Build');
  });

  it('runs the whole lifecycle with captured mail', async () => {
    const email = `newcomer.${Date.now()}@example.com`;
    const signup = await fetch(`${base()}/v1/subscriptions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, consent: true }),
    });
    expect(signup.status).toBe(202);

    const confirmation = await nthMailText(0);
    expect(confirmation).toContain(`To: ${email}`);
    const confirmUrl = /http:\/\/\S+\/confirm\/[A-Za-z0-9_-]+/.exec(confirmation)![0];
    expect((await mailFiles('.eml')).length).toBe(1);

    const confirmed = await fetch(confirmUrl, { method: 'POST', headers: { accept: 'application/json' } });
    expect(await confirmed.json()).toEqual({ status: 'confirmed' });

    const welcome = await nthMailText(1);
    const unsubscribeUrl = /http:\/\/\S+\/unsubscribe\/[A-Za-z0-9_-]+/.exec(welcome)![0];
    const unsubscribed = await fetch(unsubscribeUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
      redirect: 'manual',
    });
    expect(unsubscribed.status).toBe(200);
    expect(unsubscribed.headers.get('location')).toBeNull();
    expect(quire.output()).not.toContain(email);
  });

  it('refuses a second process on the same embedded database', async () => {
    const second = startQuire({ QUIRE_DATA_DIR: dataDir, PORT: String(await freePort()) });
    expect(await second.exited).toBe(1);
    expect(second.output()).toMatch(/in use by process/);
  });

  it('stops cleanly on SIGTERM and releases the data directory', async () => {
    quire.child.kill('SIGTERM');
    expect(await quire.exited).toBe(0);
    expect(await readdir(dataDir)).not.toContain('quire.pid');
  });
});

describe('npm start with bad configuration', () => {
  it('stops with one message naming every bad variable', async () => {
    const run = startQuire({
      PORT: 'eighty',
      RATE_LIMIT_IP: '-1',
      SMTP_URL: 'http://not-smtp',
      QUIRE_DATA_DIR: join(tmpdir(), 'quire-never'),
    });
    expect(await run.exited).toBe(1);
    const out = run.output();
    for (const name of ['PORT', 'RATE_LIMIT_IP', 'SMTP_URL']) expect(out).toContain(name);
    expect(out).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('refuses production without a secret key', async () => {
    const run = startQuire({ NODE_ENV: 'production', QUIRE_DATA_DIR: join(tmpdir(), 'quire-never') });
    expect(await run.exited).toBe(1);
    expect(run.output()).toContain('SECRET_KEY');
  });
});
