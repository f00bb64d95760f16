import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_TOKEN,
  adminSnapshot,
  checkPage,
  hasChromium,
  launchBrowser,
  linksIn,
  mailTo,
  type PageProblems,
  type Quire,
  startQuire,
  watchContext,
} from './support.js';

/**
 * The author's console in a real browser against `npm start`: sign in, read the overview, find a reader
 * on the subscribers page, open their record and unsubscribe them, sign out. Every page is checked with
 * axe-core and at 320 px, under the console's real CSP.
 */

let seq = 0;
const uniqueEmail = (label: string) => `${label}.${process.pid}.${Date.now().toString(36)}.${seq++}@example.com`;

describe.skipIf(!hasChromium)('the console in Chromium', { timeout: 120_000 }, () => {
  let quire: Quire;
  let browser: Browser;

  beforeAll(async () => {
    [quire, browser] = await Promise.all([startQuire(), launchBrowser()]);
  });
  afterAll(async () => {
    await browser?.close();
    await quire?.stop();
  });

  async function newPage(): Promise<{ context: BrowserContext; page: Page; problems: PageProblems }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    context.setDefaultTimeout(10_000);
    const problems = watchContext(context);
    return { context, page: await context.newPage(), problems };
  }

  /** A reader who signed up and confirmed, through the public API and the link in their mail. */
  async function confirmedReader(name: string): Promise<string> {
    const email = uniqueEmail(name.toLowerCase());
    const res = await fetch(`${quire.base}/v1/subscriptions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, name, consent: true, source: 'book-site' }),
    });
    expect(res.status).toBe(202);
    const confirm = linksIn(await mailTo(quire, email, /^Confirm your subscription/)).find((l) =>
      l.includes('/confirm/'),
    )!;
    expect((await fetch(confirm, { method: 'POST', headers: { accept: 'application/json' } })).status).toBe(200);
    return email;
  }

  it('signs in, shows the overview, finds a reader, and unsubscribes them', async () => {
    const email = await confirmedReader('Grace');
    await confirmedReader('Alan');
    const { context, page, problems } = await newPage();

    // Signed out, the console sends the browser to the sign-in page.
    await page.goto(`${quire.base}/admin/subscribers`);
    expect(new URL(page.url()).pathname).toBe('/admin/login');
    await checkPage(page, 'console-01-sign-in');
    await page.getByLabel('Admin token').fill('a-wrong-token-0123456789');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toBe('That is not the admin token.');
    await checkPage(page, 'console-02-sign-in-wrong');
    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    // Back where it was going, and the token is in no URL the browser saw.
    await expect.poll(() => new URL(page.url()).pathname).toBe('/admin/subscribers');
    expect(page.url()).not.toContain(ADMIN_TOKEN);
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === 'quire_console')!;
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/admin' });

    // The overview: the counts, the chart and its table, the checklist.
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Overview' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Overview');
    expect(await page.locator('#waiting').textContent()).toBe('2');
    expect(await page.locator('[data-status="active"] .n').textContent()).toBe('2');
    expect(await page.getByRole('img', { name: 'Confirmed signups and unsubscribes per day' }).count()).toBe(1);
    await page.getByText('The numbers, day by day').click();
    const today = new Date().toISOString().slice(0, 10);
    expect(await page.locator('#growth-table tbody tr').first().textContent()).toBe(`${today}20`);
    expect(await page.locator('#confirm-share').textContent()).toBe('100%');
    expect(await page.locator('.checklist li').count()).toBeGreaterThanOrEqual(5);
    await checkPage(page, 'console-03-overview');

    // Subscribers: search by the start of the address, open the record.
    await page.getByRole('link', { name: 'Subscribers', exact: true }).click();
    await expect.poll(() => page.locator('#subscribers tbody tr').count()).toBe(2);
    await checkPage(page, 'console-04-subscribers');
    await page.getByLabel('Address or name starts with').fill(email.slice(0, 12));
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => page.locator('#subscribers tbody tr').count()).toBe(1);
    await page.getByRole('link', { name: email }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe(email);
    expect(
      await page.locator('#timeline li').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-kind'))),
    ).toEqual(['requested', 'confirmed']);
    expect(await page.locator('#timeline blockquote').first().textContent()).toContain(
      'Leave your email to hear when the book is available',
    );
    await checkPage(page, 'console-05-subscriber');

    // The erase step asks first; keeping them changes nothing.
    await page.getByRole('link', { name: 'Erase…' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Erase this subscriber?');
    await checkPage(page, 'console-06-erase-step');
    await page.getByRole('link', { name: 'Keep them' }).click();

    // Unsubscribe: one click, a notice, the new status, and the ledger's event.
    await page.getByRole('button', { name: 'Unsubscribe' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toContain('Unsubscribed.');
    expect(await page.locator('#status').textContent()).toBe('Unsubscribed');
    await checkPage(page, 'console-07-unsubscribed');
    const { subscriber } = await adminSnapshot(quire, email);
    expect(subscriber).toMatchObject({ status: 'unsubscribed' });
    const history = (subscriber as { consentHistory: { kind: string; source: string }[] }).consentHistory;
    expect(history.at(-1)).toMatchObject({ kind: 'unsubscribed', source: 'console' });

    // The overview counts it at once.
    await page.getByRole('link', { name: 'Overview', exact: true }).click();
    expect(await page.locator('[data-status="unsubscribed"] .n').textContent()).toBe('1');

    // Keyboard: the skip link is the first stop, and it leads to the page's content.
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toBe('You are signed out.');
    await page.goto(`${quire.base}/admin`);
    expect(new URL(page.url()).pathname).toBe('/admin/login');

    expect(problems.csp).toEqual([]);
    expect(problems.errors).toEqual([]);
    await context.close();
  });
});
