/** @jsxImportSource hono/jsx */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { csrf } from 'hono/csrf';
import { resendConfirmation } from '../../core/confirm-resend.js';
import { AppError } from '../../core/errors.js';
import { requestPreferencesLink } from '../../core/manage.js';
import { LinkSentPage, ManagePage, ResendConfirmationPage } from '../../pages/link-request.js';
import type { AppContext, AppEnv } from '../env.js';
import { readBody, requestMeta } from '../http.js';

/**
 * Pages where someone types an address to get a link by email: "manage my subscription" (a fresh
 * preferences link) and "send me a new confirmation link". The answer is the same whatever the
 * address; the core rate-limits every attempt. Only our own pages may post here.
 */
export function registerLinkRequestRoutes(app: OpenAPIHono<AppEnv>) {
  for (const path of ['/manage', '/resend-confirmation']) {
    app.use(path, async (c, next) => csrf({ origin: new URL(c.get('services').config.PUBLIC_URL).origin })(c, next));
  }

  app.get('/manage', (c) => c.html(<ManagePage bookTitle={c.get('services').config.BOOK_TITLE} />));
  app.get('/resend-confirmation', (c) => c.html(<ResendConfirmationPage bookTitle={c.get('services').config.BOOK_TITLE} />));

  app.post('/manage', async (c) => {
    const services = c.get('services');
    const email = await emailField(c);
    try {
      const outcome = await requestPreferencesLink(services, email, requestMeta(c));
      services.log.info('preferences link requested', { requestId: c.get('requestId'), outcome });
    } catch (err) {
      if (isInvalidEmail(err)) return c.html(<ManagePage bookTitle={services.config.BOOK_TITLE} error={err.message} value={email} />, 422);
      throw err;
    }
    return c.html(<LinkSentPage bookTitle={services.config.BOOK_TITLE} what="preferences" />);
  });

  app.post('/resend-confirmation', async (c) => {
    const services = c.get('services');
    const email = await emailField(c);
    try {
      const outcome = await resendConfirmation(services, email, requestMeta(c));
      services.log.info('confirmation link requested', { requestId: c.get('requestId'), outcome });
    } catch (err) {
      if (isInvalidEmail(err)) return c.html(<ResendConfirmationPage bookTitle={services.config.BOOK_TITLE} error={err.message} value={email} />, 422);
      throw err;
    }
    return c.html(<LinkSentPage bookTitle={services.config.BOOK_TITLE} what="confirmation" />);
  });
}

async function emailField(c: AppContext): Promise<string> {
  const { data } = await readBody(c, ['form']);
  const email = data.email;
  return typeof email === 'string' ? email.slice(0, 1000) : '';
}

const isInvalidEmail = (err: unknown): err is AppError => err instanceof AppError && err.code === 'invalid_email';
