/**
 * The rendering figure, measured in one fresh process with NODE_ENV=production (React's production
 * build, as the server runs it); bench/render.ts runs it and reads the one JSON line it prints.
 * For each broadcast template: messages per second
 *  - per recipient: React render + toPlainText (the React Email docs' way), then also with nodemailer's
 *    MailComposer building the MIME message (a complete message, as sendMail would);
 *  - render once + substitution (src/mail/personalise.ts) + MIME completion (src/mail/mime-template.ts).
 * The recipients (names, signed unsubscribe and preference links) are made in advance, the same for all.
 */

import { parseArgs } from 'node:util';
import MailComposer from 'nodemailer/lib/mail-composer';
import { greetingFor, type RecipientSlots } from '../emails/_components/broadcast-context.js';
import { templates } from '../emails/index.js';
import { subscriberLinks } from '../src/core/links.js';
import { buildMimeTemplate } from '../src/mail/mime-template.js';
import { personalise, renderOnce } from '../src/mail/personalise.js';
import { renderEmail } from '../src/mail/render.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '3' } } });
const seconds = Number(values.seconds);
const FROM = 'Jane Author <news@example.com>';
const ctx = {
  preheader: 'The book is available today.',
  lang: 'en',
  bookTitle: 'How Teams Think Before They Build',
  postalAddress: 'Jane Author, 1 Example Street, Springfield',
};
const deps = {
  config: { PUBLIC_URL: 'https://news.example.com' } as never,
  secret: 'bench-secret-key-that-is-long-enough-0123456789',
};
const recipients: (RecipientSlots & { to: string })[] = Array.from({ length: 1000 }, (_, i) => ({
  to: `reader${i}@example.com`,
  greeting: greetingFor(i % 3 ? `Reader ${i} <O'Brien & Co>` : null),
  ...subscriberLinks(deps, crypto.randomUUID(), new Date()),
}));

/** Run `fn` for `seconds` (after a short warm-up); returns calls per second. */
async function rate(fn: (i: number) => unknown): Promise<number> {
  for (let i = 0; i < 20; i++) await fn(i);
  let n = 0;
  const started = performance.now();
  const until = started + seconds * 1000;
  while (performance.now() < until) {
    for (let k = 0; k < 10; k++) await fn(n++);
  }
  return n / ((performance.now() - started) / 1000);
}

const out: Record<string, { perRecipient: number; perRecipientMime: number; once: number; bytes: number }> = {};
for (const name of ['release-announcement', 'update-announcement']) {
  const t = templates[name]!;
  const render = (i: number) => {
    const r = recipients[i % recipients.length]!;
    return renderEmail(t.element(t.previewProps, { ...ctx, recipient: r }));
  };
  const perRecipient = await rate(render);
  const perRecipientMime = await rate(async (i) => {
    const { html, text } = await render(i);
    return new MailComposer({ from: FROM, to: recipients[i % recipients.length]!.to, subject: 'News', html, text })
      .compile()
      .build();
  });
  const once = await renderOnce(t, t.previewProps, ctx);
  const mime = await buildMimeTemplate({
    from: FROM,
    subject: 'News',
    headers: { 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
  });
  let bytes = 0;
  const substituted = await rate((i) => {
    const r = recipients[i % recipients.length]!;
    const { html, text } = personalise(once, r);
    const raw = mime({
      to: r.to,
      messageId: `<${i}@example.com>`,
      listUnsubscribe: `<${r.unsubscribeUrl}>, <mailto:unsubscribe@example.com>`,
      html,
      text,
    });
    bytes = raw.length;
    return raw;
  });
  out[name] = { perRecipient, perRecipientMime, once: substituted, bytes };
}
console.log(JSON.stringify(out));
