import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../env.js';
import { registerPreviewList } from './list.js';
import { registerPreviewTemplate } from './template.js';

/** Email previews in the browser; on a development server they need no token (src/routes/admin/auth.ts). */
export function registerAdminPreviewRoutes(app: OpenAPIHono<AppEnv>) {
  registerPreviewList(app);
  registerPreviewTemplate(app);
}
