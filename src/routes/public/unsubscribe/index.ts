import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../env.js';
import { registerOneClickUnsubscribe } from './one-click.js';
import { registerUnsubscribePage } from './page.js';
import { registerResubscribe } from './resubscribe.js';

export function registerUnsubscribeRoutes(app: OpenAPIHono<AppEnv>) {
  registerUnsubscribePage(app);
  registerOneClickUnsubscribe(app);
  registerResubscribe(app);
}
