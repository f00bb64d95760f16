import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../env.js';
import { registerOverviewPage } from './page.js';
import { registerVerifyLedger } from './verify-ledger.js';

export function registerConsoleOverviewRoutes(app: OpenAPIHono<AppEnv>) {
  registerOverviewPage(app);
  registerVerifyLedger(app);
}
