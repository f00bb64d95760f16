import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { greetingFor, previewContext } from '../../emails/_components/broadcast-context.js';
import { openingLine } from '../../emails/_components/props.js';
import { templates } from '../../emails/index.js';
import { imageWarnings } from '../../src/cli/image-check.js';
import { renderEmail } from '../../src/mail/render.js';

const render = (name: string, ctx = previewContext) => {
  const t = templates[name]!;
  return renderEmail(t.element(t.previewProps, ctx));
};

/** The inbox preview: React Email's hidden first block of the body. */
const previewLine = (html: string) => /<div style="display:none[^>]*>([^<]*)/.exec(html)?.[1] ?? '';

describe('what the author sends', () => {
  // Guards against a blank inbox preview when the author gives no preheader (item 8).
  it.each(['update-announcement', 'release-announcement'])(
    'previews %s with its opening text by default',
    async (name) => {
      const { html } = await render(name, { ...previewContext, preheader: '' });
      const props = templates[name]!.previewProps as { summary?: string; blurb?: string };
      const opening = openingLine(props.summary ?? props.blurb ?? '');
      expect(opening.length).toBeGreaterThan(20);
      expect(previewLine(html).replaceAll('&#x27;', "'")).toBe(opening);
    },
  );

  it('keeps the preheader the author gave', async () => {
    const { html } = await render('update-announcement', { ...previewContext, preheader: 'Chapter 21 is up.' });
    expect(previewLine(html)).toBe('Chapter 21 is up.');
  });

  it('cuts a long opening at a word', () => {
    const line = openingLine(`${'word '.repeat(60)}end`);
    expect(line.length).toBeLessThanOrEqual(141);
    expect(line).toMatch(/word…$/);
  });

  // Guards against "Hi Ève Müller," where a letter says "Hi Ève," (item 9).
  it('greets by first name', async () => {
    expect(greetingFor('  Ève   Müller ')).toBe('Hi Ève,');
    expect(greetingFor('')).toBe('Hi,');
    const ctx = { ...previewContext, recipient: { ...previewContext.recipient, greeting: greetingFor('Ève Müller') } };
    const { html } = await render('release-announcement', ctx);
    expect(html).toContain('Hi Ève,');
    expect(html).not.toContain('Müller');
  });

  // Guards against mail laid out 981 px wide on a phone for want of a viewport (item 9).
  it.each(Object.keys(templates))('%s declares a viewport', async (name) => {
    const t = templates[name]!;
    const { html } = await renderEmail(t.element(t.previewProps, previewContext));
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1"');
  });
});

describe('image warnings for the author', () => {
  let server: Server;
  let base = '';
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/cover.png') res.writeHead(200, { 'content-type': 'image/png' }).end();
      else if (req.url === '/page') res.writeHead(200, { 'content-type': 'text/html' }).end('<p>hi</p>');
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  // Guards against a cover that does not load reaching readers as a broken box, unannounced (item 9).
  it('names each image that will not load, or is not an image, and none that will', async () => {
    const html = `<img src="${base}/cover.png"><img alt="x" src="${base}/gone.png?a=1&amp;b=2"><img src="${base}/page">`;
    const warnings = await imageWarnings(html);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain(`${base}/gone.png?a=1&b=2 answers HTTP 404`);
    expect(warnings[1]).toContain(`${base}/page is text/html, not an image`);
    expect(await imageWarnings('<img src="http://127.0.0.1:1/x.png">')).toEqual([
      expect.stringMatching(/could not be loaded/),
    ]);
  });
});
