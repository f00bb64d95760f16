/** @jsxImportSource hono/jsx */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { ResendConfirmationPage } from '../../../pages/link-request.js';
import type { AppEnv } from '../../env.js';
import { htmlResponse } from '../../schemas.js';

const route = createRoute({
  method: 'get',
  path: '/resend-confirmation',
  operationId: 'showResendConfirmationPage',
  tags: ['Pages'],
  summary: '“Send me a new confirmation link”: a form for an address waiting for confirmation.',
  security: [],
  responses: { 200: htmlResponse('The form') },
});

export function registerResendConfirmationPage(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, (c) => c.html(<ResendConfirmationPage bookTitle={c.get('services').config.BOOK_TITLE} />));
}
