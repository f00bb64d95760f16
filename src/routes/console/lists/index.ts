import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../env.js';
import { registerImportCommit } from './commit.js';
import { registerConsoleExport } from './export.js';
import { registerImportPage } from './page.js';
import { registerImportPreview } from './preview.js';

/** Import (checked before it is committed) and export of the list. */
export function registerConsoleListRoutes(app: OpenAPIHono<AppEnv>) {
  registerImportPage(app);
  registerImportPreview(app);
  registerImportCommit(app);
  registerConsoleExport(app);
}
