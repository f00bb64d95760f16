import type { ReactElement } from 'react';
import { createElement } from 'react';
import { render, toPlainText } from '@react-email/render';
import { ConfirmSubscription, ConfirmSubscriptionProps } from '../../emails/confirm-subscription';
import { Welcome, WelcomeProps } from '../../emails/welcome';

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

export async function renderWelcome(props: WelcomeProps): Promise<RenderedEmail> {
  return renderEmail(createElement(Welcome, WelcomeProps.parse(props)));
}
