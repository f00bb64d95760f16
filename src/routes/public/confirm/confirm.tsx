/** @jsxImportSource hono/jsx */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { confirmSubscription } from '../../../core/confirm.js';
import { ConfirmedPage } from '../../../pages/subscriber-pages.js';
import type { AppEnv } from '../../env.js';
import { requestMeta, wantsHtml } from '../../http.js';
import { errorResponse, LinkTokenParam } from '../../schemas.js';
import { linkProblemPage } from './link-problem.js';
import { ConfirmResult } from './schema.js';

const route = createRoute({
  method: 'post',
  operationId: 'confirmSubscription',
  security: [],
  path: '/confirm/{token}',
  tags: ['Public'],
  summary: 'Confirm a subscription (double opt-in). GET shows a page with a button and changes nothing.',
  request: { params: LinkTokenParam },
  responses: {
    200: {
      description: '`{"status":"confirmed"}` or `{"status":"already_confirmed"}` (HTML page for browsers)',
      content: { 'application/json': { schema: ConfirmResult }, 'text/html': { schema: z.string() } },
    },
    404: errorResponse('Unknown token'),
    410: errorResponse('Expired token'),
  },
});

/** The button on the confirmation page posts here; only this confirms. */
export function registerConfirm(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const services = c.get('services');
    const html = wantsHtml(c, c.req.header('content-type')?.includes('json') ? 'json' : 'form');
    let outcome: Awaited<ReturnType<typeof confirmSubscription>>;
    try {
      outcome = await confirmSubscription(services, c.req.valid('param').token, requestMeta(c));
    } catch (err) {
      return linkProblemPage(c, err, html);
    }
    services.log.info('confirm', { requestId: c.get('requestId'), outcome });
    if (html)
      return c.html(<ConfirmedPage bookTitle={services.config.BOOK_TITLE} already={outcome === 'already_confirmed'} />);
    return c.json({ status: outcome }, 200);
  });
}
