import type { OpenAPIHono } from '@hono/zod-openapi';
import { STYLESHEET } from '../../pages/stylesheet.js';
import type { AppEnv } from '../env.js';

export function registerStylesheet(app: OpenAPIHono<AppEnv>) {
  app.get('/assets/quire.css', (c) => {
    c.header('Cache-Control', 'public, max-age=3600');
    return c.body(STYLESHEET, 200, { 'Content-Type': 'text/css; charset=utf-8' });
  });
}
