import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { type CapturedMail, createCaptureMailbox } from '../../src/mail/capture.js';

/**
 * Browser tests drive Debian's Chromium (installed by scripts/ensure-chromium.mjs, never downloaded)
 * against the real Node server, started the way a newcomer starts it: `src/runtime/node/main.ts` on
 * embedded defaults, with PGlite in a fresh data directory and mail captured for /_dev/mail.
 */

export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);
export const ADMIN_TOKEN = 'browser-test-admin-token-0123456789';
export const ARTIFACTS = join(process.cwd(), 'tests', 'artifacts', 'browser');
const AXE_SOURCE = join(process.cwd(), 'node_modules', 'axe-core', 'axe.min.js');

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

export interface Quire {
  base: string;
  dataDir: string;
  /** Captured mail, read with the same code the /_dev/mail page uses. */
  mailbox: ReturnType<typeof createCaptureMailbox>;
  output(): string;
  stop(): Promise<void>;
}

/** `npm start` in a fresh data directory, on a free port; resolves once /readyz answers. */
export async function startQuire(env: Record<string, string> = {}): Promise<Quire> {
  const dataDir = await mkdtemp(join(tmpdir(), 'quire-browser-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const clean = { ...process.env };
  for (const key of ['DATABASE_URL', 'SMTP_URL', 'SECRET_KEY', 'PUBLIC_URL', 'NODE_ENV', 'TEST_DATABASE_URL'])
    delete clean[key];
  let out = '';
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/runtime/node/main.ts'], {
    env: {
      ...clean,
      QUIRE_DATA_DIR: dataDir,
      PORT: String(port),
      PUBLIC_URL: base,
      ADMIN_TOKEN,
      // People take longer than 1.5 s to fill the form; a test does not.
      SIGNUP_MIN_FILL_MS: '0',
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitFor(
    async () => ((await fetch(`${base}/readyz`)).ok ? true : undefined),
    `quire at ${base}\n${out}`,
    90_000,
  );
  return {
    base,
    dataDir,
    mailbox: createCaptureMailbox(join(dataDir, 'mail')),
    output: () => out,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export async function waitFor<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** The newest captured mail to `to` whose subject matches, once the delivery loop has sent it. */
export async function mailTo(q: Quire, to: string, subject: RegExp, after = 0): Promise<CapturedMail> {
  return waitFor(async () => {
    const hits = (await q.mailbox.list()).filter((m) => m.to.includes(to) && subject.test(m.subject));
    if (hits.length <= after) return undefined;
    return q.mailbox.read(hits[0]!.id);
  }, `mail to ${to} matching ${subject}`);
}

/** Every http(s) link a mail carries: text part, HTML hrefs and the List-Unsubscribe header. */
export function linksIn(mail: CapturedMail): string[] {
  const header = mail.headers.find(([k]) => k.toLowerCase() === 'list-unsubscribe')?.[1] ?? '';
  const found = [
    ...mail.text.matchAll(/https?:\/\/[^\s\]>"]+/g),
    ...mail.html.matchAll(/href="(https?:\/\/[^"]+)"/g),
    ...header.matchAll(/<(https?:\/\/[^>]+)>/g),
  ].map((m) => (m[1] ?? m[0]).replace(/&amp;/g, '&'));
  return [...new Set(found)];
}

/** Through the admin API: everything a click could change about one subscriber, plus the ledger's length. */
export async function adminSnapshot(q: Quire, email: string) {
  const get = async (path: string) => {
    const res = await fetch(`${q.base}${path}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(res.status, path).toBe(200);
    return res.json() as Promise<Record<string, unknown>>;
  };
  // Verify first: it seals pending consent events, so the history read next carries its final hashes
  // whenever the running service's own sealer would have got to them.
  const ledger = await get('/admin/v1/consent/verify');
  const list = (await get(`/admin/v1/subscribers?q=${encodeURIComponent(email)}`)) as { data: { id: string }[] };
  const id = list.data[0]?.id;
  const subscriber = id ? await get(`/admin/v1/subscribers/${id}`) : null;
  return { subscriber, ledger };
}

export interface PageProblems {
  csp: string[];
  errors: string[];
}

/** Collects CSP violations and script errors any page of the context reports, so a test can assert there were none. */
export function watchContext(context: BrowserContext): PageProblems {
  const problems: PageProblems = { csp: [], errors: [] };
  const watch = (page: Page) => {
    page.on('console', (msg) => {
      if (/Content.Security.Policy/i.test(msg.text())) problems.csp.push(`${page.url()}: ${msg.text()}`);
    });
    page.on('pageerror', (err) => problems.errors.push(`${page.url()}: ${err.message}`));
  };
  context.pages().forEach(watch);
  context.on('page', watch);
  return problems;
}

let axeSource: string | undefined;

/**
 * The checks every page gets: axe-core finds no serious or critical violation, nothing scrolls
 * sideways at 320 px, and a screenshot at desktop and at 320 px width is kept under tests/artifacts.
 *
 * axe is evaluated through the DevTools protocol rather than added as a <script> tag: our pages'
 * CSP (rightly) refuses inline script, and the journey runs under the real CSP. A page in a context
 * with JavaScript disabled cannot run axe at all, so `axePage` (a JavaScript-enabled page) loads the
 * same URL for the audit. The 320 px check reads the width of a full-page screenshot, which grows
 * past 320 when anything overflows, so it works with or without JavaScript.
 */
export async function checkPage(page: Page, name: string, opts: { axePage?: Page; axe?: boolean } = {}): Promise<void> {
  if (opts.axe !== false) {
    const auditPage = opts.axePage ?? page;
    if (opts.axePage) await opts.axePage.goto(page.url());
    expect(await audit(auditPage), `axe on ${name} (${page.url()})`).toEqual([]);
  }

  await mkdir(ARTIFACTS, { recursive: true });
  const size = page.viewportSize() ?? { width: 1024, height: 800 };
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  await page.setViewportSize({ width: 320, height: 720 });
  const narrow = await page.screenshot({ path: join(ARTIFACTS, `${name}-320.png`), fullPage: true });
  expect(narrow.readUInt32BE(16), `page width at 320 px on ${name} (wider means horizontal scroll)`).toBe(320);
  await page.setViewportSize(size);
}

/** Serious and critical axe-core violations on the page as it is now. */
async function audit(page: Page) {
  axeSource ??= await readFile(AXE_SOURCE, 'utf8');
  await page.waitForLoadState('load');
  const hasAxe = await page.evaluate(() => typeof (window as unknown as { axe?: unknown }).axe !== 'undefined');
  if (!hasAxe) await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    type Violation = { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] };
    const axe = (
      window as unknown as { axe: { run: (ctx: unknown, opts: unknown) => Promise<{ violations: Violation[] }> } }
    ).axe;
    const result = await axe.run(document, { iframes: false, resultTypes: ['violations'] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => JSON.stringify(n.target)),
    }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}
