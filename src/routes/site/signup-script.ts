import type { OpenAPIHono } from '@hono/zod-openapi';
import { SIGNUP_SCRIPT } from '../../pages/signup-script.js';
import type { AppEnv } from '../env.js';

export function registerSignupScript(app: OpenAPIHono<AppEnv>) {
  app.get('/assets/signup.js', (c) => {
    c.header('Cache-Control', 'public, max-age=3600');
    // Authors' sites load it from here, so it may be fetched cross-origin (it is public and static).
    c.header('Cross-Origin-Resource-Policy', 'cross-origin');
    return c.body(SIGNUP_SCRIPT, 200, { 'Content-Type': 'text/javascript; charset=utf-8' });
  });
}
