import type { Context } from 'hono';

/**
 * Content-Security-Policy. Every response gets BASE_CSP (set by secureHeaders in app.tsx, which leaves
 * a policy a route set itself alone). A route that needs more — the signup script, an email rendered
 * with its inline styles — sets its own, still with no inline script anywhere.
 */
export type CspDirectives = Record<string, string[]>;

export const BASE_CSP = {
  defaultSrc: ["'none'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
  frameSrc: ["'self'"],
} satisfies CspDirectives;

/** Pages that carry the signup form: its script from our origin, and its fetch back to us. */
export const SIGNUP_PAGE_CSP: CspDirectives = { ...BASE_CSP, scriptSrc: ["'self'"], connectSrc: ["'self'"] };

/** A captured mail's page (/_dev/mail/:id): the script from our origin that sizes the mail's frame. */
export const DEV_MAIL_PAGE_CSP: CspDirectives = { ...BASE_CSP, scriptSrc: ["'self'"] };

/**
 * An email's HTML shown on its own: inline styles (that is how email is styled), remote images, and
 * nothing else — sandboxed into an opaque origin with no script.
 */
export const EMAIL_CSP: CspDirectives = {
  defaultSrc: ["'none'"],
  styleSrc: ["'unsafe-inline'"],
  imgSrc: ['data:', 'https:'],
  frameAncestors: ["'self'"],
  formAction: ["'none'"],
  sandbox: ['allow-popups', 'allow-popups-to-escape-sandbox', 'allow-top-navigation-by-user-activation'],
};

const kebab = (s: string) => s.replace(/[A-Z]/g, (m) => `-${m.toLowerCase()}`);

export const cspHeader = (directives: CspDirectives): string =>
  Object.entries(directives)
    .map(([name, values]) => [kebab(name), ...values].join(' '))
    .join('; ');

export function setCsp(c: Context, directives: CspDirectives): void {
  c.header('Content-Security-Policy', cspHeader(directives));
}
