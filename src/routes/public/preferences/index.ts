import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../env.js';
import { registerErasePreferences } from './erase.js';
import { registerExportPreferences } from './export.js';
import { registerGetPreferences } from './get.js';
import { registerPreferencesPage } from './page.js';
import { registerPreferencesPageSubmit } from './page-submit.js';
import { registerUpdatePreferences } from './update.js';

/** The preference centre: the JSON API under /v1/preferences and the HTML page under /preferences. */
export function registerPreferencesRoutes(app: OpenAPIHono<AppEnv>) {
  registerGetPreferences(app);
  registerUpdatePreferences(app);
  registerExportPreferences(app);
  registerErasePreferences(app);
  // First: it registers the CSRF check for /preferences/:token, which then stands before the page too.
  registerPreferencesPageSubmit(app);
  registerPreferencesPage(app);
}
