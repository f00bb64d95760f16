import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../env.js';
import { registerConfirm } from './confirm.js';
import { registerConfirmPage } from './page.js';

export function registerConfirmRoutes(app: OpenAPIHono<AppEnv>) {
  registerConfirmPage(app);
  registerConfirm(app);
}
