import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_TOKEN,
  ARTIFACTS,
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
 * The author's launch in the console, in Chromium against `npm start`: sign in, import the list from a
 * CSV with a bad row, compose the release announcement from its generated form with the live preview at
 * phone width, send a test, read the audience, send behind the confirmation, watch it reach "sent" and
 * read the report. Every page is checked with axe-core and at the narrowest phone width.
 */

const stamp = `${process.pid}.${Date.now().toString(36)}`;
const reader = (n: number) => `reader${n}.${stamp}@example.com`;
const AUTHOR = `author.${stamp}@example.com`;
const TITLE = 'How Teams Think Before They Build';

const CSV = [
  'Email,Name,Topics,Consent At,Consent Source,Shoe size',
  `${reader(1)},Ada,release;updates,2026-03-14T18:30:00Z,paper form at launch event,38`,
  `${reader(2)},Grace,release,2026-03-14T18:30:00Z,paper form at launch event,41`,
  `${reader(3)},"Linus, T.",release,2026-03-14,paper form at launch event,44`,
  `${reader(4)},Pending Pat,release,,,40`,
  'not-an-address,Broken Row,release,,,39',
].join('\n');

describe.skipIf(!hasChromium)('the author launches the book from the console in Chromium', { timeout: 180_000 }, () => {
  let quire: Quire;
  let browser: Browser;

  beforeAll(async () => {
    [quire, browser] = await Promise.all([startQuire({ DELIVERY_RATE: '20' }), launchBrowser()]);
  });
  afterAll(async () => {
    await browser?.close();
    await quire?.stop();
  });

  async function newPage(
    options: Parameters<Browser['newContext']>[0] = {},
  ): Promise<{ context: BrowserContext; page: Page; problems: PageProblems }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
    context.setDefaultTimeout(10_000);
    const problems = watchContext(context);
    return { context, page: await context.newPage(), problems };
  }

  async function signIn(page: Page) {
    await page.goto(`${quire.base}/admin`);
    expect(new URL(page.url()).pathname).toBe('/admin/login');
    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => new URL(page.url()).pathname).toBe('/admin');
  }

  it('imports a CSV with a bad row, composes, previews at phone width, tests, sends and reads the report', async () => {
    const { context, problems, page } = await newPage();
    await signIn(page);
    await checkPage(page, 'console-01-overview');

    // Import: the dry run says what happens to each row, before anything is written.
    await page.getByRole('link', { name: 'Import/Export' }).click();
    await checkPage(page, 'console-02-import');
    await page
      .getByLabel('CSV file')
      .setInputFiles({ name: 'launch-list.csv', mimeType: 'text/csv', buffer: Buffer.from(CSV) });
    await page.getByRole('button', { name: 'Check the file' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Check the import');
    const rowOf = (text: string) => page.getByRole('row').filter({ hasText: text });
    expect(await rowOf(reader(1)).textContent()).toContain('added, active');
    expect(await rowOf(reader(4)).textContent()).toContain('added, pending');
    expect(await rowOf('not-an-address').textContent()).toContain('skipped: invalid');
    expect(await rowOf('not-an-address').textContent()).toContain('not a valid email address');
    expect(await rowOf('Shoe size').textContent()).toContain('ignored');
    await checkPage(page, 'console-03-import-preview');
    await page.getByRole('button', { name: 'Import 4 rows' }).click();
    await expect
      .poll(() => page.getByRole('status').textContent())
      .toContain(
        'Imported: 3 active, 1 pending (confirmation mail on its way). Skipped: 0 already on the list, 0 who had left, 1 invalid.',
      );
    await checkPage(page, 'console-03b-imported');

    // Compose the release announcement from the form generated from its props schema.
    await page.getByRole('link', { name: 'Broadcasts' }).click();
    await checkPage(page, 'console-04-broadcasts-empty');
    await page.getByRole('link', { name: 'New broadcast' }).click();
    await checkPage(page, 'console-04b-templates');
    await page.getByRole('link', { name: 'release-announcement' }).click();
    await checkPage(page, 'console-05-compose-new');
    await page.getByLabel('Subject').fill(`${TITLE} is out`);
    await page.getByLabel('Title').fill(TITLE);
    await page.getByLabel('Cover image URL').fill('https://books.example.com/cover.png');
    await page.getByLabel('Cover alt text').fill(`Cover of ${TITLE}`);
    await page
      .getByLabel('Blurb')
      .fill('It is out today: how engineering teams reduce uncertainty before they build.\n\nA second paragraph.');
    await page.getByRole('group', { name: 'Link 1' }).getByLabel('Link label').fill('Buy the paperback');
    await page.getByRole('group', { name: 'Link 1' }).getByLabel('Link URL').fill('https://books.example.com/buy');

    // The live preview follows the typing, at phone width, in a sandboxed frame under the email's CSP.
    const phone = page.frameLocator('iframe[name="preview-phone"]');
    await expect.poll(() => phone.getByRole('heading', { name: TITLE }).count(), { timeout: 10_000 }).toBe(1);
    expect(await page.locator('iframe[name="preview-phone"]').evaluate((f) => f.getBoundingClientRect().width)).toBe(
      375,
    );
    expect(await page.locator('iframe[name="preview-phone"]').getAttribute('sandbox')).not.toContain('allow-scripts');
    await expect
      .poll(() => page.frameLocator('iframe[name="preview-text"]').locator('body').textContent())
      .toContain('Buy the paperback [https://books.example.com/buy]');
    // Frames off screen are not painted in a capture: each is captured on its own, in a tall window.
    await page.setViewportSize({ width: 1280, height: 2400 });
    for (const name of ['preview-desktop', 'preview-phone', 'preview-text'])
      await page.locator(`figure.${name}`).screenshot({ path: join(ARTIFACTS, `console-06-${name}.png`) });
    await page.setViewportSize({ width: 1280, height: 900 });

    await page.getByRole('button', { name: 'Save draft' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toBe('Draft saved.');
    // A blank preheader stays blank; the field shows the opening line the inbox will show instead.
    expect(await page.getByLabel('Preheader').inputValue()).toBe('');
    expect(await page.getByLabel('Preheader').getAttribute('placeholder')).toBe(
      'It is out today: how engineering teams reduce uncertainty before they build. A second paragraph.',
    );
    expect(await page.locator('#audience').textContent()).toContain('Goes to 3 people — not to 1 pending');
    await expect.poll(() => phone.getByRole('heading', { name: TITLE }).count()).toBe(1);
    await expect
      .poll(() => page.frameLocator('iframe[name="preview-text"]').locator('body').textContent())
      .toContain(TITLE);
    await checkPage(page, 'console-07-draft');

    // A test to the author's own address.
    await page.getByLabel('Send a test to').fill(AUTHOR);
    await page.getByRole('button', { name: 'Save and send test' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toContain('Test queued');
    const test = await mailTo(quire, AUTHOR, /^\[Test\]/);
    expect(test.subject).toBe(`[Test] ${TITLE} is out`);

    // Review: the count, then send.
    await page.getByRole('button', { name: 'Review and send…' }).click();
    await expect.poll(() => page.locator('#send-count').textContent()).toBe('Goes to 3 people — not to 1 pending.');
    await checkPage(page, 'console-08-confirm');
    await page.getByRole('button', { name: 'Send now to 3 people' }).click();

    // Progress updates by itself and the page turns into the report when it is sent.
    await expect.poll(() => page.locator('#progress .badge').textContent(), { timeout: 30_000 }).toBe('sent');
    const report = page.locator('#report');
    expect(await report.locator('h2').textContent()).toBe('Report');
    expect(await report.getByRole('listitem').filter({ hasText: 'delivered' }).locator('.n').textContent()).toBe('3');
    await checkPage(page, 'console-09-report');
    for (const n of [1, 2, 3])
      expect((await mailTo(quire, reader(n), new RegExp(`^${TITLE} is out$`))).html).toContain(TITLE);

    await page.getByRole('link', { name: 'Broadcasts' }).click();
    expect(
      await page
        .getByRole('row')
        .filter({ hasText: `${TITLE} is out` })
        .textContent(),
    ).toContain('sent');
    await checkPage(page, 'console-10-broadcasts');

    expect(problems).toEqual({ csp: [], errors: [] });
    await context.close();
  });

  it('without JavaScript: the Preview button saves and shows the frames, and the send page still names the count', async () => {
    const { context, problems, page } = await newPage({ javaScriptEnabled: false });
    const { page: axePage } = await newPage();
    await signIn(axePage);
    await signIn(page);
    await page.goto(`${quire.base}/admin/broadcasts/new?template=update-announcement`);
    await page.getByLabel('Subject').fill('New chapter article');
    await page.getByLabel('Title').fill('Coaching through tech refinement (Chapter 21)');
    await page.getByLabel('Summary').fill('Shoshin and who goes first.');
    // A URL the browser accepts and the template does not: only https:// goes out.
    await page.getByLabel('URL', { exact: true }).fill('http://books.example.com/articles/21');
    await page.getByRole('button', { name: 'Preview' }).click();
    // The template's own rule, beside its field.
    expect(await page.getByRole('alert').textContent()).toContain('URL must be an https:// URL with a domain name');
    expect(await page.getByLabel('URL', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    await checkPage(page, 'console-11-compose-errors-nojs', { axePage });

    await page.getByLabel('URL', { exact: true }).fill('https://books.example.com/articles/21');
    await page.getByRole('button', { name: 'Preview' }).click();
    await expect.poll(() => new URL(page.url()).hash).toBe('#preview');
    const desktop = page.frameLocator('iframe[name="preview-desktop"]');
    await expect
      .poll(() => desktop.getByRole('heading', { name: 'Coaching through tech refinement (Chapter 21)' }).count())
      .toBe(1);
    await page.getByRole('button', { name: 'Review and send…' }).click();
    expect(await page.locator('#send-count').textContent()).toMatch(/^Goes to 1 person/);
    expect(problems).toEqual({ csp: [], errors: [] });
    await context.close();
    await axePage.context().close();
  });
});
