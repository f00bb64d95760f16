/** @jsxImportSource hono/jsx */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { DevMailView } from '../../pages/dev-mail.js';
import type { AppEnv } from '../env.js';
import { capturedMail } from './mailbox.js';

export function registerDevMailView(app: OpenAPIHono<AppEnv>) {
  app.get('/_dev/mail/:id', async (c) => {
    const mail = await capturedMail(c);
    const base = `/_dev/mail/${encodeURIComponent(mail.id)}`;
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
