import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../env.js';
import { registerGetSignupForm } from './get.js';

export function registerSignupFormRoutes(app: OpenAPIHono<AppEnv>) {
  registerGetSignupForm(app);
}
