import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../env.js';
import { registerCreateSubscription } from './create.js';

export function registerSubscriptionRoutes(app: OpenAPIHono<AppEnv>) {
  registerCreateSubscription(app);
}
