import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../env.js';
import { registerIngestBounce } from './ingest.js';

export function registerAdminBounceRoutes(app: OpenAPIHono<AppEnv>) {
  registerIngestBounce(app);
}
