/** @jsxImportSource hono/jsx */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { TEXTS } from '../../../core/texts.js';
import { MessagePage } from '../../../pages/layout.js';
import type { AppEnv } from '../../env.js';
import { htmlResponse } from '../../schemas.js';

const route = createRoute({
  method: 'get',
  path: '/test-copy',
  operationId: 'showTestCopyPage',
  tags: ['Pages'],
  summary: 'Where the unsubscribe and preferences links of a broadcast’s test copy lead.',
  security: [],
  responses: { 200: htmlResponse('A page saying this was a test copy, whose links belong to no subscriber') },
});

/** A test copy belongs to no subscriber, so its links can do nothing; they say so instead of "does not work". */
export function registerTestCopyPage(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, (c) =>
    c.html(
      <MessagePage
        bookTitle={c.get('services').config.BOOK_TITLE}
        title={TEXTS.testCopyTitle}
        message={TEXTS.testCopyBody}
      />,
    ),
  );
}
