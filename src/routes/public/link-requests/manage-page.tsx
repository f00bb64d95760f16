/** @jsxImportSource hono/jsx */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { ManagePage } from '../../../pages/link-request.js';
import type { AppEnv } from '../../env.js';
import { htmlResponse } from '../../schemas.js';

const route = createRoute({
  method: 'get',
  path: '/manage',
  operationId: 'showManagePage',
  tags: ['Pages'],
  summary: '“Manage my subscription”: a form that sends a fresh preferences link by email.',
  security: [],
  responses: { 200: htmlResponse('The form') },
});

export function registerManagePage(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, (c) => c.html(<ManagePage bookTitle={c.get('services').config.BOOK_TITLE} />));
}
