import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../env.js';
import { registerEraseAction } from './erase.js';
import { registerErasePage } from './erase-page.js';
import { registerSubscriberList } from './list.js';
import { registerResendConfirmationAction } from './resend-confirmation.js';
import { registerSubscriberPage } from './show.js';
import { registerUnsubscribeAction } from './unsubscribe.js';

export function registerConsoleSubscriberRoutes(app: OpenAPIHono<AppEnv>) {
  registerSubscriberList(app);
  registerSubscriberPage(app);
  registerResendConfirmationAction(app);
  registerUnsubscribeAction(app);
  registerErasePage(app);
  registerEraseAction(app);
}
