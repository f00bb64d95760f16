/** @jsxImportSource hono/jsx */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { resendConfirmation } from '../../../core/confirm-resend.js';
import { LinkSentPage, ResendConfirmationPage } from '../../../pages/link-request.js';
import { readForm } from '../../body.js';
import type { AppEnv } from '../../env.js';
import { requestMeta } from '../../http.js';
import { isInvalidEmail, LinkRequestForm } from './schema.js';

/** "Send me a new confirmation link". */
export function registerResendConfirmation(app: OpenAPIHono<AppEnv>) {
  app.post('/resend-confirmation', async (c) => {
    const services = c.get('services');
    const { email } = await readForm(c, LinkRequestForm);
    try {
      const outcome = await resendConfirmation(services, email, requestMeta(c));
      services.log.info('confirmation link requested', { requestId: c.get('requestId'), outcome });
    } catch (err) {
      if (isInvalidEmail(err))
        return c.html(
          <ResendConfirmationPage bookTitle={services.config.BOOK_TITLE} error={err.message} value={email} />,
          422,
        );
      throw err;
    }
    return c.html(<LinkSentPage bookTitle={services.config.BOOK_TITLE} what="confirmation" />);
  });
}
