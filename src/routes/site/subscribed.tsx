/** @jsxImportSource hono/jsx */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { SubscribedPage } from '../../pages/subscriber-pages.js';
import type { AppEnv } from '../env.js';
import { htmlResponse } from '../schemas.js';

const route = createRoute({
  method: 'get',
  path: '/subscribed',
  operationId: 'showSubscribedPage',
  tags: ['Pages'],
  summary: 'The page a no-script signup is redirected to: check your inbox to confirm.',
  security: [],
  responses: { 200: htmlResponse('The thank-you page') },
});

/** The thank-you page a plain form post is redirected to. */
export function registerSubscribedPage(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, (c) => c.html(<SubscribedPage bookTitle={c.get('services').config.BOOK_TITLE} />));
}
