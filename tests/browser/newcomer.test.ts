import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasChromium, launchBrowser, mailTo, type Quire, startQuire, watchContext } from './support.js';

let seq = 0;
const uniqueEmail = (label: string) => `${label}.${process.pid}.${Date.now().toString(36)}.${seq++}@example.com`;

/** What a newcomer met on `npm start` (issue 15), in a real browser, with the real minimum fill time. */
describe.skipIf(!hasChromium)('a newcomer in Chromium', { timeout: 120_000 }, () => {
  let quire: Quire;
  let browser: Browser;

  beforeAll(async () => {
    [quire, browser] = await Promise.all([startQuire({ SIGNUP_MIN_FILL_MS: '1500' }), launchBrowser()]);
  });
  afterAll(async () => {
    await browser?.close();
    await quire?.stop();
  });

  async function newPage() {
    const context = await browser.newContext({ viewport: { width: 1024, height: 800 } });
    context.setDefaultTimeout(10_000);
    const problems = watchContext(context);
    return { context, page: await context.newPage(), problems };
  }

  // Guards against an autofilled form sent at once being told "check your inbox" and getting nothing (item 4).
  it('waits out the minimum fill time when the form is sent at once, and the signup goes through', async () => {
    const { context, page, problems } = await newPage();
    const email = uniqueEmail('autofill');
    await page.goto(`${quire.base}/`);
    await expect.poll(() => page.locator('#signup').getAttribute('data-quire-ready')).toBe('true');
    await page.getByLabel('Email address').fill(email);
    await page.getByRole('checkbox', { name: /Leave your email/ }).check();
    await page.getByRole('button', { name: 'Keep me posted' }).click();
    // The page holds the form until the 1.5 s have passed, longer than expect.poll waits by default.
    await expect
      .poll(() => page.getByRole('status').textContent(), { timeout: 10_000 })
      .toContain('Almost there: check your inbox');
    expect((await mailTo(quire, email, /^Confirm/)).to).toContain(email);
    expect(problems).toEqual({ csp: [], errors: [] });
    await context.close();
  });

  // Guards against /_dev/mail cutting a mail off in a fixed-height frame (item 14).
  it('shows each captured mail in a frame as tall as the mail', async () => {
    const { context, page, problems } = await newPage();
    const email = uniqueEmail('frame');
    const res = await fetch(`${quire.base}/v1/subscriptions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ email, consent: true }),
    });
    expect(res.status).toBe(202);
    const mail = await mailTo(quire, email, /^Confirm/);
    await page.goto(`${quire.base}/_dev/mail/${encodeURIComponent(mail.id)}`);
    const frame = page.locator('iframe.mail-frame');
    await expect
      .poll(async () => {
        const outer = (await frame.boundingBox())?.height ?? 0;
        const inner = await page
          .frameLocator('iframe.mail-frame')
          .locator('html')
          .evaluate((el) => el.scrollHeight);
        return outer >= inner && inner > 0;
      })
      .toBe(true);
    // The footer, the last thing in the mail, is inside the frame's box.
    const footer = page
      .frameLocator('iframe.mail-frame')
      .getByText(/unsubscribe|preferences|postal|Street/i)
      .last();
    expect(await footer.isVisible()).toBe(true);
    expect(problems).toEqual({ csp: [], errors: [] });
    await context.close();
  });
});
