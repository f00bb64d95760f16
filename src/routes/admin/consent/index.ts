import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../env.js';
import { registerConsentCheckpoint } from './checkpoint.js';
import { registerVerifyConsent } from './verify.js';
import { registerVerifyAgainstCheckpoints } from './verify-against.js';

export function registerAdminConsentRoutes(app: OpenAPIHono<AppEnv>) {
  registerVerifyConsent(app);
  registerVerifyAgainstCheckpoints(app);
  registerConsentCheckpoint(app);
}
