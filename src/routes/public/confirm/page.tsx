/** @jsxImportSource hono/jsx */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { inspectConfirmToken } from '../../../core/confirm.js';
import { ConfirmLinkProblemPage, ConfirmLinkUsedPage, ConfirmPage } from '../../../pages/subscriber-pages.js';
import type { AppEnv } from '../../env.js';
import { wantsHtml } from '../../http.js';
import { htmlResponse, LinkTokenParam, pageError } from '../../schemas.js';
import { linkProblemPage } from './link-problem.js';

const route = createRoute({
  method: 'get',
  path: '/confirm/{token}',
  operationId: 'showConfirmPage',
  tags: ['Pages'],
  summary: 'The confirmation link’s page: a button that confirms. Opening it changes nothing.',
  security: [],
  request: { params: LinkTokenParam },
  responses: {
    200: htmlResponse('The page with the button, or “already used” for a link that has done its job'),
    404: pageError('A link that does not work, with a form for a new one'),
    410: pageError('An expired link, with a form for a new one'),
  },
});

/** The confirmation link's page: a button that posts. GET never changes state: link scanners prefetch it. */
export function registerConfirmPage(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const services = c.get('services');
    const { token } = c.req.valid('param');
    const bookTitle = services.config.BOOK_TITLE;
    let state: Awaited<ReturnType<typeof inspectConfirmToken>>;
    try {
      state = await inspectConfirmToken(services, token);
    } catch (err) {
      return linkProblemPage(c, err, wantsHtml(c));
    }
    if (state === 'used') return c.html(<ConfirmLinkUsedPage bookTitle={bookTitle} />);
    if (state === 'expired') return c.html(<ConfirmLinkProblemPage bookTitle={bookTitle} reason="expired" />, 410);
    return c.html(<ConfirmPage bookTitle={bookTitle} action={`/confirm/${encodeURIComponent(token)}`} />);
  });
}
