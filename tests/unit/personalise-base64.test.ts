import { describe, expect, it } from 'vitest';
import { greetingFor } from '../../emails/_components/broadcast-context.js';
import { templates } from '../../emails/index.js';
import { buildMimeTemplate } from '../../src/mail/mime-template.js';
import { personalise, personalisedBase64, renderOnce } from '../../src/mail/personalise.js';

/** The base64 path that builds broadcast MIME gives exactly what the text path gives, encoded. */
describe('personalise as base64', () => {
  const ctx = {
    preheader: 'Chapter 21 is up — “quoted”.',
    lang: 'en',
    bookTitle: 'How Teams Think Before They Build',
    postalAddress: 'Jane Author, 1 Example Street, Springfield',
  };
  const names = [`Zoë "Z" O'Brien <x>`, 'Ada 🚀 Lovelace', 'שלום', '$& $1', '', null];

  for (const template of Object.values(templates).filter((t) => t.kind === 'broadcast')) {
    it(`equals the text path, UTF-8 encoded, and builds the same message (${template.name})`, async () => {
      const once = await renderOnce(template, template.previewProps, ctx);
      const mime = await buildMimeTemplate({ from: 'Jane <news@example.com>', subject: 'Out now — ✓', headers: {} });
      const date = new Date('2026-11-27T10:00:00Z');
      for (const [i, name] of names.entries()) {
        const slots = {
          greeting: greetingFor(name),
          unsubscribeUrl: `https://news.example.com/unsubscribe/tok${i}?a=1&b=<2>`,
          preferencesUrl: `https://news.example.com/preferences/tok${i}'"`,
        };
        const text = personalise(once, slots);
        const bytes = personalisedBase64(once, slots);
        expect(bytes.html.base64).toBe(Buffer.from(text.html, 'utf8').toString('base64'));
        expect(bytes.text.base64).toBe(Buffer.from(text.text, 'utf8').toString('base64'));
        const common = { date, to: `reader${i}@example.com`, messageId: `<${i}@example.com>`, listUnsubscribe: '<a>' };
        expect(mime({ ...common, ...bytes }).equals(mime({ ...common, ...text }))).toBe(true);
      }
    });
  }
});
