import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { type BroadcastContext, greetingFor } from '../../emails/_components/broadcast-context.js';
import { templates } from '../../emails/index.js';
import { buildMimeTemplate } from '../../src/mail/mime-template.js';
import { escapeHtml, personalise, renderOnce } from '../../src/mail/personalise.js';
import { renderConfirmSubscription, renderConfirmSubscriptionOnce, renderEmail } from '../../src/mail/render.js';

const awkwardNames = [
  '<script>alert(1)</script>',
  `Zoë "Z" O'Brien`,
  'Tom & Jerry',
  'Ada 🚀 Lovelace 👩🏽‍💻',
  'שלום עליכם',
  'مرحبا Ahmed',
  '',
  '   spaced    out   ',
  '$& $1 $$ $`', // String.replace patterns must not be interpreted
  '&amp; already escaped',
  'a'.repeat(200),
];

const base: Omit<BroadcastContext, 'recipient'> = {
  preheader: 'Chapter 21 is up.',
  lang: 'en',
  bookTitle: 'How Teams Think Before They Build',
  postalAddress: 'Jane Author, 1 Example Street, Springfield',
};

const slotsFor = (name: string, i: number) => ({
  greeting: greetingFor(name),
  unsubscribeUrl: `https://news.example.com/unsubscribe/AQH${i}tok_-en?x=1&y=<2>`,
  preferencesUrl: `https://news.example.com/preferences/AQI${i}tok'en"`,
});

describe('render once, personalise by substitution', () => {
  for (const template of Object.values(templates).filter((t) => t.kind === 'broadcast')) {
    it(`equals a full per-recipient render for awkward names (${template.name})`, async () => {
      const once = await renderOnce(template, template.previewProps, base);
      for (const [i, name] of awkwardNames.entries()) {
        const recipient = slotsFor(name, i);
        const full = await renderEmail(template.element(template.previewProps, { ...base, recipient }));
        const fast = personalise(once, recipient);
        expect(fast.html, `html for ${JSON.stringify(name)}`).toBe(full.html);
        expect(fast.text, `text for ${JSON.stringify(name)}`).toBe(full.text);
      }
    });
  }

  it('escapes like React does', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#x27;&amp;&#x27;&lt;/a&gt;');
  });
});

describe('MIME template', () => {
  const input = {
    from: 'Jane Author — «Books» <news@example.com>',
    subject: 'Out now: How Teams Think Before They Build 📘',
    date: new Date('2026-11-25T12:00:00Z'),
    headers: { 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
  };

  it('builds a message mailparser reads back field for field, with RFC-sized lines', async () => {
    const mime = await buildMimeTemplate(input);
    const html = `<p>${'Grüße & <b>bold</b> '.repeat(400)}</p>`;
    const text = `Hallo ${'x'.repeat(3000)}\nzweite Zeile ✓`;
    const raw = mime({
      to: 'reader@example.com',
      messageId: '<d3b07384-d9a0-4c9b-8e6f-0f1d2a3b4c5d@example.com>',
      listUnsubscribe:
        '<https://news.example.com/unsubscribe/TOKEN>, <mailto:unsubscribe@example.com?subject=unsubscribe%20TOKEN>',
      html,
      text,
    });
    const lines = raw.toString('utf8').split('\r\n');
    expect(Math.max(...lines.map((l) => Buffer.byteLength(l)))).toBeLessThanOrEqual(998);
    const parsed = await simpleParser(raw);
    expect(parsed.subject).toBe(input.subject);
    expect(parsed.from?.text).toContain('news@example.com');
    expect((parsed.to as { text: string }).text).toBe('reader@example.com');
    expect(parsed.messageId).toBe('<d3b07384-d9a0-4c9b-8e6f-0f1d2a3b4c5d@example.com>');
    expect(parsed.html).toBe(html);
    expect(parsed.text).toBe(text);
    const header = (k: string) =>
      parsed.headerLines
        .find((l) => l.key === k)
        ?.line.replace(/^[^:]+:\s*/, '')
        .replace(/\r?\n\s+/g, ' ');
    expect(header('list-unsubscribe')).toBe(
      '<https://news.example.com/unsubscribe/TOKEN>, <mailto:unsubscribe@example.com?subject=unsubscribe%20TOKEN>',
    );
    expect(header('list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
  });

  it('gives every recipient their own message from one skeleton', async () => {
    const mime = await buildMimeTemplate(input);
    const a = await simpleParser(
      mime({
        to: 'a@example.com',
        messageId: '<1@example.com>',
        listUnsubscribe: '<https://x/a>',
        html: '<p>A</p>',
        text: 'A',
      }),
    );
    const b = await simpleParser(
      mime({
        to: 'b@example.com',
        messageId: '<2@example.com>',
        listUnsubscribe: '<https://x/b>',
        html: '<p>B</p>',
        text: 'B',
      }),
    );
    expect([a.messageId, b.messageId]).toEqual(['<1@example.com>', '<2@example.com>']);
    expect([a.text?.trim(), b.text?.trim()]).toEqual(['A', 'B']);
  });
});

describe('the confirmation mail, rendered once per site and language', () => {
  const site = {
    bookTitle: 'How Teams Think Before They Build',
    expiresInHours: 48,
    postalAddress: 'Jane Author, 1 Example Street, Springfield',
  };
  const urls = [
    'https://news.example.com/confirm/AQHx_tok-en0123456789abcdefghijklmnopqrstuvwxyzABCDEFG',
    'https://example.com/confirm?token=abc123&list=book',
    'https://news.example.com/sub/path/confirm/it\'s<odd>"',
  ];
  for (const lang of ['en', 'de']) {
    it(`equals a full render for every link (${lang})`, async () => {
      for (const confirmUrl of urls) {
        const props = { ...site, lang, confirmUrl };
        expect(await renderConfirmSubscriptionOnce(props)).toEqual(await renderConfirmSubscription(props));
      }
    });
  }
});
