import type { OpenAPIHono } from '@hono/zod-openapi';
import { EMAIL_CSP, setCsp } from '../csp.js';
import type { AppEnv } from '../env.js';
import { capturedMail } from './mailbox.js';

/**
 * The HTML part on its own, for the sandboxed iframe: its inline styles allowed, no script, and links
 * that open in the whole tab (our pages refuse to be framed).
 */
export function registerDevMailHtml(app: OpenAPIHono<AppEnv>) {
  app.get('/_dev/mail/:id/html', async (c) => {
    const mail = await capturedMail(c);
    // Still no script, but on our origin: the mailbox page measures the mail to size its frame.
    setCsp(c, { ...EMAIL_CSP, sandbox: [...(EMAIL_CSP.sandbox ?? []), 'allow-same-origin'] });
    return c.html(linksOpenInTop(mail.html));
  });
}

function linksOpenInTop(html: string): string {
  const base = '<base target="_top">';
  return /<head[^>]*>/i.test(html) ? html.replace(/<head[^>]*>/i, (m) => `${m}${base}`) : `${base}${html}`;
}
