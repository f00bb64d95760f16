/** @jsxImportSource hono/jsx */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { DevMailView } from '../../pages/dev-mail.js';
import { DEV_MAIL_PAGE_CSP, setCsp } from '../csp.js';
import type { AppEnv } from '../env.js';
import { capturedMail } from './mailbox.js';

export function registerDevMailView(app: OpenAPIHono<AppEnv>) {
  app.get('/_dev/mail/:id', async (c) => {
    const mail = await capturedMail(c);
    const base = `/_dev/mail/${encodeURIComponent(mail.id)}`;
    setCsp(c, DEV_MAIL_PAGE_CSP);
    return c.html(
      <DevMailView
        bookTitle={c.get('services').config.BOOK_TITLE}
        subject={mail.subject}
        to={mail.to}
        headers={mail.headers}
        htmlUrl={`${base}/html`}
        text={mail.text}
        rawUrl={`${base}/raw`}
      />,
    );
  });
}
