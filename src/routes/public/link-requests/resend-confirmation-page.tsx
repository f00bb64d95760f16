/** @jsxImportSource hono/jsx */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { ResendConfirmationPage } from '../../../pages/link-request.js';
import type { AppEnv } from '../../env.js';

export function registerResendConfirmationPage(app: OpenAPIHono<AppEnv>) {
  app.get('/resend-confirmation', (c) =>
    c.html(<ResendConfirmationPage bookTitle={c.get('services').config.BOOK_TITLE} />),
  );
}
