import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../env.js';
import { registerBroadcastAudience } from './audience.js';
import { registerCancelBroadcast } from './cancel.js';
import { registerCreateBroadcast } from './create.js';
import { registerGetBroadcast } from './get.js';
import { registerListBroadcasts } from './list.js';
import { registerPauseBroadcast } from './pause.js';
import { registerPreviewBroadcast } from './preview.js';
import { registerResumeBroadcast } from './resume.js';
import { registerRetryFailedBroadcast } from './retry-failed.js';
import { registerSendBroadcast } from './send.js';
import { registerTestBroadcast } from './test.js';

/** The author's broadcast API: draft → preview → test → send now or later, then pause/resume/cancel. */
export function registerAdminBroadcastRoutes(app: OpenAPIHono<AppEnv>) {
  registerCreateBroadcast(app);
  registerListBroadcasts(app);
  registerGetBroadcast(app);
  registerPreviewBroadcast(app);
  registerBroadcastAudience(app);
  registerTestBroadcast(app);
  registerSendBroadcast(app);
  registerPauseBroadcast(app);
  registerResumeBroadcast(app);
  registerCancelBroadcast(app);
  registerRetryFailedBroadcast(app);
}
