import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activeSubscriber, pathOf } from '../support/factories.js';
import { createHarness, databaseKinds, type Harness } from '../support/harness.js';

describe.each(databaseKinds)('preference centre page on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(kind);
  });
  afterAll(() => h?.close());

  const postForm = (
    path: string,
    fields: [string, string][],
    headers: Record<string, string> = { origin: 'http://quire.test' },
  ) =>
    h.request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', ...headers },
      body: new URLSearchParams(fields).toString(),
    });

  it('shows topics as checkboxes with their state', async () => {
    const sub = await activeSubscriber(h);
    const html = await (await h.request(pathOf(sub.preferencesUrl), { headers: { accept: 'text/html' } })).text();
    expect(html).toContain('type="checkbox" name="topics" value="release" checked');
    expect(html).toContain('type="checkbox" name="topics" value="updates" checked');
  });

  it('saves a same-origin post and redirects back to the page, which shows the saved state', async () => {
    const sub = await activeSubscriber(h);
    const res = await postForm(pathOf(sub.preferencesUrl), [
      ['intent', 'save'],
      ['topics', 'release'],
      ['name', 'Ada'],
    ]);
    // 303 back to the page (post/redirect/get): reloading it shows the state, it does not post again.
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`${pathOf(sub.preferencesUrl)}?saved=saved`);
    const html = await (await h.request(res.headers.get('location')!, { headers: { accept: 'text/html' } })).text();
    expect(html).toContain('Saved.');
    expect(html).toContain('value="updates"/>');
    const rows = await h.query<{ topic: string; subscribed: boolean }>(
      'select topic, subscribed from subscriptions where subscriber_id = $1 order by topic',
      [sub.id],
    );
    expect(rows).toEqual([
      { topic: 'release', subscribed: true },
      { topic: 'updates', subscribed: false },
    ]);
  });

  it('refuses a cross-site form post and changes nothing', async () => {
    const sub = await activeSubscriber(h);
    const res = await postForm(pathOf(sub.preferencesUrl), [['intent', 'unsubscribe_all']], {
      origin: 'https://evil.example',
    });
    expect(res.status).toBe(403);
    const [row] = await h.query<{ status: string }>('select status from subscribers where id = $1', [sub.id]);
    expect(row!.status).toBe('active');
  });

  it('asks for a second confirmation before erasing', async () => {
    const sub = await activeSubscriber(h);
    const ask = await postForm(pathOf(sub.preferencesUrl), [['intent', 'erase_request']]);
    expect(await ask.text()).toContain('Yes, delete my data');
    let [row] = await h.query<{ status: string }>('select status from subscribers where id = $1', [sub.id]);
    expect(row!.status).toBe('active');
    const done = await postForm(pathOf(sub.preferencesUrl), [
      ['intent', 'erase'],
      ['confirm', 'true'],
    ]);
    expect(done.status).toBe(200);
    [row] = await h.query<{ status: string }>('select status from subscribers where id = $1', [sub.id]);
    expect(row!.status).toBe('erased');
  });
});
