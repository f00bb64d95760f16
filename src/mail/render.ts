import { render, toPlainText } from '@react-email/render';
import type { ReactElement } from 'react';
import { createElement } from 'react';
import { ConfirmSubscription, ConfirmSubscriptionProps } from '../../emails/confirm-subscription.js';
import { Welcome, WelcomeProps } from '../../emails/welcome.js';
import { escapeHtml } from './escape-html.js';

export interface RenderedEmail {
  html: string;
  text: string;
}

// These merge over react-email's own plainTextSelectors (same selector = deep merge).
// - html-to-text upper-cases headings by default; keep the author's casing.
// - react-email turns link brackets off, which glues trailing punctuation onto
//   URLs ("page https://x/p."); brackets keep the URL unambiguous. A link whose
//   text is its own URL is still printed once (hideLinkHrefIfSameAsText).
const textSelectors = [
  ...['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((selector) => ({ selector, options: { uppercase: false } })),
  { selector: 'a', options: { linkBrackets: ['[', ']'] } },
];

export async function renderEmail(element: ReactElement): Promise<RenderedEmail> {
  const html = await render(element);
  // No word wrapping: a broadcast is rendered once with short placeholders and personalised later, and
  // wrapping decided on the placeholder would differ from wrapping decided on the real value.
  const text = toPlainText(html, { selectors: textSelectors, wordwrap: false });
  return { html, text };
}

export async function renderConfirmSubscription(props: ConfirmSubscriptionProps): Promise<RenderedEmail> {
  return renderEmail(createElement(ConfirmSubscription, ConfirmSubscriptionProps.parse(props)));
}

/**
 * The confirmation mail, rendered once per site and language with a placeholder link, then filled in
 * per message (escaped as React escapes attribute and text values in the HTML, verbatim in the text).
 * Only the link differs between two confirmation mails, and a React render takes about a millisecond
 * of the event loop that serves signups (tests prove the result equals a full render).
 */
const CONFIRM_URL_SLOT = 'https://quire.invalid/QUIREzCONFIRMzURLz7Q';
const confirmationShells = new Map<string, { html: string[]; text: string[] }>();

export async function renderConfirmSubscriptionOnce(props: ConfirmSubscriptionProps): Promise<RenderedEmail> {
  const { confirmUrl, ...rest } = ConfirmSubscriptionProps.parse(props);
  const key = JSON.stringify(rest);
  let shell = confirmationShells.get(key);
  if (!shell) {
    const rendered = await renderConfirmSubscription({ ...rest, confirmUrl: CONFIRM_URL_SLOT });
    shell = { html: rendered.html.split(CONFIRM_URL_SLOT), text: rendered.text.split(CONFIRM_URL_SLOT) };
    if (confirmationShells.size >= 64) confirmationShells.clear(); // a handful of languages per site, in practice
    confirmationShells.set(key, shell);
  }
  return { html: shell.html.join(escapeHtml(confirmUrl)), text: shell.text.join(confirmUrl) };
}

export async function renderWelcome(props: WelcomeProps): Promise<RenderedEmail> {
  return renderEmail(createElement(Welcome, WelcomeProps.parse(props)));
}
