/** @jsxImportSource hono/jsx */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { subscriberIdFromLink, subscriberLinks } from '../../../core/links.js';
import { UnsubscribePage } from '../../../pages/subscriber-pages.js';
import type { AppEnv } from '../../env.js';
import { htmlResponse, LinkTokenParam, pageError } from '../../schemas.js';
import { unsubscribePath } from './link.js';

const route = createRoute({
  method: 'get',
  path: '/unsubscribe/{token}',
  operationId: 'showUnsubscribePage',
  tags: ['Pages'],
  summary: 'The unsubscribe link’s page: a button that unsubscribes. Opening it changes nothing.',
  security: [],
  request: { params: LinkTokenParam },
  responses: {
    200: htmlResponse('The page with the button'),
    404: pageError('A link that does not work'),
    410: pageError('An expired link'),
  },
});

/** The page the link in a mail's footer opens: a button that posts the one-click form. GET changes nothing. */
export function registerUnsubscribePage(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, (c) => {
    const services = c.get('services');
    const { token } = c.req.valid('param');
    const subscriberId = subscriberIdFromLink(services, 'unsubscribe', token);
    const { preferencesUrl } = subscriberLinks(services, subscriberId, services.now());
    return c.html(
      <UnsubscribePage
        bookTitle={services.config.BOOK_TITLE}
        action={unsubscribePath(token)}
        preferencesUrl={preferencesUrl}
      />,
    );
  });
}
