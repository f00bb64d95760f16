/** @jsxImportSource hono/jsx */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { DevMailList } from '../../pages/dev-mail.js';
import type { AppEnv } from '../env.js';
import { devMailbox } from './mailbox.js';

export function registerDevMailList(app: OpenAPIHono<AppEnv>) {
  app.get('/_dev/mail', async (c) => {
    const mails = await devMailbox(c).list();
    return c.html(<DevMailList bookTitle={c.get('services').config.BOOK_TITLE} mails={mails} />);
  });
}
