import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../env.js';
import { registerVerifyConsent } from './verify.js';

export function registerAdminConsentRoutes(app: OpenAPIHono<AppEnv>) {
  registerVerifyConsent(app);
}
