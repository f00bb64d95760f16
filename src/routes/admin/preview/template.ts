import type { OpenAPIHono } from '@hono/zod-openapi';
import { previewContext } from '../../../../emails/_components/broadcast-context.js';
import { templates } from '../../../../emails/index.js';
import { AppError } from '../../../core/errors.js';
import { renderEmail } from '../../../mail/render.js';
import { EMAIL_CSP, setCsp } from '../../csp.js';
import type { AppEnv } from '../../env.js';

/**
 * `/admin/preview/:template`: the template rendered with its preview props — HTML, or `?format=text`
 * for the text part. Broadcast templates get sample recipient values and this server's book title and
 * postal address.
 */
export function registerPreviewTemplate(app: OpenAPIHono<AppEnv>) {
  app.get('/admin/preview/:template', async (c) => {
    const { config } = c.get('services');
    const name = c.req.param('template');
    const def = Object.hasOwn(templates, name) ? templates[name] : undefined;
    if (!def) throw new AppError('not_found', `No template named "${name.slice(0, 60)}".`);
    const ctx = { ...previewContext, bookTitle: config.BOOK_TITLE, postalAddress: config.POSTAL_ADDRESS };
    const { html, text } = await renderEmail(def.element(def.previewProps, ctx));
    c.header('Cache-Control', 'no-store');
    if (c.req.query('format') === 'text') return c.body(text, 200, { 'Content-Type': 'text/plain; charset=utf-8' });
    setCsp(c, EMAIL_CSP);
    return c.html(html);
  });
}
