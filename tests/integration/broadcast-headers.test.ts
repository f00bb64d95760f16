import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, createTopic, draftBroadcast, seedActiveSubscribers } from '../support/broadcasts.js';
import { createHarness, databaseKinds, type Harness } from '../support/harness.js';

const header = (raw: string, name: string) =>
  raw
    .split(/\r\n\r\n/)[0]!
    .replace(/\r\n[ \t]+/g, ' ')
    .split('\r\n')
    .filter((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`))
    .map((l) => l.slice(name.length + 1).trim());

describe.each(databaseKinds)('broadcast header fields on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(kind);
  });
  afterAll(() => h?.close());

  // Guards against a broadcast carrying the Date of the test send made shortly before it.
  it('dates each message when it is sent, not when the broadcast was first prepared', async () => {
    const topic = await createTopic(h);
    const [id] = await seedActiveSubscribers(h, 1, { topics: [topic] });
    const draft = await draftBroadcast(h, { topic });
    const test = await admin(h, `/admin/v1/broadcasts/${draft.id}/test`, {
      method: 'POST',
      body: JSON.stringify({ to: ['author.date@example.com'] }),
    });
    expect(test.status).toBe(202);
    await h.deliver();
    const testCopy = h.smtp.to('author.date@example.com').at(-1)!;
    expect(new Date(header(testCopy.raw, 'Date')[0]!).getTime()).toBe(h.clock.now().getTime());

    h.clock.advance(19_000);
    await admin(h, `/admin/v1/broadcasts/${draft.id}/send`, { method: 'POST' });
    await h.deliver();
    const [row] = await h.query<{ to: string }>(`select "to" from deliveries where subscriber_id = $1`, [id]);
    const sent = h.smtp.to(row!.to).at(-1)!;
    expect(header(sent.raw, 'Date')).toEqual([h.clock.now().toUTCString().replace('GMT', '+0000')]);
  });

  // Guards against list mail with no List-Id, or one that differs from one broadcast to the next (RFC 2919).
  it('carries one List-Id per topic, the same on every broadcast to it', async () => {
    const topic = await createTopic(h);
    await seedActiveSubscribers(h, 1, { topics: [topic] });
    const ids: string[] = [];
    for (const subject of ['First', 'Second']) {
      const draft = await draftBroadcast(h, { topic, subject });
      await admin(h, `/admin/v1/broadcasts/${draft.id}/send`, { method: 'POST' });
      await h.deliver();
      const [row] = await h.query<{ to: string }>(`select "to" from deliveries where broadcast_id = $1`, [draft.id]);
      const values = header(h.smtp.to(row!.to).at(-1)!.raw, 'List-Id');
      expect(values).toHaveLength(1);
      ids.push(values[0]!);
    }
    expect(ids[0]).toBe(`"How Teams Think Before They Build (${topic})" <${topic}.quire.test>`);
    expect(ids[1]).toBe(ids[0]);
  });

  // Guards against the links of a test copy ending on "This link does not work".
  it("leads a test copy's unsubscribe and preferences links to a page that says it was a test copy", async () => {
    const draft = await draftBroadcast(h, { topic: await createTopic(h) });
    await admin(h, `/admin/v1/broadcasts/${draft.id}/test`, {
      method: 'POST',
      body: JSON.stringify({ to: ['author.links@example.com'] }),
    });
    await h.deliver();
    const copy = h.smtp.to('author.links@example.com').at(-1)!;
    const oneClick = /<(http[^>]+)>/.exec(header(copy.raw, 'List-Unsubscribe')[0]!)![1]!;
    const links = [...String(copy.parsed.html).matchAll(/href="(http:\/\/quire\.test\/[^"]+)"/g)].map((m) => m[1]!);
    expect(links.length).toBeGreaterThan(0);
    for (const url of new Set([oneClick, ...links])) {
      const page = await h.request(new URL(url).pathname, { headers: { accept: 'text/html' } });
      expect(page.status, url).toBe(200);
      expect(await page.text()).toContain('This was a test copy');
    }
    const post = await h.request(new URL(oneClick).pathname, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(post.status).toBe(200);
  });
});
