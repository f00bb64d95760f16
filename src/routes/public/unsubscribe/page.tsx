/** @jsxImportSource hono/jsx */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { subscriberIdFromLink, subscriberLinks } from '../../../core/links.js';
import { UnsubscribePage } from '../../../pages/subscriber-pages.js';
import type { AppEnv } from '../../env.js';
import { unsubscribePath } from './link.js';

/** The page the link in a mail's footer opens: a button that posts the one-click form. GET changes nothing. */
export function registerUnsubscribePage(app: OpenAPIHono<AppEnv>) {
  app.get('/unsubscribe/:token', (c) => {
    const services = c.get('services');
    const token = c.req.param('token');
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
