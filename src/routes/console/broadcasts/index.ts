import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../env.js';
import { registerComposeScript } from './compose-script.js';
import { registerBroadcastControl } from './control.js';
import { registerCreateBroadcast } from './create.js';
import { registerBroadcastList } from './list.js';
import { registerNewBroadcast } from './new.js';
import { registerSavedPreview } from './preview.js';
import { registerLivePreview } from './preview-live.js';
import { registerBroadcastProgress } from './progress.js';
import { registerProgressScript } from './progress-script.js';
import { registerSend } from './send.js';
import { registerSendPage } from './send-page.js';
import { registerBroadcastPage } from './show.js';
import { registerUpdateBroadcast } from './update.js';

/** The author's broadcasts: list, compose with live preview, test send, send with confirmation, progress, report. */
export function registerConsoleBroadcastRoutes(app: OpenAPIHono<AppEnv>) {
  registerComposeScript(app);
  registerProgressScript(app);
  registerBroadcastList(app);
  registerNewBroadcast(app);
  registerLivePreview(app);
  registerCreateBroadcast(app);
  registerBroadcastPage(app);
  registerUpdateBroadcast(app);
  registerSavedPreview(app);
  registerSendPage(app);
  registerSend(app);
  registerBroadcastControl(app);
  registerBroadcastProgress(app);
}
