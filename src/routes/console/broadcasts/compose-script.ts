import type { OpenAPIHono } from '@hono/zod-openapi';
import { COMPOSE_SCRIPT } from '../../../pages/console/compose-script.js';
import type { AppEnv } from '../../env.js';

/** GET /assets/console-compose.js: public and static, like the stylesheet; the pages it helps are not. */
export function registerComposeScript(app: OpenAPIHono<AppEnv>) {
  app.get('/assets/console-compose.js', (c) => {
    c.header('Cache-Control', 'public, max-age=3600');
    return c.body(COMPOSE_SCRIPT, 200, { 'Content-Type': 'text/javascript; charset=utf-8' });
  });
}
