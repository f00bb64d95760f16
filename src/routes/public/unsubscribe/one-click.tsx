/** @jsxImportSource hono/jsx */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { subscriberIdFromLink, subscriberLinks } from '../../../core/links.js';
import { unsubscribe } from '../../../core/unsubscribe.js';
import { UnsubscribedPage } from '../../../pages/subscriber-pages.js';
import type { AppEnv } from '../../env.js';
import { requestMeta } from '../../http.js';
import { errorResponse, LinkTokenParam } from '../../schemas.js';
import { unsubscribePath } from './link.js';
import { UnsubscribeResult } from './schema.js';

// The body is not declared for validation: mail providers post it urlencoded or multipart, and the
// signed token, not the body, is the authority, so no body may turn an unsubscribe into an error.
const route = createRoute({
  method: 'post',
  operationId: 'unsubscribeOneClick',
  security: [],
  path: '/unsubscribe/{token}',
  tags: ['Public'],
  summary: 'One-click unsubscribe (RFC 8058). Body `List-Unsubscribe=One-Click`, urlencoded or multipart.',
  request: { params: LinkTokenParam },
  responses: {
    200: {
      description: 'Unsubscribed (also when already unsubscribed).',
      content: { 'application/json': { schema: UnsubscribeResult }, 'text/html': { schema: z.string() } },
    },
    404: errorResponse('Invalid token'),
    410: errorResponse('Expired token'),
  },
});

/**
 * RFC 8058 one-click unsubscribe. The POST is made by mail providers with the body
 * `List-Unsubscribe=One-Click`, no cookies and no Origin, so it sits outside any CSRF check, answers
 * 200 without a redirect (§3.2) and is idempotent. A person pressing the page's button posts the same form.
 */
export function registerOneClickUnsubscribe(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const services = c.get('services');
    const token = c.req.valid('param').token;
    const subscriberId = subscriberIdFromLink(services, 'unsubscribe', token);
    const outcome = await unsubscribe(services, subscriberId, requestMeta(c));
    services.log.info('unsubscribe', { requestId: c.get('requestId'), outcome });
    if ((c.req.header('accept') ?? '').includes('application/json'))
      return c.json({ status: 'unsubscribed' as const }, 200);
    const { preferencesUrl } = subscriberLinks(services, subscriberId, services.now());
    return c.html(
      <UnsubscribedPage
        bookTitle={services.config.BOOK_TITLE}
        preferencesUrl={preferencesUrl}
        resubscribeAction={`${unsubscribePath(token)}/resubscribe`}
      />,
    );
  });
}
