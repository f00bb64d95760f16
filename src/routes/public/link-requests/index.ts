import type { OpenAPIHono } from '@hono/zod-openapi';
import { csrf } from 'hono/csrf';
import type { AppEnv } from '../../env.js';
import { registerManage } from './manage.js';
import { registerManagePage } from './manage-page.js';
import { registerResendConfirmation } from './resend-confirmation.js';
import { registerResendConfirmationPage } from './resend-confirmation-page.js';

/**
 * Pages where someone types an address to get a link by email: "manage my subscription" (a fresh
 * preferences link) and "send me a new confirmation link". The answer is the same whatever the
 * address; the core rate-limits every attempt. Only our own pages may post here.
 */
export function registerLinkRequestRoutes(app: OpenAPIHono<AppEnv>) {
  for (const path of ['/manage', '/resend-confirmation']) {
    app.use(path, async (c, next) => csrf({ origin: new URL(c.get('services').config.PUBLIC_URL).origin })(c, next));
  }
  registerManagePage(app);
  registerResendConfirmationPage(app);
  registerManage(app);
  registerResendConfirmation(app);
}
