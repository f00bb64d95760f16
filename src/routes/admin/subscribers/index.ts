import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../env.js';
import { registerEraseSubscriber } from './erase.js';
import { registerExportSubscribers } from './export.js';
import { registerGetSubscriber } from './get.js';
import { registerImportSubscribers } from './import.js';
import { registerListSubscribers } from './list.js';
import { registerOverview } from './overview.js';
import { registerSubscriberStats } from './stats.js';

export function registerAdminSubscriberRoutes(app: OpenAPIHono<AppEnv>) {
  // Before {id}: "import" and "export" are not subscriber ids.
  registerImportSubscribers(app);
  registerExportSubscribers(app);
  registerListSubscribers(app);
  registerGetSubscriber(app);
  registerEraseSubscriber(app);
  registerSubscriberStats(app);
  registerOverview(app);
}
