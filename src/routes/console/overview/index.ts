import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../env.js';
import { registerOverviewPage } from './page.js';

export function registerConsoleOverviewRoutes(app: OpenAPIHono<AppEnv>) {
  registerOverviewPage(app);
}
