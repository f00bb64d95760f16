import { describe, expect, it } from 'vitest';
import { renderConfirmSubscription, renderWelcome } from '../../src/mail/render.js';

const bookTitle = 'How Teams Think Before They Build';
const postalAddress = 'Quire Press, 123 Example Street, Springfield, IL 62701, USA';

// URLs with `&` must be HTML-escaped in href attributes but raw in the text part.
const confirmUrl = 'https://books.example.com/confirm?token=abc123&list=book';
const preferencesUrl = 'https://books.example.com/preferences?token=abc123&src=welcome';
const unsubscribeUrl = 'https://books.example.com/unsubscribe?token=abc123&src=welcome';
const escapeAmp = (url: string) => url.replaceAll('&', '&amp;');

// React escapes apostrophes in text as &#x27;
const escapeText = (s: string) => s.replaceAll("'", '&#x27;');

const confirmProps = { bookTitle, confirmUrl, expiresInHours: 48, postalAddress };
const welcomeProps = {
  bookTitle,
  name: 'Ada',
  topics: ['New chapters', 'Talks and events'],
  preferencesUrl,
  unsubscribeUrl,
  postalAddress,
};

describe('confirm-subscription email', () => {
  it('renders html with lang, preheader, escaped confirm URL and postal address', async () => {
    const { html } = await renderConfirmSubscription(confirmProps);
    expect(html).toContain('lang="en"');
    expect(html).toContain(`One click to confirm you want updates about ${bookTitle}.`);
    expect(html).toContain('Confirm your subscription');
    expect(html).toContain(`href="${escapeAmp(confirmUrl)}"`);
    expect(html).not.toContain(`href="${confirmUrl}"`);
    // Raw URL is shown as visible text too.
    expect(html).toContain(`>${escapeAmp(confirmUrl)}</a>`);
    expect(html).toContain('This link expires in 48 hours.');
    expect(html).toContain(postalAddress);
    expect(new TextEncoder().encode(html).byteLength).toBeLessThan(100 * 1024);
  });

  it('uses the given lang', async () => {
    const { html } = await renderConfirmSubscription({ ...confirmProps, lang: 'fr' });
    expect(html).toContain('lang="fr"');
    expect(html).not.toContain('lang="en"');
  });

  it('has no unsubscribe or preferences link', async () => {
    const { html, text } = await renderConfirmSubscription(confirmProps);
    expect(html.toLowerCase()).not.toContain('unsubscribe');
    expect(text.toLowerCase()).not.toContain('unsubscribe');
    expect(html).not.toContain('Manage preferences');
  });

  it('renders a text part with the raw URL, heading case and postal address', async () => {
    const { text } = await renderConfirmSubscription(confirmProps);
    expect(text).toContain('Confirm your subscription');
    expect(text).not.toContain('CONFIRM YOUR SUBSCRIPTION');
    expect(text).toContain(confirmUrl);
    expect(text).toContain('This link expires in 48 hours.');
    expect(text).toContain(postalAddress);
    expect(text).not.toContain('<');
  });

  it('rejects invalid props', async () => {
    await expect(renderConfirmSubscription({ ...confirmProps, confirmUrl: 'not a url' })).rejects.toThrow();
    await expect(renderConfirmSubscription({ ...confirmProps, expiresInHours: 0 })).rejects.toThrow();
  });
});

describe('welcome email', () => {
  it('renders html with lang, preheader, greeting, topics, links and postal address', async () => {
    const { html } = await renderWelcome(welcomeProps);
    expect(html).toContain('lang="en"');
    expect(html).toContain(escapeText(`You're subscribed to updates about ${bookTitle}.`));
    expect(html).toContain(escapeText("You're on the list"));
    expect(html).toContain('Hi Ada,');
    expect(html).toContain('<li>New chapters</li>');
    expect(html).toContain('<li>Talks and events</li>');
    expect(html).toContain(`href="${escapeAmp(preferencesUrl)}"`);
    expect(html).toContain(`href="${escapeAmp(unsubscribeUrl)}"`);
    expect(html).toContain('>Unsubscribe</a>');
    expect(html).toContain('>Manage preferences</a>');
    expect(html).toContain(postalAddress);
    expect(new TextEncoder().encode(html).byteLength).toBeLessThan(100 * 1024);
  });

  it('uses the given lang', async () => {
    const { html } = await renderWelcome({ ...welcomeProps, lang: 'fr' });
    expect(html).toContain('lang="fr"');
  });

  it('greets without a name', async () => {
    const { name: _name, ...withoutName } = welcomeProps;
    const { html, text } = await renderWelcome(withoutName);
    expect(html).toContain('>Hi,</p>');
    expect(html).not.toContain('Hi Ada');
    expect(text).toMatch(/^Hi,$/m);
  });

  it('escapes a hostile name in html', async () => {
    const { html } = await renderWelcome({ ...welcomeProps, name: '<script>alert(1)</script>' });
    expect(html).not.toContain('<script>');
    expect(html).toContain('Hi &lt;script&gt;alert(1)&lt;/script&gt;,');
  });

  it('renders a text part with raw URLs, heading case and postal address', async () => {
    const { text } = await renderWelcome(welcomeProps);
    expect(text).toContain("You're on the list");
    expect(text).not.toContain("YOU'RE ON THE LIST");
    expect(text).toContain('Hi Ada,');
    expect(text).toContain('New chapters');
    expect(text).toContain(`Manage preferences [${preferencesUrl}]`);
    expect(text).toContain(`Unsubscribe [${unsubscribeUrl}]`);
    expect(text).toContain(postalAddress);
    expect(text).not.toContain('&amp;');
  });

  it('keeps multi-line postal addresses on separate lines in the text part', async () => {
    const { html, text } = await renderWelcome({ ...welcomeProps, postalAddress: 'Quire Press\n123 Example Street' });
    expect(html).toContain('Quire Press<br/>123 Example Street');
    expect(text).toContain('Quire Press\n123 Example Street');
  });
});
