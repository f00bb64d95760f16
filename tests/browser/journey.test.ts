import { readFile } from 'node:fs/promises';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminSnapshot,
  checkPage,
  hasChromium,
  launchBrowser,
  mailTo,
  type PageProblems,
  type Quire,
  startQuire,
  watchContext,
} from './support.js';

/**
 * The newcomer's whole journey in a real browser against `npm start`: the book's demo page → signup →
 * the captured mail at /_dev/mail → confirm → preferences (topics, download, unsubscribe, resubscribe,
 * delete), once with JavaScript and once without. Every page is checked with axe-core and at 320 px.
 */

const CONFIRM_SUBJECT = /^Confirm your subscription/;
const WELCOME_SUBJECT = /^You're on the list/;
const LINK_SUBJECT = /^Your link to manage/;

let seq = 0;
const uniqueEmail = (label: string) => `${label}.${process.pid}.${Date.now().toString(36)}.${seq++}@example.com`;

describe.skipIf(!hasChromium)('subscriber journey in Chromium', { timeout: 120_000 }, () => {
  let quire: Quire;
  let browser: Browser;

  beforeAll(async () => {
    // No cooldown, so a fresh confirmation link can be asked for right after signing up.
    [quire, browser] = await Promise.all([startQuire({ CONFIRM_COOLDOWN_SECONDS: '0' }), launchBrowser()]);
  });
  afterAll(async () => {
    await browser?.close();
    await quire?.stop();
  });

  async function newPage(
    options: Parameters<Browser['newContext']>[0] = {},
  ): Promise<{ context: BrowserContext; page: Page; problems: PageProblems }> {
    const context = await browser.newContext({ viewport: { width: 1024, height: 800 }, ...options });
    // Fail fast with the step that failed, not with the test's own timeout.
    context.setDefaultTimeout(10_000);
    const problems = watchContext(context);
    return { context, page: await context.newPage(), problems };
  }

  /** Open the newest mail to `email` from the /_dev/mail list, as a person would. */
  async function openCapturedMail(page: Page, email: string, subject: RegExp) {
    await mailTo(quire, email, subject);
    await page.goto(`${quire.base}/_dev/mail`);
    await page
      .getByRole('listitem')
      .filter({ hasText: email })
      .filter({ hasText: subject })
      .first()
      .getByRole('link')
      .click();
    await expect.poll(() => page.locator('h1').textContent()).toMatch(subject);
  }

  const mailFrame = (page: Page) => page.frameLocator('iframe.mail-frame');

  /** Links in a mail open in a new tab (React Email marks them target=_blank), as in a mail client. */
  async function clickMailLink(page: Page, name: string): Promise<Page> {
    const [tab] = await Promise.all([
      page.context().waitForEvent('page'),
      mailFrame(page).getByRole('link', { name, exact: true }).click(),
    ]);
    await tab.waitForLoadState();
    await page.close();
    return tab;
  }

  it('with JavaScript: sign up on the demo page, confirm from the mail, then manage everything from the preferences page', async () => {
    const { context, problems, page: first } = await newPage();
    let page = first;
    const email = uniqueEmail('ada');

    // The demo landing page, and the form's inline answers.
    await page.goto(`${quire.base}/`);
    await expect.poll(() => page.title()).toContain('How Teams Think Before They Build');
    await expect.poll(() => page.locator('#signup').getAttribute('data-quire-ready')).toBe('true');
    await checkPage(page, '01-landing');

    // Guards against an empty submit that flags the consent box but not the empty address (issue 15, item 7).
    await page.getByRole('button', { name: 'Keep me posted' }).click();
    await expect.poll(() => page.getByLabel('Email address').getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByRole('checkbox', { name: /Leave your email to hear/ }).getAttribute('aria-invalid')).toBe(
      'true',
    );
    expect(await page.locator('[data-quire-error]').textContent()).toBe(
      "That doesn't look like a valid email. Please check and try again. Please tick the box to agree to be contacted about this book.",
    );

    await page.getByLabel('Email address').fill('ada@localhost');
    await page.getByRole('checkbox', { name: /Leave your email to hear when the book is available/ }).check();
    await page.getByRole('button', { name: 'Keep me posted' }).click();
    await expect
      .poll(() => page.locator('[data-quire-error]').textContent())
      .toBe("That doesn't look like a valid email. Please check and try again.");
    expect(await page.getByLabel('Email address').getAttribute('aria-invalid')).toBe('true');
    expect(page.url()).toBe(`${quire.base}/`); // no navigation: the script answered in place
    await checkPage(page, '02-landing-invalid-email-js');

    await page.getByLabel('Email address').fill(email);
    await page.getByRole('button', { name: 'Keep me posted' }).click();
    const status = page.getByRole('status');
    // Double opt-in: nobody is on the list before confirming, and the page says so (issue 15, item 5).
    await expect.poll(() => status.textContent()).toContain('Almost there: check your inbox');
    expect(await status.textContent()).toContain("You're on the list once you click it.");
    expect(await page.locator('[data-quire-fields]').isHidden()).toBe(true);
    await checkPage(page, '03-landing-subscribed-js');

    // The captured confirmation mail, opened from /_dev/mail; its button opens the confirm page.
    await openCapturedMail(page, email, CONFIRM_SUBJECT);
    await expect
      .poll(() => mailFrame(page).getByRole('heading', { name: 'Confirm your subscription' }).count())
      .toBe(1);
    await checkPage(page, '04-dev-mail-confirmation');
    page = await clickMailLink(page, 'Confirm my subscription');
    expect(page.url()).toMatch(/\/confirm\/[A-Za-z0-9_-]+$/);
    expect((await adminSnapshot(quire, email)).subscriber).toMatchObject({ status: 'pending' }); // GET changed nothing
    await checkPage(page, '05-confirm');
    await page.getByRole('button', { name: 'Confirm my subscription' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe("You're on the list");
    await checkPage(page, '06-confirmed');
    expect((await adminSnapshot(quire, email)).subscriber).toMatchObject({ status: 'active' });

    // The welcome mail's link to the preference centre.
    await openCapturedMail(page, email, WELCOME_SUBJECT);
    await checkPage(page, '07-dev-mail-welcome');
    page = await clickMailLink(page, 'preferences page');
    expect(page.url()).toMatch(/\/preferences\/[A-Za-z0-9_-]+$/);
    const preferencesUrl = page.url();
    await checkPage(page, '08-preferences');
    const updates = page.getByRole('checkbox', { name: /Updates/i });
    const release = page.getByRole('checkbox', { name: /Release/i });
    expect(await updates.isChecked()).toBe(true);
    expect(await release.isChecked()).toBe(true);

    // Untick a topic, name yourself, save; the saved state survives a reload.
    await updates.uncheck();
    await page.getByLabel('Your name (optional)').fill('Ada');
    await page.getByRole('button', { name: 'Save preferences' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toContain('Saved');
    await checkPage(page, '09-preferences-saved');
    await page.reload();
    expect(await page.getByRole('checkbox', { name: /Updates/i }).isChecked()).toBe(false);
    expect(await page.getByRole('checkbox', { name: /Release/i }).isChecked()).toBe(true);
    expect(await page.getByLabel('Your name (optional)').inputValue()).toBe('Ada');

    // Download my data: a real download, parsed as JSON.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download my data' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('my-subscription-data.json');
    const exported = JSON.parse(await readFile((await download.path())!, 'utf8'));
    expect(exported.profile).toMatchObject({ email, name: 'Ada', status: 'active' });
    expect(exported.subscriptions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ topic: 'release', subscribed: true }),
        expect.objectContaining({ topic: 'updates', subscribed: false }),
      ]),
    );
    expect(exported.consentHistory.map((e: { kind: string }) => e.kind)).toEqual([
      'requested',
      'confirmed',
      'topics_changed',
    ]);
    expect(exported.deliveries.map((d: { kind: string }) => d.kind)).toEqual(['confirmation', 'welcome']);

    // Unsubscribe from the welcome mail's footer link, then change your mind.
    await openCapturedMail(page, email, WELCOME_SUBJECT);
    page = await clickMailLink(page, 'Unsubscribe');
    expect(page.url()).toMatch(/\/unsubscribe\/[A-Za-z0-9_-]+$/);
    await checkPage(page, '10-unsubscribe');
    await page.getByRole('button', { name: 'Unsubscribe' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe("You're unsubscribed");
    await checkPage(page, '11-unsubscribed');
    expect((await adminSnapshot(quire, email)).subscriber).toMatchObject({ status: 'unsubscribed' });
    await page.getByRole('button', { name: 'Resubscribe' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe("You're back on the list");
    await checkPage(page, '12-resubscribed');
    const back = (await adminSnapshot(quire, email)).subscriber as {
      status: string;
      consentHistory: { kind: string; source: string }[];
    };
    expect(back.status).toBe('active');
    expect(back.consentHistory.map((e) => e.kind)).toEqual([
      'requested',
      'confirmed',
      'topics_changed',
      'unsubscribed',
      'resubscribed',
    ]);

    // Delete my data, with its second step.
    await page.getByRole('link', { name: 'Manage your preferences' }).click();
    await page.getByRole('button', { name: 'Delete my data…' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Delete my data?');
    await checkPage(page, '13-erase-confirm');
    expect((await adminSnapshot(quire, email)).subscriber).toMatchObject({ status: 'active' });
    await page.getByRole('button', { name: 'Yes, delete my data' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Your data is deleted');
    await checkPage(page, '14-erased');
    const after = await adminSnapshot(quire, email);
    expect(after.subscriber).toBeNull(); // the address is gone: nothing matches it any more

    // The old link now explains itself.
    const gone = await page.goto(preferencesUrl);
    expect(gone!.status()).toBe(404);
    await checkPage(page, '15-link-not-valid');

    expect(problems).toEqual({ csp: [], errors: [] });
    await context.close();
  });

  it('without JavaScript: the plain form posts, error and thank-you pages, confirm, preferences and "manage my subscription"', async () => {
    const { context, problems, page: first } = await newPage({ javaScriptEnabled: false });
    let page = first;
    // axe needs JavaScript: it audits the same (GET) pages in a JavaScript-enabled tab.
    const audit = await newPage();
    const axePage = audit.page;
    const email = uniqueEmail('grace');

    await page.goto(`${quire.base}/`);
    // Accepted by the browser's own check, refused by quire's: the form comes back with the site's message.
    await page.getByLabel('Email address').fill('grace@localhost');
    await page.getByRole('checkbox', { name: /Leave your email/ }).check();
    await page.getByRole('button', { name: 'Keep me posted' }).click();
    // The demo page answers the post itself, with the address and the tick kept (issue 15, item 3).
    await page.waitForURL(`${quire.base}/v1/subscriptions`);
    expect(await page.getByRole('alert').textContent()).toBe(
      "That doesn't look like a valid email. Please check and try again.",
    );
    expect(await page.getByLabel('Email address').getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByLabel('Email address').inputValue()).toBe('grace@localhost');
    expect(await page.getByRole('checkbox', { name: /Leave your email/ }).isChecked()).toBe(true);
    await checkPage(page, '20-landing-invalid-email-nojs', { axePage });

    await page.getByLabel('Email address').fill(email);
    await page.getByRole('checkbox', { name: /Leave your email/ }).check();
    await page.getByRole('button', { name: 'Keep me posted' }).click();
    await page.waitForURL(`${quire.base}/subscribed`);
    expect(await page.locator('h1').textContent()).toBe('Almost there: check your inbox');
    expect(await page.locator('main').textContent()).toContain(
      "We'll only contact you about this book and related updates — no spam, no unrelated marketing.",
    );
    await checkPage(page, '21-subscribed-nojs', { axePage });

    await openCapturedMail(page, email, CONFIRM_SUBJECT);
    page = await clickMailLink(page, 'Confirm my subscription');
    expect(page.url()).toMatch(/\/confirm\//);
    await page.getByRole('button', { name: 'Confirm my subscription' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe("You're on the list");

    // Lost the welcome mail? "Manage my subscription" sends a fresh preferences link.
    await page.goto(`${quire.base}/manage`);
    await checkPage(page, '22-manage', { axePage });
    await page.getByLabel('Email address').fill(email);
    await page.getByRole('button', { name: 'Email me a link' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Check your inbox');
    await checkPage(page, '23-manage-sent', { axe: false }); // a POST's answer; the same page is audited in the resend test
    await openCapturedMail(page, email, LINK_SUBJECT);
    await checkPage(page, '24-dev-mail-preferences-link', { axePage });
    page = await clickMailLink(page, 'Manage my subscription');
    expect(page.url()).toMatch(/\/preferences\//);

    await page.getByRole('checkbox', { name: /Release/i }).uncheck();
    await page.getByRole('button', { name: 'Save preferences' }).click();
    await page.waitForURL(/\?saved=saved$/);
    expect(await page.getByRole('status').textContent()).toContain('Saved');
    await page.reload();
    expect(await page.getByRole('checkbox', { name: /Release/i }).isChecked()).toBe(false);
    expect(await page.getByRole('checkbox', { name: /Updates/i }).isChecked()).toBe(true);

    await page.getByRole('button', { name: 'Unsubscribe from everything' }).click();
    await page.waitForURL(/\?saved=unsubscribed$/);
    await checkPage(page, '25-preferences-unsubscribed', { axePage });
    await page.getByRole('button', { name: 'Resubscribe' }).click();
    await page.waitForURL(/\?saved=resubscribed$/);
    const sub = (await adminSnapshot(quire, email)).subscriber as {
      status: string;
      consentHistory: { kind: string; source: string }[];
    };
    expect(sub.status).toBe('active');
    expect(sub.consentHistory.at(-1)).toMatchObject({ kind: 'resubscribed', source: 'preferences' });

    expect(problems).toEqual({ csp: [], errors: [] });
    expect(audit.problems).toEqual({ csp: [], errors: [] });
    await Promise.all([context.close(), audit.context.close()]);
  });

  it('a broken confirmation link explains itself and offers a fresh one by email', async () => {
    const { context, problems, page: first } = await newPage();
    let page = first;
    const email = uniqueEmail('lin');
    const signup = await fetch(`${quire.base}/v1/subscriptions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, consent: true }),
    });
    expect(signup.status).toBe(202);
    await mailTo(quire, email, CONFIRM_SUBJECT);

    const res = await page.goto(`${quire.base}/confirm/${'A'.repeat(43)}`);
    expect(res!.status()).toBe(404);
    expect(await page.locator('h1').textContent()).toBe('This link does not work');
    await checkPage(page, '30-confirm-link-broken');
    await page.getByLabel('Email address').fill(email);
    await page.getByRole('button', { name: 'Send me a new link' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Check your inbox');
    await checkPage(page, '31-confirm-link-resent');
    // A second confirmation mail; its link confirms.
    await mailTo(quire, email, CONFIRM_SUBJECT, 1);
    await openCapturedMail(page, email, CONFIRM_SUBJECT);
    page = await clickMailLink(page, 'Confirm my subscription');
    expect(page.url()).toMatch(/\/confirm\//);
    await page.getByRole('button', { name: 'Confirm my subscription' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe("You're on the list");
    expect((await adminSnapshot(quire, email)).subscriber).toMatchObject({ status: 'active' });

    expect(problems).toEqual({ csp: [], errors: [] });
    await context.close();
  });

  it('the author previews every email template, and unknown pages get a readable 404', async () => {
    const { context, page, problems } = await newPage();
    await page.goto(`${quire.base}/admin/preview`);
    await checkPage(page, '40-admin-preview-index');
    const names = await page.locator('.mail-list li > a:first-child').allTextContents();
    expect(names).toEqual(expect.arrayContaining(['confirm-subscription', 'welcome', 'preferences-link']));
    for (const name of names) {
      const res = await page.goto(`${quire.base}/admin/preview/${name}`);
      expect(res!.status(), name).toBe(200);
      expect(await page.locator('h1').count(), name).toBeGreaterThan(0);
      await page.screenshot({ path: `tests/artifacts/browser/41-preview-${name}.png`, fullPage: true });
    }
    const missing = await page.goto(`${quire.base}/no/such/page`);
    expect(missing!.status()).toBe(404);
    await checkPage(page, '42-not-found');
    expect(problems).toEqual({ csp: [], errors: [] });
    await context.close();
  });
});
