import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../env.js';
import { capturedMail } from './mailbox.js';

export function registerDevMailRaw(app: OpenAPIHono<AppEnv>) {
  app.get('/_dev/mail/:id/raw', async (c) => {
    const mail = await capturedMail(c);
    return c.body(mail.raw, 200, { 'Content-Type': 'message/rfc822' });
  });
}
