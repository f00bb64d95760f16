/** @jsxImportSource hono/jsx */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { previewContext } from '../../../emails/_components/broadcast-context';
import { templates } from '../../../emails/index';
import { AppError } from '../../core/errors.js';
import { renderEmail } from '../../mail/render.js';
import { Page } from '../../pages/layout.js';
import { EMAIL_CSP, setCsp } from '../csp.js';
import type { AppEnv } from '../env.js';
import { requireAdmin } from './auth.js';

const isPreviewPath = (path: string) => path === '/admin/preview' || path.startsWith('/admin/preview/');

/**
 * All of /admin needs the Bearer token, except the email previews on a development server, so the
 * author can open them in a browser (which cannot send a Bearer header from a link).
 */
export const requireAdminUnlessDevPreview: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (c.get('services').config.NODE_ENV === 'development' && isPreviewPath(c.req.path)) return next();
  return requireAdmin(c, next);
};

/**
 * `/admin/preview/:template`: every template in the registry (emails/index.ts) rendered with its
 * preview props — HTML, or `?format=text` for the text part. Broadcast templates get sample recipient
 * values and this server's book title and postal address.
 */
export function registerAdminPreviewRoutes(app: OpenAPIHono<AppEnv>) {
  app.get('/admin/preview', (c) => {
    const bookTitle = c.get('services').config.BOOK_TITLE;
    return c.html(
      <Page title="Email previews" bookTitle={bookTitle} kicker="Email previews" wide>
        <h1>Email templates</h1>
        <p>Each template rendered with its example props.</p>
        <ul class="mail-list">
          {Object.values(templates).map((t) => (
            <li>
              <a href={`/admin/preview/${encodeURIComponent(t.name)}`}>{t.name}</a> (<a href={`/admin/preview/${encodeURIComponent(t.name)}?format=text`}>text</a>)
              <span class="meta">
                {t.kind} — {t.description}
              </span>
            </li>
          ))}
        </ul>
      </Page>,
    );
  });

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
