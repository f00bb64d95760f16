/** @jsxImportSource hono/jsx */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { inspectConfirmToken } from '../../../core/confirm.js';
import { ConfirmLinkProblemPage, ConfirmLinkUsedPage, ConfirmPage } from '../../../pages/subscriber-pages.js';
import type { AppEnv } from '../../env.js';
import { wantsHtml } from '../../http.js';
import { linkProblemPage } from './link-problem.js';

/** The confirmation link's page: a button that posts. GET never changes state: link scanners prefetch it. */
export function registerConfirmPage(app: OpenAPIHono<AppEnv>) {
  app.get('/confirm/:token', async (c) => {
    const services = c.get('services');
    const token = c.req.param('token');
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
