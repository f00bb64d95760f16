import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../env.js';
import { registerConsoleAuthRoutes } from './auth/index.js';
import { registerConsoleBroadcastRoutes } from './broadcasts/index.js';
import { registerConsoleListRoutes } from './lists/index.js';
import { registerConsoleNotFound } from './not-found.js';
import { registerConsoleOverviewRoutes } from './overview/index.js';
import { registerConsoleSubscriberRoutes } from './subscribers/index.js';

/**
 * The author's console at /admin (the JSON API stays at /admin/v1). app.tsx registers this before the
 * admin API's Bearer check, which these routes never reach: they sign in with a session instead
 * (auth/guard.ts). One line per area; src/pages/console/layout.tsx says how to add one.
 */
export function registerConsoleRoutes(app: OpenAPIHono<AppEnv>) {
  registerConsoleAuthRoutes(app);
  registerConsoleOverviewRoutes(app);
  registerConsoleSubscriberRoutes(app);
  registerConsoleBroadcastRoutes(app);
  registerConsoleListRoutes(app);
  // Last: only what no console route answered.
  registerConsoleNotFound(app);
}
