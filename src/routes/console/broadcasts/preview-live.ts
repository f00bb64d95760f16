import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../env.js';
import { consoleGuard } from '../auth/guard.js';
import { readComposeForm } from './compose-form.js';
import { previewProblems, previewResponse, renderBroadcastPreview } from './render-preview.js';

/**
 * POST /admin/broadcasts/preview?format=html|text: the compose form as it is now, unsaved, rendered into
 * the preview frame the compose script posted it to. Nothing is stored.
 */
export function registerLivePreview(app: OpenAPIHono<AppEnv>) {
  app.post('/admin/broadcasts/preview', consoleGuard, async (c) => {
    const read = await readComposeForm(c);
    // The subject is not part of the body: only the props stand between the form and a preview.
    if (!read.checkedProps) return previewProblems(c, read.ok ? [] : read.errors.filter((e) => e.path !== 'subject'));
    const out = await renderBroadcastPreview(c.get('services'), { ...read.draft, props: read.checkedProps });
    return previewResponse(c, out, c.req.query('format') === 'text' ? 'text' : 'html');
  });
}
