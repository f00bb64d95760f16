import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../env.js';
import { clearSessionCookie, consoleGuard } from './guard.js';

/**
 * POST /admin/logout: forget the session in this browser. The cookie is signed, not stored, so a copy
 * taken before would still work until it expires; changing ADMIN_TOKEN ends every session at once.
 */
export function registerSignOut(app: OpenAPIHono<AppEnv>) {
  app.post('/admin/logout', consoleGuard, (c) => {
    clearSessionCookie(c);
    return c.redirect('/admin/login?signed_out', 303);
  });
}
