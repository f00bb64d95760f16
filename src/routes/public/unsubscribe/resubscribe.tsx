/** @jsxImportSource hono/jsx */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { csrf } from 'hono/csrf';
import { subscriberIdFromLink, subscriberLinks } from '../../../core/links.js';
import { getPreferences } from '../../../core/preferences.js';
import { resubscribe } from '../../../core/unsubscribe.js';
import { ResubscribedPage, ResubscribeUnavailablePage } from '../../../pages/subscriber-pages.js';
import { openapiForm } from '../../body.js';
import type { AppEnv } from '../../env.js';
import { readBody, requestMeta } from '../../http.js';
import { formBody, htmlResponse, LinkTokenParam, pageError } from '../../schemas.js';

const route = createRoute({
  method: 'post',
  path: '/unsubscribe/{token}/resubscribe',
  operationId: 'resubscribe',
  tags: ['Pages'],
  summary: 'Resubscribe from the page an unsubscribe answers with (same-origin form posts only).',
  security: [],
  request: { params: LinkTokenParam, body: formBody(z.object({})) },
  responses: {
    200: htmlResponse('Back on the list, or why this link cannot resubscribe'),
    400: pageError('A form body that cannot be read'),
    403: pageError('A post from another site'),
    404: pageError('A link that does not work'),
    410: pageError('An expired link'),
    415: pageError('Not a form post'),
  },
});

/**
 * "Changed your mind? Resubscribe", from the page one-click unsubscribe answers with. Unlike the
 * unsubscribe itself it IS same-origin only: a page elsewhere must not be able to put someone back on the list.
 */
export function registerResubscribe(app: OpenAPIHono<AppEnv>) {
  app.use('/unsubscribe/:token/resubscribe', async (c, next) =>
    csrf({ origin: new URL(c.get('services').config.PUBLIC_URL).origin })(c, next),
  );

  openapiForm(app, route, async (c) => {
    const services = c.get('services');
    const subscriberId = subscriberIdFromLink(services, 'unsubscribe', c.req.param('token'));
    // Form posts only, as the page sends: anything else is a 415.
    await readBody(c, ['form']);
    const outcome = await resubscribe(services, subscriberId, requestMeta(c));
    services.log.info('resubscribe', { requestId: c.get('requestId'), outcome });
    const prefs = await getPreferences(services, subscriberId);
    const { preferencesUrl } = subscriberLinks(services, subscriberId, services.now());
    const bookTitle = services.config.BOOK_TITLE;
    if (prefs.status !== 'active')
      return c.html(<ResubscribeUnavailablePage bookTitle={bookTitle} preferencesUrl={preferencesUrl} />);
    const topics = prefs.topics.filter((t) => t.subscribed).map((t) => t.name);
    return c.html(<ResubscribedPage bookTitle={bookTitle} preferencesUrl={preferencesUrl} topics={topics} />);
  });
}
