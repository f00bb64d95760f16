/** @jsxImportSource hono/jsx */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { confirmSubscription, inspectConfirmToken } from '../../core/confirm.js';
import { AppError } from '../../core/errors.js';
import { ConfirmedPage, ConfirmLinkProblemPage, ConfirmLinkUsedPage, ConfirmPage } from '../../pages/subscriber-pages.js';
import type { AppContext, AppEnv } from '../env.js';
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

  app.post('/confirm/:token', async (c) => {
    const services = c.get('services');
    const html = wantsHtml(c, c.req.header('content-type')?.includes('json') ? 'json' : 'form');
    let outcome: Awaited<ReturnType<typeof confirmSubscription>>;
    try {
      outcome = await confirmSubscription(services, c.req.param('token'), requestMeta(c));
    } catch (err) {
      return linkProblemPage(c, err, html);
    }
    services.log.info('confirm', { requestId: c.get('requestId'), outcome });
    if (html) return c.html(<ConfirmedPage bookTitle={services.config.BOOK_TITLE} already={outcome === 'already_confirmed'} />);
    return c.json({ status: outcome });
  });
}

/** A browser with a broken or expired link gets an explanation and a way to a fresh one; scripts get the envelope. */
function linkProblemPage(c: AppContext, err: unknown, html: boolean) {
  if (!html || !(err instanceof AppError)) throw err;
  const bookTitle = c.get('services').config.BOOK_TITLE;
  if (err.code === 'token_expired') return c.html(<ConfirmLinkProblemPage bookTitle={bookTitle} reason="expired" />, 410);
  if (err.code === 'invalid_token') return c.html(<ConfirmLinkProblemPage bookTitle={bookTitle} reason="invalid" />, 404);
  throw err;
}
