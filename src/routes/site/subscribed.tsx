/** @jsxImportSource hono/jsx */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { SubscribedPage } from '../../pages/subscriber-pages.js';
import type { AppEnv } from '../env.js';

/** The thank-you page a plain form post is redirected to. */
export function registerSubscribedPage(app: OpenAPIHono<AppEnv>) {
  app.get('/subscribed', (c) => c.html(<SubscribedPage bookTitle={c.get('services').config.BOOK_TITLE} />));
}
