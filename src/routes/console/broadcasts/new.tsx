/** @jsxImportSource hono/jsx */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { templates } from '../../../../emails/index.js';
import { TemplatePickerPage } from '../../../pages/console/broadcasts.js';
import type { AppEnv } from '../../env.js';
import { consoleGuard, consoleSession } from '../auth/guard.js';
import { composePage } from './compose-page.js';

const broadcastTemplates = () => Object.values(templates).filter((t) => t.kind === 'broadcast');

/** GET /admin/broadcasts/new: pick a template, then an empty form generated from its props schema. */
export function registerNewBroadcast(app: OpenAPIHono<AppEnv>) {
  app.get('/admin/broadcasts/new', consoleGuard, async (c) => {
    const s = c.get('services');
    const name = c.req.query('template');
    const def = broadcastTemplates().find((t) => t.name === name);
    if (!def)
      return c.html(
        <TemplatePickerPage
          bookTitle={s.config.BOOK_TITLE}
          csrf={consoleSession(c).csrf}
          templates={broadcastTemplates().map((t) => ({ name: t.name, description: t.description }))}
        />,
      );
    // The release goes to the release topic, an update to updates, when those exist.
    const topic = def.name.startsWith('release') ? 'release' : 'updates';
    return composePage(c, {
      draft: { template: def.name, topic, subject: '', preheader: '', props: {}, values: {} },
    });
  });
}
