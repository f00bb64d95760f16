import { createServer, type Server } from 'node:http';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminSnapshot,
  checkPage,
  freePort,
  hasChromium,
  launchBrowser,
  linksIn,
  mailTo,
  type Quire,
  startQuire,
  watchContext,
} from './support.js';

/**
 * quire seen from other origins: the author's book site embedding the copy-paste signup snippet, a
 * mail provider's link scanner, and a hostile page posting forms at the subscriber pages.
 */

let seq = 0;
const uniqueEmail = (label: string) => `${label}.${process.pid}.${Date.now().toString(36)}.${seq++}@example.com`;

/** A second web server: the author's site, or an attacker's, on another port (so another origin). */
function startSite(port: number, pages: Map<string, string>): Promise<Server> {
  const server = createServer((req, res) => {
    const body = pages.get(new URL(req.url ?? '/', 'http://x').pathname);
    res.writeHead(body ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' });
    res.end(body ?? 'not found');
  });
  return new Promise((resolve) => server.listen(port, () => resolve(server)));
}

const page = (title: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title></head><body><main>${body}</main></body></html>`;

/** A page that posts a form to `action` as soon as it loads — the classic cross-site request forgery. */
const autoPost = (action: string, fields: Record<string, string>) =>
  page(
    'Win a prize',
    `<form method="post" action="${action}">${Object.entries(fields)
      .map(([k, v]) => `<input type="hidden" name="${k}" value="${v}">`)
      .join('')}</form><script>document.forms[0].submit()</script>`,
  );

describe.skipIf(!hasChromium)('quire from other origins, in Chromium', { timeout: 120_000 }, () => {
  let quire: Quire;
  let browser: Browser;
  let site: Server;
  let sitePort: number;
  const pages = new Map<string, string>();
  const contexts: BrowserContext[] = [];

  // The author's site is http://localhost:PORT; quire runs at http://127.0.0.1:OTHER — another site.
  const siteUrl = (path: string) => `http://localhost:${sitePort}${path}`;

  beforeAll(async () => {
    sitePort = await freePort();
    [quire, browser, site] = await Promise.all([
      startQuire({ ALLOWED_ORIGINS: `http://localhost:${sitePort}` }),
      launchBrowser(),
      startSite(sitePort, pages),
    ]);
  });
  afterAll(async () => {
    await Promise.all(contexts.map((c) => c.close()));
    await browser?.close();
    await new Promise((r) => site?.close(r));
    await quire?.stop();
  });

  async function newContext(options: Parameters<Browser['newContext']>[0] = {}) {
    const context = await browser.newContext({ viewport: { width: 1024, height: 800 }, ...options });
    context.setDefaultTimeout(10_000);
    contexts.push(context);
    return { context, problems: watchContext(context), page: await context.newPage() };
  }

  async function activeSubscriber() {
    const email = uniqueEmail('scan');
    const signup = await fetch(`${quire.base}/v1/subscriptions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, consent: true }),
    });
    expect(signup.status).toBe(202);
    const confirmation = await mailTo(quire, email, /^Confirm/);
    const confirmUrl = linksIn(confirmation).find((l) => l.includes('/confirm/'))!;
    expect((await fetch(confirmUrl, { method: 'POST', headers: { accept: 'application/json' } })).status).toBe(200);
    const welcome = await mailTo(quire, email, /^You're on the list/);
    const links = linksIn(welcome);
    return {
      email,
      confirmation,
      welcome,
      preferencesUrl: links.find((l) => l.includes('/preferences/'))!,
      unsubscribeUrl: links.find((l) => l.includes('/unsubscribe/'))!,
    };
  }

  it("the copy-paste snippet works on the author's site: inline answers with its script, a plain post without", async () => {
    const form = (await (await fetch(`${quire.base}/v1/signup-form`)).json()) as {
      snippet: string;
      consentVersion: number;
      consentText: string;
    };
    expect(form.snippet).toContain(`value="${form.consentVersion}"`);
    expect(form.snippet).toContain(form.consentText);
    expect(form.snippet).not.toMatch(/<script>(?!<\/script>)/); // no inline code, only the external script
    pages.set(
      '/',
      page('How Teams Think Before They Build', `<h1>How Teams Think Before They Build</h1>${form.snippet}`),
    );

    // With script: fetch across origins (CORS from ALLOWED_ORIGINS) and the site's own messages, in place.
    const js = await newContext();
    await js.page.goto(siteUrl('/'));
    await expect.poll(() => js.page.locator('form[data-quire-signup]').getAttribute('data-quire-ready')).toBe('true');
    await checkPage(js.page, '50-author-site-snippet');
    await js.page.getByLabel('Email address').fill('reader@localhost');
    await js.page.getByRole('checkbox', { name: /Leave your email/ }).check();
    await js.page.getByRole('button', { name: 'Keep me posted' }).click();
    await expect
      .poll(() => js.page.getByRole('alert').textContent())
      .toBe("That doesn't look like a valid email. Please check and try again.");
    const email = uniqueEmail('author-site');
    await js.page.getByLabel('Email address').fill(email);
    await js.page.getByRole('button', { name: 'Keep me posted' }).click();
    await expect.poll(() => js.page.getByRole('status').textContent()).toContain('Almost there: check your inbox');
    expect(js.page.url()).toBe(siteUrl('/'));
    await checkPage(js.page, '51-author-site-snippet-subscribed');
    expect((await mailTo(quire, email, /^Confirm/)).to).toContain(email);
    const requested = (await adminSnapshot(quire, email)).subscriber as {
      source: string;
      consentHistory: { consentTextVersion: number }[];
    };
    expect(requested.source).toBe('book-site');
    expect(requested.consentHistory[0]!.consentTextVersion).toBe(form.consentVersion);
    // A plain post sent back with `?error=` (the script was not there yet): the script says why on load.
    await js.page.goto(siteUrl('/?error=invalid_email#signup'));
    await expect
      .poll(() => js.page.getByRole('alert').textContent())
      .toBe("That doesn't look like a valid email. Please check and try again.");
    expect(js.problems).toEqual({ csp: [], errors: [] });

    // Without script: the same snippet is a plain form post that lands on quire's thank-you page.
    const plain = await newContext({ javaScriptEnabled: false });
    const other = uniqueEmail('no-script');
    await plain.page.goto(siteUrl('/'));
    await plain.page.getByLabel('Email address').fill(other);
    await plain.page.getByRole('checkbox', { name: /Leave your email/ }).check();
    await plain.page.getByRole('button', { name: 'Keep me posted' }).click();
    await plain.page.waitForURL(`${quire.base}/subscribed`);
    expect(await plain.page.locator('h1').textContent()).toBe('Almost there: check your inbox');
    await mailTo(quire, other, /^Confirm/);
    // A mistake without script: the author's static page cannot show `?error=`, so quire's own signup
    // page answers the post, with the form to try again and what was typed still in it.
    await plain.page.goto(siteUrl('/'));
    await plain.page.getByLabel('Email address').fill('reader@localhost');
    await plain.page.getByRole('checkbox', { name: /Leave your email/ }).check();
    await plain.page.getByRole('button', { name: 'Keep me posted' }).click();
    await plain.page.waitForURL(`${quire.base}/v1/subscriptions`);
    expect(await plain.page.getByRole('alert').textContent()).toBe(
      "That doesn't look like a valid email. Please check and try again.",
    );
    expect(await plain.page.getByLabel('Email address').inputValue()).toBe('reader@localhost');
    expect(await plain.page.getByRole('checkbox', { name: /Leave your email/ }).isChecked()).toBe(true);
    await checkPage(plain.page, '52-quire-signup-page-error', { axe: false });

    // A site quire does not know (not in ALLOWED_ORIGINS): the script's fetch is refused before anything
    // is sent, so it falls back to the plain post, which still works.
    const stranger = await newContext();
    const third = uniqueEmail('unlisted-site');
    await stranger.page.goto(`http://127.0.0.1:${sitePort}/`);
    await stranger.page.getByLabel('Email address').fill(third);
    await stranger.page.getByRole('checkbox', { name: /Leave your email/ }).check();
    await stranger.page.getByRole('button', { name: 'Keep me posted' }).click();
    await stranger.page.waitForURL(`${quire.base}/subscribed`);
    await mailTo(quire, third, /^Confirm/);
  });

  it('a GET-only link scanner visiting every link in the mails changes nothing', async () => {
    const email = uniqueEmail('scanned');
    const signup = await fetch(`${quire.base}/v1/subscriptions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, consent: true }),
    });
    expect(signup.status).toBe(202);
    const confirmation = await mailTo(quire, email, /^Confirm/);
    const scanner = await newContext({ userAgent: 'Mozilla/5.0 (LinkScanner)' });

    const scan = async (links: string[]) => {
      expect(links.length).toBeGreaterThan(0);
      for (const link of links) {
        const res = await scanner.page.goto(link); // a scanner that renders pages, scripts and all
        expect(res!.status(), link).toBe(200);
        expect((await fetch(link, { method: 'HEAD' })).status, `HEAD ${link}`).toBe(200);
      }
    };

    let before = await adminSnapshot(quire, email);
    expect(before.subscriber).toMatchObject({ status: 'pending' });
    await scan(linksIn(confirmation));
    expect(await adminSnapshot(quire, email)).toEqual(before);

    // The person confirms (a POST); the scanner then visits everything in the welcome mail too.
    const confirmUrl = linksIn(confirmation).find((l) => l.includes('/confirm/'))!;
    expect((await fetch(confirmUrl, { method: 'POST', headers: { accept: 'application/json' } })).status).toBe(200);
    const welcome = await mailTo(quire, email, /^You're on the list/);
    const welcomeLinks = linksIn(welcome);
    expect(welcomeLinks.some((l) => l.includes('/unsubscribe/'))).toBe(true);
    expect(welcomeLinks.some((l) => l.includes('/preferences/'))).toBe(true);
    before = await adminSnapshot(quire, email);
    expect(before.subscriber).toMatchObject({ status: 'active' });
    await scan([...welcomeLinks, ...linksIn(confirmation)]);
    expect(await adminSnapshot(quire, email)).toEqual(before);
    expect(scanner.problems).toEqual({ csp: [], errors: [] });
  });

  it('a hostile page cannot post to preferences or resubscribe; the RFC 8058 one-click unsubscribe stays open by design', async () => {
    const sub = await activeSubscriber();
    const victim = await newContext();
    const visit = async (path: string, html: string, target: string) => {
      pages.set(path, html);
      const [response] = await Promise.all([
        victim.page.waitForResponse((r) => r.url() === target && r.request().method() === 'POST'),
        victim.page.goto(siteUrl(path)),
      ]);
      await victim.page.waitForLoadState();
      return response;
    };

    const before = await adminSnapshot(quire, sub.email);
    const toPreferences = await visit(
      '/attack-preferences',
      autoPost(sub.preferencesUrl, { intent: 'unsubscribe_all' }),
      sub.preferencesUrl,
    );
    expect(toPreferences.status()).toBe(403);
    expect(await victim.page.locator('main').textContent()).toContain('Cross-site form posts are not accepted here.');
    await checkPage(victim.page, '60-cross-site-refused');
    const erase = await visit(
      '/attack-erase',
      autoPost(sub.preferencesUrl, { intent: 'erase', confirm: 'true' }),
      sub.preferencesUrl,
    );
    expect(erase.status()).toBe(403);
    expect(await adminSnapshot(quire, sub.email)).toEqual(before);

    // A mail provider's one-click POST looks exactly like this (no Origin we know, no cookie): accepted.
    const oneClick = await visit(
      '/attack-unsubscribe',
      autoPost(sub.unsubscribeUrl, { 'List-Unsubscribe': 'One-Click' }),
      sub.unsubscribeUrl,
    );
    expect(oneClick.status()).toBe(200);
    const unsubscribed = await adminSnapshot(quire, sub.email);
    expect(unsubscribed.subscriber).toMatchObject({ status: 'unsubscribed' });

    // …but putting someone back on the list takes a same-origin post.
    const resubscribeUrl = `${sub.unsubscribeUrl}/resubscribe`;
    const resubscribe = await visit('/attack-resubscribe', autoPost(resubscribeUrl, {}), resubscribeUrl);
    expect(resubscribe.status()).toBe(403);
    expect(await adminSnapshot(quire, sub.email)).toEqual(unsubscribed);
    expect(victim.problems.errors).toEqual([]);
  });
});
