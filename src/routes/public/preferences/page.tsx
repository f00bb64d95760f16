/** @jsxImportSource hono/jsx */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { getPreferences } from '../../../core/preferences.js';
import { type PreferenceNotice, PreferencesPage, preferenceNotices } from '../../../pages/preferences.js';
import type { AppEnv } from '../../env.js';
import { preferencesPath, subscriberOf } from './link.js';

const isNotice = (v: string | undefined): v is PreferenceNotice =>
  v !== undefined && Object.hasOwn(preferenceNotices, v);

/** The HTML preference centre, with the notice of the change just saved (`?saved=`). */
export function registerPreferencesPage(app: OpenAPIHono<AppEnv>) {
  app.get('/preferences/:token', async (c) => {
    const services = c.get('services');
    const token = c.req.param('token');
    const id = subscriberOf(c, token);
    const prefs = await getPreferences(services, id);
    const saved = c.req.query('saved');
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
