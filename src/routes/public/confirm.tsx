/** @jsxImportSource hono/jsx */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { confirmSubscription, inspectConfirmToken } from '../../core/confirm.js';
import { ConfirmedPage, ConfirmPage, ErrorPage } from '../../pages/subscriber-pages.js';
import type { AppEnv } from '../env.js';
import { requestMeta, wantsHtml } from '../http.js';
import { errorResponse, TokenParam } from '../schemas.js';

export function registerConfirmRoutes(app: OpenAPIHono<AppEnv>) {
  app.openAPIRegistry.registerPath({
    method: 'post',
    path: '/confirm/{token}',
    tags: ['Public'],
    summary: 'Confirm a subscription (double opt-in). GET shows a page with a button and changes nothing.',
    request: { params: TokenParam },
    responses: {
      200: { description: '`{"status":"confirmed"}` or `{"status":"already_confirmed"}` (HTML page for browsers)' },
      404: errorResponse('Unknown token'),
      410: errorResponse('Expired token'),
    },
  });

  // GET never changes state: link scanners prefetch it.
  app.get('/confirm/:token', async (c) => {
    const services = c.get('services');
    const token = c.req.param('token');
    const state = await inspectConfirmToken(services, token);
    const bookTitle = services.config.BOOK_TITLE;
    if (state === 'used') return c.html(<ConfirmedPage bookTitle={bookTitle} already />);
    if (state === 'expired') {
      return c.html(<ErrorPage bookTitle={bookTitle} title="This link has expired" message="Confirmation links work for 48 hours. Please sign up again to get a new one." />, 410);
    }
    return c.html(<ConfirmPage bookTitle={bookTitle} action={`/confirm/${encodeURIComponent(token)}`} />);
  });

  app.post('/confirm/:token', async (c) => {
    const services = c.get('services');
    const outcome = await confirmSubscription(services, c.req.param('token'), requestMeta(c));
    services.log.info('confirm', { requestId: c.get('requestId'), outcome });
    if (wantsHtml(c, c.req.header('content-type')?.includes('json') ? 'json' : 'form')) {
      return c.html(<ConfirmedPage bookTitle={services.config.BOOK_TITLE} already={outcome === 'already_confirmed'} />);
    }
    return c.json({ status: outcome });
  });
}
