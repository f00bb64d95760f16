/** @jsxImportSource hono/jsx */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { TEXTS } from '../../../core/texts.js';
import { MessagePage } from '../../../pages/layout.js';
import type { AppEnv } from '../../env.js';
import { htmlResponse } from '../../schemas.js';

const route = createRoute({
  method: 'post',
  path: '/test-copy',
  operationId: 'unsubscribeTestCopy',
  tags: ['Pages'],
  summary: 'The one-click unsubscribe (RFC 8058) of a test copy: accepted, and nothing changes.',
  security: [],
  responses: { 200: htmlResponse('A page saying this was a test copy') },
});

/**
 * A mailbox provider may post the test copy's List-Unsubscribe URL as it would a real one (RFC 8058
 * §3.2): a 200 with nothing to undo, since the copy was sent to no subscriber. The body is not read.
 */
export function registerTestCopyOneClick(app: OpenAPIHono<AppEnv>) {
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
