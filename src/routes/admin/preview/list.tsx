/** @jsxImportSource hono/jsx */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { templates } from '../../../../emails/index.js';
import { Page } from '../../../pages/layout.js';
import type { AppEnv } from '../../env.js';

/** Every template in the registry (emails/index.ts), each linked to its preview. */
export function registerPreviewList(app: OpenAPIHono<AppEnv>) {
  app.get('/admin/preview', (c) => {
    const bookTitle = c.get('services').config.BOOK_TITLE;
    return c.html(
      <Page title="Email previews" bookTitle={bookTitle} kicker="Email previews" wide>
        <h1>Email templates</h1>
        <p>Each template rendered with its example props.</p>
        <ul class="mail-list">
          {Object.values(templates).map((t) => (
            <li key={t.name}>
              <a href={`/admin/preview/${encodeURIComponent(t.name)}`}>{t.name}</a> (
              <a href={`/admin/preview/${encodeURIComponent(t.name)}?format=text`}>text</a>)
              <span class="meta">
                {t.kind} — {t.description}
              </span>
            </li>
          ))}
        </ul>
      </Page>,
    );
  });
}
