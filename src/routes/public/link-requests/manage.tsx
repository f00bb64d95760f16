/** @jsxImportSource hono/jsx */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { requestPreferencesLink } from '../../../core/manage.js';
import { LinkSentPage, ManagePage } from '../../../pages/link-request.js';
import { readForm } from '../../body.js';
import type { AppEnv } from '../../env.js';
import { requestMeta } from '../../http.js';
import { isInvalidEmail, LinkRequestForm } from './schema.js';

/** "Manage my subscription": a fresh preferences link by email. */
export function registerManage(app: OpenAPIHono<AppEnv>) {
  app.post('/manage', async (c) => {
    const services = c.get('services');
    const { email } = await readForm(c, LinkRequestForm);
    try {
      const outcome = await requestPreferencesLink(services, email, requestMeta(c));
      services.log.info('preferences link requested', { requestId: c.get('requestId'), outcome });
    } catch (err) {
      if (isInvalidEmail(err))
        return c.html(<ManagePage bookTitle={services.config.BOOK_TITLE} error={err.message} value={email} />, 422);
      throw err;
    }
    return c.html(<LinkSentPage bookTitle={services.config.BOOK_TITLE} what="preferences" />);
  });
}
