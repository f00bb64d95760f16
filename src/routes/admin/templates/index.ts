import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../env.js';
import { registerListTemplates } from './list.js';

export function registerAdminTemplateRoutes(app: OpenAPIHono<AppEnv>) {
  registerListTemplates(app);
}
