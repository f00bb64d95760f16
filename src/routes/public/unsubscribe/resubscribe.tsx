/** @jsxImportSource hono/jsx */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { csrf } from 'hono/csrf';
import { subscriberIdFromLink, subscriberLinks } from '../../../core/links.js';
import { getPreferences } from '../../../core/preferences.js';
import { resubscribe } from '../../../core/unsubscribe.js';
import { ResubscribedPage, ResubscribeUnavailablePage } from '../../../pages/subscriber-pages.js';
import type { AppEnv } from '../../env.js';
import { readBody, requestMeta } from '../../http.js';

/**
 * "Changed your mind? Resubscribe", from the page one-click unsubscribe answers with. Unlike the
 * unsubscribe itself it IS same-origin only: a page elsewhere must not be able to put someone back on the list.
 */
export function registerResubscribe(app: OpenAPIHono<AppEnv>) {
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
    if (prefs.status !== 'active')
      return c.html(<ResubscribeUnavailablePage bookTitle={bookTitle} preferencesUrl={preferencesUrl} />);
    const topics = prefs.topics.filter((t) => t.subscribed).map((t) => t.name);
    return c.html(<ResubscribedPage bookTitle={bookTitle} preferencesUrl={preferencesUrl} topics={topics} />);
  });
}
