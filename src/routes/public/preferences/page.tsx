/** @jsxImportSource hono/jsx */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { getPreferences } from '../../../core/preferences.js';
import { type PreferenceNotice, PreferencesPage, preferenceNotices } from '../../../pages/preferences.js';
import type { AppEnv } from '../../env.js';
import { htmlResponse, LinkTokenParam, pageError } from '../../schemas.js';
import { preferencesPath, subscriberOf } from './link.js';

const isNotice = (v: string | undefined): v is PreferenceNotice =>
  v !== undefined && Object.hasOwn(preferenceNotices, v);

const route = createRoute({
  method: 'get',
  path: '/preferences/{token}',
  operationId: 'showPreferencesPage',
  tags: ['Pages'],
  summary: 'The preference centre: topics, name, unsubscribe, download or delete my data.',
  security: [],
  request: {
    params: LinkTokenParam,
    query: z.object({
      saved: z.string().optional().openapi({ description: 'The change just made, shown as a notice.' }),
    }),
  },
  responses: {
    200: htmlResponse('The preference centre'),
    404: pageError('A link that does not work, or an erased subscriber'),
    410: pageError('An expired link'),
  },
});

/** The HTML preference centre, with the notice of the change just saved (`?saved=`). */
export function registerPreferencesPage(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const services = c.get('services');
    const { token } = c.req.valid('param');
    const id = subscriberOf(c, token);
    const prefs = await getPreferences(services, id);
    const { saved } = c.req.valid('query');
    c.header('Cache-Control', 'no-store');
    return c.html(
      <PreferencesPage
        bookTitle={services.config.BOOK_TITLE}
        prefs={prefs}
        action={preferencesPath(token)}
        exportUrl={`/v1${preferencesPath(token)}/export`}
        notice={isNotice(saved) ? saved : undefined}
      />,
    );
  });
}
