import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { templateNames } from '../../emails/index.js';
import { TEXTS } from '../../src/core/texts.js';
import { activeSubscriber, pathOf, pendingSubscriber } from '../support/factories.js';
import { ADMIN_TOKEN, createHarness, databaseKinds, type Harness } from '../support/harness.js';

const ORIGIN = 'http://quire.test';
const form = { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' };

describe.each(databaseKinds)('subscriber pages on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(kind);
  });
  afterAll(() => h?.close());

  const statusOf = async (id: string) =>
    (await h.query<{ status: string }>('select status from subscribers where id = $1', [id]))[0]!.status;
  const events = (id: string) =>
    h.query<{ kind: string; source: string }>(
      'select kind, source from consent_events where subscriber_id = $1 order by seq',
      [id],
    );

  describe('unsubscribe and "changed your mind?"', () => {
    it('the unsubscribe page links to preferences; the answer to the button offers a resubscribe form', async () => {
      const sub = await activeSubscriber(h);
      const page = await (await h.request(pathOf(sub.unsubscribeUrl), { headers: { accept: 'text/html' } })).text();
      expect(page).toMatch(/href="http:\/\/quire\.test\/preferences\/[A-Za-z0-9_-]+"/);

      const res = await h.request(pathOf(sub.unsubscribeUrl), {
        method: 'POST',
        headers: form,
        body: 'List-Unsubscribe=One-Click',
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('location')).toBeNull();
      const html = await res.text();
      expect(html).toContain('Changed your mind?');
      expect(html).toContain(`action="${pathOf(sub.unsubscribeUrl)}/resubscribe"`);
    });

    it('resubscribe (same-origin POST) makes the subscriber active again with a resubscribed ledger event', async () => {
      const sub = await activeSubscriber(h, { topics: ['release'] });
      await h.request(pathOf(sub.unsubscribeUrl), {
        method: 'POST',
        headers: form,
        body: 'List-Unsubscribe=One-Click',
      });
      const res = await h.request(`${pathOf(sub.unsubscribeUrl)}/resubscribe`, {
        method: 'POST',
        headers: { ...form, origin: ORIGIN },
        body: '',
      });
      expect(res.status).toBe(200);
      const html = await res.text();
      expect(html).toContain('You&#39;re back on the list');
      expect(html).toContain('Book release');
      expect(await statusOf(sub.id)).toBe('active');
      expect((await events(sub.id)).at(-1)).toEqual({ kind: 'resubscribed', source: 'unsubscribe-page' });
    });

    it.each([
      ['another origin', { origin: 'https://evil.example' }],
      ['a cross-site fetch', { 'sec-fetch-site': 'cross-site' }],
      ['no Origin and no Sec-Fetch-Site at all', {}],
    ])('resubscribe refuses a form post from %s and changes nothing', async (_label, headers) => {
      const sub = await activeSubscriber(h);
      await h.request(pathOf(sub.unsubscribeUrl), {
        method: 'POST',
        headers: form,
        body: 'List-Unsubscribe=One-Click',
      });
      const res = await h.request(`${pathOf(sub.unsubscribeUrl)}/resubscribe`, {
        method: 'POST',
        headers: { ...form, ...headers },
        body: '',
      });
      expect(res.status).toBe(403);
      expect(await statusOf(sub.id)).toBe('unsubscribed');
      expect((await events(sub.id)).map((e) => e.kind)).toEqual(['requested', 'confirmed', 'unsubscribed']);
    });

    it('someone who never confirmed cannot be resubscribed from a link', async () => {
      const pending = await pendingSubscriber(h);
      const [row] = await h.query<{ id: string }>('select id from subscribers where lower(email) = lower($1)', [
        pending.email,
      ]);
      const { subscriberLinks } = await import('../../src/core/links.js');
      const { unsubscribeUrl } = subscriberLinks(h.services, row!.id, h.clock.now());
      await h.request(pathOf(unsubscribeUrl), { method: 'POST', headers: form, body: 'List-Unsubscribe=One-Click' });
      const res = await h.request(`${pathOf(unsubscribeUrl)}/resubscribe`, {
        method: 'POST',
        headers: { ...form, origin: ORIGIN },
        body: '',
      });
      expect(await res.text()).toContain('needs a fresh signup');
      expect(await statusOf(row!.id)).toBe('unsubscribed');
    });
  });

  describe('preference centre', () => {
    const post = (url: string, fields: [string, string][]) =>
      h.request(pathOf(url), {
        method: 'POST',
        headers: { ...form, origin: ORIGIN },
        body: new URLSearchParams(fields).toString(),
      });

    it('unsubscribe from everything, then resubscribe, each redirecting back with what happened', async () => {
      const sub = await activeSubscriber(h);
      const off = await post(sub.preferencesUrl, [['intent', 'unsubscribe_all']]);
      expect(off.status).toBe(303);
      expect(off.headers.get('location')).toBe(`${pathOf(sub.preferencesUrl)}?saved=unsubscribed`);
      const page = await (await h.request(off.headers.get('location')!, { headers: { accept: 'text/html' } })).text();
      expect(page).toContain('unsubscribed from everything');
      expect(page).toContain('value="resubscribe"');

      const on = await post(sub.preferencesUrl, [['intent', 'resubscribe']]);
      expect(on.headers.get('location')).toBe(`${pathOf(sub.preferencesUrl)}?saved=resubscribed`);
      expect(await statusOf(sub.id)).toBe('active');
      expect((await events(sub.id)).slice(-2)).toEqual([
        { kind: 'unsubscribed', source: 'preferences' },
        { kind: 'resubscribed', source: 'preferences' },
      ]);
    });

    it('an unknown ?saved= value shows no notice', async () => {
      const sub = await activeSubscriber(h);
      const html = await (
        await h.request(`${pathOf(sub.preferencesUrl)}?saved=<script>`, { headers: { accept: 'text/html' } })
      ).text();
      expect(html).not.toContain('role="status"');
      expect(html).not.toContain('<script>');
    });
  });

  describe('the embeddable signup form', () => {
    it('GET /v1/signup-form gives the current consent text, its version and a snippet built from them', async () => {
      const res = await h.request('/v1/signup-form');
      expect(res.status).toBe(200);
      const body = await res.json();
      expect(body).toMatchObject({
        action: 'http://quire.test/v1/subscriptions',
        consentVersion: h.services.consentVersion,
        consentText: h.config.CONSENT_TEXT,
        scriptUrl: 'http://quire.test/assets/signup.js',
      });
      expect(body.snippet).toContain('action="http://quire.test/v1/subscriptions"');
      expect(body.snippet).toContain(`name="consent_version" value="${h.services.consentVersion}"`);
      expect(body.snippet).toContain('Leave your email to hear when the book is available');
      expect(body.snippet).toContain('<script src="http://quire.test/assets/signup.js" defer></script>');
      expect(body.snippet).not.toContain('form_ts'); // only forms quire renders itself carry a signed stamp
    });

    it('the snippet, posted as a plain form, signs up and redirects to the thank-you page', async () => {
      const { snippet } = await (await h.request('/v1/signup-form')).json();
      // The hidden fields as the snippet has them; a person types the address and ticks the box.
      const fields = [...(snippet as string).matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map(
        (m) => [m[1]!, m[2]!],
      );
      expect(fields.map(([name]) => name).sort()).toEqual(['consent_version', 'source']);
      const body = new URLSearchParams([...fields, ['email', 'snippet.reader@example.com'], ['consent', 'true']]);
      const res = await h.request('/v1/subscriptions', { method: 'POST', headers: form, body: body.toString() });
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('http://quire.test/subscribed');
      const [row] = await h.query<{ source: string }>(
        "select source from subscribers where email = 'snippet.reader@example.com'",
      );
      expect(row!.source).toBe('book-site');
    });

    it('serves the script with the site’s exact messages, and lets only pages that carry the form run it', async () => {
      const script = await h.request('/assets/signup.js');
      expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
      const js = await script.text();
      expect(() => new Function(js)).not.toThrow(); // it is built from a template string: it must still parse
      for (const message of Object.values(TEXTS)) expect(js).toContain(JSON.stringify(message).slice(1, -1));

      const landing = await h.request('/', { headers: { accept: 'text/html' } });
      expect(landing.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(landing.headers.get('content-security-policy')).toContain("connect-src 'self'");
      expect(landing.headers.get('content-security-policy')).not.toContain('unsafe-inline');
      const sub = await activeSubscriber(h);
      const prefs = await h.request(pathOf(sub.preferencesUrl), { headers: { accept: 'text/html' } });
      expect(prefs.headers.get('content-security-policy')).toMatch(/^default-src 'none'/);
      expect(prefs.headers.get('content-security-policy')).not.toContain('script-src');
    });

    it('the demo page shows the site’s message for a plain post sent back with an error', async () => {
      const html = await (await h.request('/?error=invalid_email', { headers: { accept: 'text/html' } })).text();
      expect(html).toContain('That doesn&#39;t look like a valid email. Please check and try again.');
      expect(html).toContain('aria-invalid="true"');
    });
  });

  describe('email previews for the author', () => {
    it('need the admin token outside development', async () => {
      for (const path of ['/admin/preview', '/admin/preview/welcome']) {
        const res = await h.request(path);
        expect(res.status, path).toBe(401);
      }
    });

    it.each(templateNames())('renders %s with its preview props, as HTML and as text', async (name) => {
      const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
      const html = await h.request(`/admin/preview/${name}`, { headers: auth });
      expect(html.status).toBe(200);
      expect(html.headers.get('content-type')).toMatch(/^text\/html/);
      expect(html.headers.get('content-security-policy')).toContain('sandbox');
      expect(await html.text()).toMatch(/<html[^>]*lang=/);
      const text = await h.request(`/admin/preview/${name}?format=text`, { headers: auth });
      expect(text.headers.get('content-type')).toMatch(/^text\/plain/);
      expect((await text.text()).length).toBeGreaterThan(50);
    });

    it('lists every template, and answers 404 for an unknown one', async () => {
      const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
      const index = await (await h.request('/admin/preview', { headers: auth })).text();
      for (const name of templateNames()) expect(index).toContain(`href="/admin/preview/${name}"`);
      const missing = await h.request('/admin/preview/no-such-template', {
        headers: { ...auth, accept: 'application/json' },
      });
      expect(missing.status).toBe(404);
      expect((await missing.json()).error.code).toBe('not_found');
      expect((await h.request('/admin/preview/constructor', { headers: auth })).status).toBe(404);
    });
  });
});

describe('development-only pages', () => {
  it('in development the previews are open and the demo page is served', async () => {
    const h = await createHarness('pglite', { NODE_ENV: 'development' });
    try {
      expect((await h.request('/admin/preview/welcome')).status).toBe(200);
      expect((await h.request('/admin/v1/stats')).status).toBe(401); // the rest of /admin is not
      const landing = await h.request('/', { headers: { accept: 'text/html' } });
      expect(await landing.text()).toContain('Coaching through tech refinement (Chapter 21)');
    } finally {
      await h.close();
    }
  });

  it('in production the demo page, the captured mail and open previews are gone', async () => {
    const h = await createHarness('pglite', {
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://unused@127.0.0.1:1/unused',
    });
    try {
      expect(await (await h.request('/', { headers: { accept: 'text/html' } })).json()).toEqual({
        name: 'quire',
        docs: '/docs',
      });
      expect((await h.request('/_dev/mail', { headers: { accept: 'text/html' } })).status).toBe(404);
      expect((await h.request('/_dev/mail/x/html')).status).toBe(404);
      expect((await h.request('/admin/preview/welcome')).status).toBe(401);
      expect(
        (await h.request('/admin/preview/welcome', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).status,
      ).toBe(200);
    } finally {
      await h.close();
    }
  });
});
