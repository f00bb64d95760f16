/** @jsxImportSource hono/jsx */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { csrf } from 'hono/csrf';
import { subscriberIdFromLink, subscriberLinks } from '../../core/links.js';
import { getPreferences } from '../../core/preferences.js';
import { resubscribe, unsubscribe } from '../../core/unsubscribe.js';
import { ResubscribedPage, ResubscribeUnavailablePage, UnsubscribedPage, UnsubscribePage } from '../../pages/subscriber-pages.js';
import type { AppEnv } from '../env.js';
import { readBody, requestMeta } from '../http.js';
import { errorResponse, TokenParam } from '../schemas.js';

/**
 * RFC 8058 one-click unsubscribe. The POST is made by mail providers with the body
 * `List-Unsubscribe=One-Click`, no cookies and no Origin, so it sits outside any CSRF check, answers
 * 200 without a redirect (§3.2) and is idempotent. The body's value is not required: the signed token
 * is the authority, and a person pressing the page's button posts the same form.
 *
 * "Changed your mind? Resubscribe" is a different path, and that one IS same-origin only: a page
 * elsewhere must not be able to put someone back on the list.
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

  const pathFor = (token: string) => `/unsubscribe/${encodeURIComponent(token)}`;

  app.get('/unsubscribe/:token', (c) => {
    const services = c.get('services');
    const token = c.req.param('token');
    const subscriberId = subscriberIdFromLink(services, 'unsubscribe', token);
    const { preferencesUrl } = subscriberLinks(services, subscriberId, services.now());
    return c.html(<UnsubscribePage bookTitle={services.config.BOOK_TITLE} action={pathFor(token)} preferencesUrl={preferencesUrl} />);
  });

  app.post('/unsubscribe/:token', async (c) => {
    const services = c.get('services');
    const token = c.req.param('token');
    const subscriberId = subscriberIdFromLink(services, 'unsubscribe', token);
    const outcome = await unsubscribe(services, subscriberId, requestMeta(c));
    services.log.info('unsubscribe', { requestId: c.get('requestId'), outcome });
    if ((c.req.header('accept') ?? '').includes('application/json')) return c.json({ status: 'unsubscribed' });
    const { preferencesUrl } = subscriberLinks(services, subscriberId, services.now());
    return c.html(
      <UnsubscribedPage bookTitle={services.config.BOOK_TITLE} preferencesUrl={preferencesUrl} resubscribeAction={`${pathFor(token)}/resubscribe`} />,
    );
  });

  app.use('/unsubscribe/:token/resubscribe', async (c, next) =>
    csrf({ origin: new URL(c.get('services').config.PUBLIC_URL).origin })(c, next),
  );

  app.post('/unsubscribe/:token/resubscribe', async (c) => {
    const services = c.get('services');
    const subscriberId = subscriberIdFromLink(services, 'unsubscribe', c.req.param('token'));
    // Form posts only, as the page sends: anything else is a 415.
    await readBody(c, ['form']);
    const outcome = await resubscribe(services, subscriberId, requestMeta(c));
    services.log.info('resubscribe', { requestId: c.get('requestId'), outcome });
    const prefs = await getPreferences(services, subscriberId);
    const { preferencesUrl } = subscriberLinks(services, subscriberId, services.now());
    const bookTitle = services.config.BOOK_TITLE;
    if (prefs.status !== 'active') return c.html(<ResubscribeUnavailablePage bookTitle={bookTitle} preferencesUrl={preferencesUrl} />);
    const topics = prefs.topics.filter((t) => t.subscribed).map((t) => t.name);
    return c.html(<ResubscribedPage bookTitle={bookTitle} preferencesUrl={preferencesUrl} topics={topics} />);
  });
}
