/** @jsxImportSource hono/jsx */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { subscriberIdFromLink, subscriberLinks } from '../../core/links.js';
import { unsubscribe } from '../../core/unsubscribe.js';
import { UnsubscribedPage, UnsubscribePage } from '../../pages/subscriber-pages.js';
import type { AppEnv } from '../env.js';
import { requestMeta } from '../http.js';
import { errorResponse, TokenParam } from '../schemas.js';

/**
 * RFC 8058 one-click unsubscribe. The POST is made by mail providers with the body
 * `List-Unsubscribe=One-Click`, no cookies and no Origin, so it sits outside any CSRF check, answers
 * 200 without a redirect (§3.2) and is idempotent. The body's value is not required: the signed token
 * is the authority, and a person pressing the page's button posts the same form.
 */
export function registerUnsubscribeRoutes(app: OpenAPIHono<AppEnv>) {
  app.openAPIRegistry.registerPath({
    method: 'post',
    path: '/unsubscribe/{token}',
    tags: ['Public'],
    summary: 'One-click unsubscribe (RFC 8058). Body `List-Unsubscribe=One-Click`, urlencoded or multipart.',
    request: { params: TokenParam },
    responses: {
      200: { description: 'Unsubscribed (also when already unsubscribed).' },
      404: errorResponse('Invalid token'),
      410: errorResponse('Expired token'),
    },
  });

  app.get('/unsubscribe/:token', (c) => {
    const services = c.get('services');
    const token = c.req.param('token');
    subscriberIdFromLink(services, 'unsubscribe', token);
    return c.html(<UnsubscribePage bookTitle={services.config.BOOK_TITLE} action={`/unsubscribe/${encodeURIComponent(token)}`} />);
  });

  app.post('/unsubscribe/:token', async (c) => {
    const services = c.get('services');
    const subscriberId = subscriberIdFromLink(services, 'unsubscribe', c.req.param('token'));
    const outcome = await unsubscribe(services, subscriberId, requestMeta(c));
    services.log.info('unsubscribe', { requestId: c.get('requestId'), outcome });
    if ((c.req.header('accept') ?? '').includes('application/json')) return c.json({ status: 'unsubscribed' });
    const { preferencesUrl } = subscriberLinks(services, subscriberId, services.now());
    return c.html(<UnsubscribedPage bookTitle={services.config.BOOK_TITLE} preferencesUrl={preferencesUrl} />);
  });
}
