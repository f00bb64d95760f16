import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { previewContext } from '../../../../emails/_components/broadcast-context.js';
import { broadcastTemplate, getBroadcastRow } from '../../../core/broadcasts.js';
import { personalise, renderOnce } from '../../../mail/personalise.js';
import type { AppEnv } from '../../env.js';
import { adminSecurity, IdParam } from '../schema.js';
import { broadcastErrors } from './schema.js';

const route = createRoute({
  method: 'get',
  operationId: 'previewBroadcast',
  summary: 'The broadcast rendered as HTML or text, with example recipient values.',
  path: '/admin/v1/broadcasts/{id}/preview',
  tags: ['Broadcasts'],
  security: adminSecurity,
  request: { params: IdParam, query: z.object({ format: z.enum(['html', 'text']).default('html') }) },
  responses: {
    200: {
      description: 'The rendered email, with example recipient values',
      content: { 'text/html': { schema: z.string() }, 'text/plain': { schema: z.string() } },
    },
    ...broadcastErrors,
  },
});

export function registerPreviewBroadcast(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const s = c.get('services');
    const b = await getBroadcastRow(s.db, c.req.valid('param').id);
    const once = await renderOnce(broadcastTemplate(b.template), b.props, {
      preheader: b.preheader,
      lang: 'en',
      bookTitle: s.config.BOOK_TITLE,
      postalAddress: s.config.POSTAL_ADDRESS,
    });
    const out = personalise(once, previewContext.recipient);
    if (c.req.valid('query').format === 'text') return c.text(out.text, 200);
    // The preview is the author's own content; render it as a document with no scripts allowed.
    c.header('Content-Security-Policy', "default-src 'none'; img-src * data:; style-src 'unsafe-inline'");
    return c.html(out.html, 200);
  });
}
