import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { deliverabilityChecklist } from '../../src/routes/console/overview/deliverability.js';

const base = {
  NODE_ENV: 'test',
  PUBLIC_URL: 'https://news.book.example',
  SECRET_KEY: 'unit-secret-key-that-is-long-enough-0123456789',
};

const checklist = (env: Record<string, string>) => {
  const items = deliverabilityChecklist(parseConfig({ ...base, ...env }));
  return Object.fromEntries(items.map((i) => [i.title, i]));
};

describe('the deliverability checklist', () => {
  it('on a fresh install: every item to do, each saying what to set', () => {
    const items = deliverabilityChecklist(parseConfig(base));
    expect(items.map((i) => [i.title, i.ok])).toEqual([
      ['Mail transport', false],
      ['DKIM signing', false],
      ['Sender address', false],
      ['Bounce address', false],
      ['Postal address', false],
    ]);
    for (const item of items) expect(item.todo, item.title).toMatch(/Set [A-Z_]+/);
  });

  it('an SMTP relay with DKIM, a bounce address, a real sender and postal address: all done', () => {
    const items = checklist({
      MAIL_DSN: 'smtp://user:pass@smtp.book.example:587',
      DKIM_DOMAIN: 'news.book.example',
      DKIM_SELECTOR: 'quire',
      DKIM_PRIVATE_KEY: '-----BEGIN PRIVATE KEY-----\\nx\\n-----END PRIVATE KEY-----',
      BOUNCE_ADDRESS: 'bounces@news.book.example',
      MAIL_FROM: 'Ada Author <news@news.teamsthink.org>',
      POSTAL_ADDRESS: 'Ada Author, PO Box 12, Lyon',
    });
    expect(Object.values(items).every((i) => i.ok)).toBe(true);
    expect(items['Mail transport']!.detail).toContain('smtp (smtp.book.example:587)');
    expect(items['DKIM signing']!.detail).toContain('quire._domainkey.news.book.example');
    expect(items['Bounce webhook']!.ok).toBe(true);
  });

  it("trusts a provider's own signing, and asks for its webhook until its secret is set", () => {
    const without = checklist({ MAIL_DSN: 'postmark+api://server-token@default' });
    expect(without['DKIM signing']).toMatchObject({ ok: true });
    expect(without['Postmark webhook']).toMatchObject({ ok: false });
    expect(without['Postmark webhook']!.todo).toContain('https://news.book.example/webhooks/postmark');
    expect(without['Bounce address']!.ok).toBe(true); // the provider reports bounces itself
    const withHook = checklist({
      MAIL_DSN: 'postmark+api://server-token@default',
      POSTMARK_WEBHOOK_AUTH: 'quire:a-long-enough-password',
    });
    expect(withHook['Postmark webhook']).toMatchObject({ ok: true });
  });

  it('names both transports when broadcasts have their own, and checks each one', () => {
    const items = deliverabilityChecklist(
      parseConfig({
        ...base,
        MAIL_DSN: 'smtp://smtp.book.example:587',
        BROADCAST_MAIL_DSN: 'resend+api://re_key@default',
      }),
    );
    expect(items.find((i) => i.title === 'Mail transport')!.detail).toMatch(/smtp .* broadcasts through resend/);
    expect(items.find((i) => i.title === 'DKIM signing')!.ok).toBe(false); // the SMTP half is unsigned
    expect(items.map((i) => i.title)).toContain('Resend webhook');
    expect(items.map((i) => i.title)).toContain('Bounce webhook');
  });

  it('takes the demo postal address and a localhost sender for what they are', () => {
    const items = checklist({ MAIL_FROM: 'Book <updates@localhost>' });
    expect(items['Sender address']!.ok).toBe(false);
    expect(items['Postal address']!.detail).toContain('quire demo');
  });
});
