import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { templates } from '../../emails/index.js';
import { fieldsOf } from '../../src/pages/console/compose-fields.js';
import { formValues, openingLineHint, readProps } from '../../src/pages/console/compose-values.js';
import { broadcastState, createTopic, seedActiveSubscribers } from '../support/broadcasts.js';
import { type ConsoleSignIn, consoleGet, consolePost, signIn } from '../support/console.js';
import { uniqueEmail } from '../support/factories.js';
import { createHarness, databaseKinds, type Harness } from '../support/harness.js';

/**
 * The console's broadcasts: the compose form generated from a template's zod schema and read back into
 * props, the live and saved previews, test sends, the send confirmation that names the count, the
 * controls and progress, and forged cross-site posts.
 */

const release = templates['release-announcement']!;

/** The compose form as a browser posts it, filled with the release's example props. */
function releaseForm(overrides: Record<string, string> = {}): Record<string, string> {
  const values = formValues(fieldsOf(release.schema), release.previewProps);
  return {
    template: 'release-announcement',
    topic: 'release',
    subject: 'How Teams Think Before They Build is out',
    preheader: '',
    ...values,
    // The form always offers more link rows than are filled.
    'props.links.2.label': '',
    'props.links.2.url': '',
    intent: 'save',
    ...overrides,
  };
}

const idFrom = (res: Response) => /\/admin\/broadcasts\/([0-9a-f-]{36})/.exec(res.headers.get('location') ?? '')?.[1];

describe('the compose form generated from a template schema', () => {
  it('gives every prop of the release a field by its shape, with the label the template uses', () => {
    const fields = fieldsOf(release.schema);
    expect(fields.map((f) => [f.key, f.kind, f.label, f.required])).toEqual([
      ['title', 'text', 'Title', true],
      ['coverImageUrl', 'url', 'Cover image URL', true],
      ['coverAlt', 'text', 'Cover alt text', true],
      ['coverWidth', 'number', 'Cover width', false],
      ['coverHeight', 'number', 'Cover height', false],
      ['blurb', 'longtext', 'Blurb', true],
      ['links', 'list', 'Links', true],
      ['note', 'longtext', 'Note', false],
    ]);
    const links = fields.find((f) => f.key === 'links');
    expect(links).toMatchObject({ min: 1, max: 4 });
    expect(links?.kind === 'list' && links.item.map((f) => [f.name, f.kind])).toEqual([
      ['props.links.#.label', 'text'],
      ['props.links.#.url', 'url'],
    ]);
  });

  it('reads back exactly the props it was filled with, for every broadcast template', () => {
    for (const t of Object.values(templates).filter((d) => d.kind === 'broadcast')) {
      const fields = fieldsOf(t.schema);
      expect(readProps(fields, formValues(fields, t.previewProps)), t.name).toEqual({
        props: t.previewProps,
        errors: [],
      });
    }
  });

  it('walks other shapes too, and falls back to a JSON box it checks', () => {
    const schema = z.object({
      tone: z.enum(['warm', 'plain']).default('warm'),
      pinned: z.boolean().optional(),
      tags: z.array(z.string()).max(5),
      author: z.object({ name: z.string(), site: z.url() }),
      extra: z.record(z.string(), z.number()),
    });
    const fields = fieldsOf(schema);
    expect(fields.map((f) => [f.key, f.kind])).toEqual([
      ['tone', 'choice'],
      ['pinned', 'check'],
      ['tags', 'lines'],
      ['author', 'group'],
      ['extra', 'json'],
    ]);
    const read = readProps(fields, {
      'props.tone': 'plain',
      'props.pinned': 'on',
      'props.tags': 'one\r\n\r\n two \n',
      'props.author.name': 'Jane',
      'props.author.site': 'https://jane.example.com',
      'props.extra': '{"a": 1',
    });
    expect(read.props).toEqual({
      tone: 'plain',
      pinned: true,
      tags: ['one', 'two'],
      author: { name: 'Jane', site: 'https://jane.example.com' },
    });
    expect(read.errors).toEqual([{ path: 'props.extra', message: expect.stringMatching(/^Extra is not valid JSON/) }]);
    expect(readProps(fields, { 'props.extra': '{"a": 1}' }).props.extra).toEqual({ a: 1 });
  });

  it('drops blank list rows, leaves blank optional fields out and keeps a blank required one for the schema to name', () => {
    const fields = fieldsOf(release.schema);
    const { props, errors } = readProps(fields, {
      'props.title': '  ',
      'props.coverWidth': '',
      'props.coverHeight': 'tall',
      'props.links.0.label': '',
      'props.links.0.url': '',
      'props.links.1.label': 'Buy',
      'props.links.1.url': 'https://books.example.com/buy',
      'props.note': '',
    });
    expect(props).toEqual({
      title: '',
      coverImageUrl: '',
      coverAlt: '',
      blurb: '',
      links: [{ label: 'Buy', url: 'https://books.example.com/buy' }],
    });
    expect(errors).toEqual([{ path: 'props.coverHeight', message: 'Cover height must be a number' }]);
  });

  it('hints, for a blank preheader, the opening line the template will show', () => {
    const fields = fieldsOf(release.schema);
    expect(openingLineHint(fields, { blurb: 'Short first line.\n\nSecond paragraph.' })).toBe(
      'Short first line. Second paragraph.',
    );
    expect(openingLineHint(fields, { title: 'No long text yet' })).toBe('');
  });
});

describe.each(databaseKinds)('console broadcasts on %s', (kind) => {
  let h: Harness;
  let s: ConsoleSignIn;
  beforeAll(async () => {
    h = await createHarness(kind);
    s = await signIn(h);
  });
  afterAll(() => h?.close());

  it('creates a draft from the generated form; the props are what the template schema made of them', async () => {
    const res = await consolePost(h, s, '/admin/broadcasts', releaseForm());
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toMatch(/\?done=saved$/);
    const [row] = await h.query<{ props: Record<string, unknown>; preheader: string; status: string }>(
      'select props, preheader, status from broadcasts where id = $1',
      [idFrom(res)],
    );
    expect(row!.status).toBe('draft');
    expect(row!.props).toEqual(release.schema.parse(release.previewProps));
    // A blank preheader stays blank: the template shows its opening line (see the preview test).
    expect(row!.preheader).toBe('');
  });

  it('shows a form with problems again, each beside its field, and saves nothing', async () => {
    const [before] = await h.query<{ n: number }>('select count(*)::int as n from broadcasts');
    const res = await consolePost(
      h,
      s,
      '/admin/broadcasts',
      releaseForm({ subject: '', 'props.links.0.url': 'http://books.example.com/buy' }),
    );
    expect(res.status).toBe(422);
    const html = await res.text();
    expect(html).toContain('Write a subject line');
    expect(html).toContain('Link URL must be an https:// URL with a domain name');
    expect(html).toMatch(/id="f-props-links-0-url" name="props\.links\.0\.url"[^>]*aria-invalid="true"/);
    expect(html).toContain('value="http://books.example.com/buy"');
    const [after] = await h.query<{ n: number }>('select count(*)::int as n from broadcasts');
    expect(after!.n).toBe(before!.n);
  });

  it('previews the unsaved form into a frame under the email policy, and says what is missing', async () => {
    const html = await consolePost(h, s, '/admin/broadcasts/preview?format=html', releaseForm({ subject: '' }));
    expect(html.status).toBe(200);
    expect(html.headers.get('content-security-policy')).toMatch(/sandbox/);
    expect(html.headers.get('content-security-policy')).not.toMatch(/script-src/);
    const body = await html.text();
    expect(body).toContain('How Teams Think Before They Build');
    // The inbox preview line of a blank preheader: the opening of the blurb, as the placeholder said.
    const hint = openingLineHint(fieldsOf(release.schema), release.previewProps);
    expect(body).toContain(hint.replaceAll("'", '&#x27;').slice(0, 60));

    const text = await consolePost(h, s, '/admin/broadcasts/preview?format=text', releaseForm());
    expect(text.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await text.text()).toMatch(/^Hi Ada,/);

    const missing = await consolePost(
      h,
      s,
      '/admin/broadcasts/preview?format=html',
      releaseForm({ 'props.title': '' }),
    );
    expect(missing.status).toBe(422);
    expect(await missing.text()).toContain('Title must not be empty');
    const [n] = await h.query<{ n: number }>("select count(*)::int as n from broadcasts where subject = ''");
    expect(n!.n).toBe(0);
  });

  it('sends a test to the author, saving the draft first, and remembers the address', async () => {
    const created = await consolePost(h, s, '/admin/broadcasts', releaseForm());
    const id = idFrom(created)!;
    const author = uniqueEmail('author');
    const res = await consolePost(
      h,
      s,
      `/admin/broadcasts/${id}`,
      releaseForm({ intent: 'test', test_to: author, subject: 'Edited subject' }),
    );
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/admin/broadcasts/${id}?done=test`);
    expect(res.headers.getSetCookie().join()).toMatch(/quire_console_test_to=.*HttpOnly.*SameSite=Strict/);
    await h.deliver();
    expect(h.smtp.to(author).map((m) => m.parsed.subject)).toEqual(['[Test] Edited subject']);

    const bad = await consolePost(h, s, `/admin/broadcasts/${id}`, releaseForm({ intent: 'test', test_to: 'nope' }));
    expect(bad.status).toBe(422);
    expect(await bad.text()).toContain('invalid: nope');
  });

  it('sends only from the confirmation, which names the count, and then shows progress and the report', async () => {
    const topic = await createTopic(h);
    await seedActiveSubscribers(h, 3, { topics: [topic] });
    const id = idFrom(await consolePost(h, s, '/admin/broadcasts', releaseForm({ topic })))!;

    const page = await consoleGet(h, s, `/admin/broadcasts/${id}/send`);
    expect(await page.text()).toContain('Goes to 3 people');

    // A post that skipped the confirmation goes to it, and sends nothing.
    const skipped = await consolePost(h, s, `/admin/broadcasts/${id}/send`, { when: 'now' });
    expect(skipped.headers.get('location')).toBe(`/admin/broadcasts/${id}/send`);
    // A confirmation that named fewer people than the audience now holds is shown again.
    const stale = await consolePost(h, s, `/admin/broadcasts/${id}/send`, { when: 'now', confirm: '2' });
    expect(stale.status).toBe(409);
    expect((await broadcastState(h, id)).status).toBe('draft');

    const sent = await consolePost(h, s, `/admin/broadcasts/${id}/send`, { when: 'now', confirm: '3' });
    expect(sent.headers.get('location')).toBe(`/admin/broadcasts/${id}?done=sent`);
    await h.deliver();
    expect(await broadcastState(h, id)).toMatchObject({ status: 'sent', audienceCount: 3 });

    const progress = await (await consoleGet(h, s, `/admin/broadcasts/${id}/progress`)).json();
    expect(progress).toMatchObject({ status: 'sent', total: 3, done: 3, text: { sent: '3', total: '3' } });
    const report = await (await consoleGet(h, s, `/admin/broadcasts/${id}`)).text();
    expect(report).toMatch(/<span class="n">3<\/span><span class="what">delivered<\/span>/);

    // Sending a sent broadcast changes nothing.
    const again = await consolePost(h, s, `/admin/broadcasts/${id}/send`, { when: 'now', confirm: '3' });
    expect(again.headers.get('location')).toBe(`/admin/broadcasts/${id}?done=unchanged`);
    const [rows] = await h.query<{ n: number }>('select count(*)::int as n from deliveries where broadcast_id = $1', [
      id,
    ]);
    expect(rows!.n).toBe(3);
  });

  it('schedules for a time in UTC, refuses a past one, and pauses and cancels', async () => {
    const id = idFrom(await consolePost(h, s, '/admin/broadcasts', releaseForm()))!;
    const past = await consolePost(h, s, `/admin/broadcasts/${id}/send`, {
      when: 'later',
      confirm: '0',
      at: '2020-01-01T09:00',
    });
    expect(past.status).toBe(422);
    expect(await past.text()).toContain('That time has passed');
    const later = await consolePost(h, s, `/admin/broadcasts/${id}/send`, {
      when: 'later',
      confirm: '0',
      at: '2030-01-01T09:00',
    });
    expect(later.headers.get('location')).toBe(`/admin/broadcasts/${id}?done=scheduled`);
    expect(
      await h.query('select status, extract(epoch from scheduled_at)::int as at from broadcasts where id = $1', [id]),
    ).toEqual([{ status: 'scheduled', at: Date.parse('2030-01-01T09:00:00Z') / 1000 }]);
    expect((await consolePost(h, s, `/admin/broadcasts/${id}/pause`)).headers.get('location')).toMatch(/done=pause$/);
    expect((await consolePost(h, s, `/admin/broadcasts/${id}/cancel`)).headers.get('location')).toMatch(/done=cancel$/);
    // A control that no longer applies says so instead of failing.
    expect((await consolePost(h, s, `/admin/broadcasts/${id}/resume`)).headers.get('location')).toMatch(/done=stale$/);
    expect((await broadcastState(h, id)).status).toBe('cancelled');
  });

  it('refuses forged cross-site posts and posts without the session token, before doing anything', async () => {
    const id = idFrom(await consolePost(h, s, '/admin/broadcasts', releaseForm()))!;
    const forged = { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' };
    const targets: [string, Record<string, string>][] = [
      ['/admin/broadcasts', releaseForm()],
      [`/admin/broadcasts/${id}`, releaseForm({ subject: 'Forged' })],
      ['/admin/broadcasts/preview', releaseForm()],
      [`/admin/broadcasts/${id}/send`, { when: 'now', confirm: '100' }],
      [`/admin/broadcasts/${id}/cancel`, {}],
      ['/admin/import/commit', { csv: `email\n${uniqueEmail('forged')}\n` }],
    ];
    const [before] = await h.query<{ n: number }>('select count(*)::int as n from broadcasts');
    for (const [path, fields] of targets) {
      expect((await consolePost(h, s, path, fields, forged)).status, `cross-site ${path}`).toBe(403);
      const noToken = await h.request(path, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: s.cookie, origin: 'http://quire.test' },
        body: new URLSearchParams(fields).toString(),
      });
      expect(noToken.status, `no token ${path}`).toBe(403);
    }
    const [after] = await h.query<{ n: number }>('select count(*)::int as n from broadcasts');
    expect(after!.n).toBe(before!.n);
    expect(await broadcastState(h, id)).toMatchObject({ status: 'draft' });
    const [imported] = await h.query<{ n: number }>(
      "select count(*)::int as n from subscribers where email like 'forged.%'",
    );
    expect(imported!.n).toBe(0);
  });
});
