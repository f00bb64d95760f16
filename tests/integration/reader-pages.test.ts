import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEXTS } from '../../src/core/texts.js';
import { activeSubscriber, pathOf } from '../support/factories.js';
import { createHarness, type Harness } from '../support/harness.js';

const html = (s: string) => s.replaceAll("'", '&#39;');

describe('the reader’s pages', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness('pglite', { NODE_ENV: 'development' });
  });
  afterAll(() => h?.close());

  const postForm = (path: string, fields: [string, string][]) =>
    h.request(path, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'text/html',
        origin: 'http://quire.test',
      },
      body: new URLSearchParams(fields).toString(),
    });
  const page = async (path: string) => (await h.request(path, { headers: { accept: 'text/html' } })).text();

  // Guards against "Saved" shown over a preference centre with no topic ticked (item 6).
  it('says nothing will be sent when no topic is ticked, and offers unsubscribing', async () => {
    const sub = await activeSubscriber(h);
    const res = await postForm(pathOf(sub.preferencesUrl), [['intent', 'save']]);
    expect(res.headers.get('location')).toBe(`${pathOf(sub.preferencesUrl)}?saved=saved_nothing`);
    const shown = await page(res.headers.get('location')!);
    expect(shown).toContain(html(TEXTS.preferencesSavedNothing));
    expect(shown).toContain('value="unsubscribe_all"');
  });

  // Guards against the erase page offering an unsubscribed person to "keep my subscription" (item 6).
  it('offers to keep a subscription only to someone who has one', async () => {
    const sub = await activeSubscriber(h);
    const ask = () => postForm(pathOf(sub.preferencesUrl), [['intent', 'erase_request']]);
    expect(await (await ask()).text()).toContain(TEXTS.eraseKeepSubscription);
    await postForm(pathOf(sub.preferencesUrl), [['intent', 'unsubscribe_all']]);
    const after = await (await ask()).text();
    expect(after).not.toContain(TEXTS.eraseKeepSubscription);
    expect(after).toContain(TEXTS.eraseGoBack);
  });

  // Guards against the demo's "Read the article →" leading to an anchor that goes nowhere (item 19).
  it('has no in-page link on the demo page without a target, nor one that points at itself', async () => {
    const demo = await page('/');
    expect(demo).toContain('Read the article →');
    const ids = new Set([...demo.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]));
    for (const [, target] of demo.matchAll(/href="#([^"]*)"/g)) expect(ids.has(target), `#${target}`).toBe(true);
    expect(demo).not.toMatch(/<a href="#[^"]*">Read the article/);
  });

  // Guards against /favicon.ico answering 404 on every page (item 19).
  it('serves an icon at /favicon.ico', async () => {
    const res = await h.request('/favicon.ico', { headers: { accept: 'image/*' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/x-icon');
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect([...bytes.slice(0, 4)]).toEqual([0, 0, 1, 0]);
  });
});
