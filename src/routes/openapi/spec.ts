import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../env.js';
import { openApiDocument } from './document.js';

/** GET /openapi.json: the document, with this server's PUBLIC_URL as its server. */
export function registerOpenApiSpec(app: OpenAPIHono<AppEnv>) {
  app.get('/openapi.json', (c) => {
    c.header('Cache-Control', 'no-cache');
    return c.json(openApiDocument(app, c.get('services').config.PUBLIC_URL));
  });
}
