import type { OpenAPIHono } from '@hono/zod-openapi';
import { getBroadcastRow } from '../../../core/broadcasts.js';
import type { AppEnv } from '../../env.js';
import { consoleGuard } from '../auth/guard.js';
import { ID } from './ids.js';
import { previewResponse, renderBroadcastPreview } from './render-preview.js';

/** GET /admin/broadcasts/:id/preview?format=html|text: the saved broadcast, for a preview frame. */
export function registerSavedPreview(app: OpenAPIHono<AppEnv>) {
  app.get(`/admin/broadcasts/:id${ID}/preview`, consoleGuard, async (c) => {
    const s = c.get('services');
    const b = await getBroadcastRow(s.db, c.req.param('id'));
    return previewResponse(c, await renderBroadcastPreview(s, b), c.req.query('format') === 'text' ? 'text' : 'html');
  });
}
