/** @jsxImportSource hono/jsx */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { ManagePage } from '../../../pages/link-request.js';
import type { AppEnv } from '../../env.js';

export function registerManagePage(app: OpenAPIHono<AppEnv>) {
  app.get('/manage', (c) => c.html(<ManagePage bookTitle={c.get('services').config.BOOK_TITLE} />));
}
