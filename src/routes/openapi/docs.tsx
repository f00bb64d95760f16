/** @jsxImportSource hono/jsx */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { ApiReferencePage } from '../../pages/api-reference.js';
import type { AppEnv } from '../env.js';
import { openApiDocument } from './document.js';

/** GET /docs: the API reference, rendered on the server from the document (no CDN, no script). */
export function registerApiReference(app: OpenAPIHono<AppEnv>) {
  app.get('/docs', (c) => {
    const { config } = c.get('services');
    return c.html(<ApiReferencePage doc={openApiDocument(app, config.PUBLIC_URL)} bookTitle={config.BOOK_TITLE} />);
  });
}
