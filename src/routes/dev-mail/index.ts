import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../env.js';
import { registerDevMailFrameScript } from './frame-script.js';
import { registerDevMailHtml } from './html.js';
import { registerDevMailList } from './list.js';
import { registerDevMailRaw } from './raw.js';
import { registerDevMailView } from './view.js';

/** Development only: the mail the capture transport kept, so a newcomer can click a confirmation link. */
export function registerDevMailRoutes(app: OpenAPIHono<AppEnv>) {
  registerDevMailList(app);
  registerDevMailView(app);
  registerDevMailHtml(app);
  registerDevMailRaw(app);
  registerDevMailFrameScript(app);
}
