import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../env.js';
import { registerLoginPage } from './login-page.js';
import { registerSignIn } from './sign-in.js';
import { registerSignOut } from './sign-out.js';

export function registerConsoleAuthRoutes(app: OpenAPIHono<AppEnv>) {
  registerLoginPage(app);
  registerSignIn(app);
  registerSignOut(app);
}
