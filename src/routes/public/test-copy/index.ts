import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../env.js';
import { registerTestCopyOneClick } from './one-click.js';
import { registerTestCopyPage } from './page.js';

/** Where a broadcast's test copy sends its subscriber links (src/delivery/composers/broadcast.ts). */
export function registerTestCopyRoutes(app: OpenAPIHono<AppEnv>) {
  registerTestCopyPage(app);
  registerTestCopyOneClick(app);
}
