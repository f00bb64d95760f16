import type { OpenAPIHono } from '@hono/zod-openapi';
import { PROGRESS_SCRIPT } from '../../../pages/console/broadcast-progress-script.js';
import type { AppEnv } from '../../env.js';

/** GET /assets/console-progress.js: public and static; the figures it fetches are behind the session. */
export function registerProgressScript(app: OpenAPIHono<AppEnv>) {
  app.get('/assets/console-progress.js', (c) => {
    c.header('Cache-Control', 'public, max-age=3600');
    return c.body(PROGRESS_SCRIPT, 200, { 'Content-Type': 'text/javascript; charset=utf-8' });
  });
}
